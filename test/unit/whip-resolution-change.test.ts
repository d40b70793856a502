/**
 * Issue 24.3 at the ingest level, deterministic: RTP from a WHIP publisher whose resolution
 * changes (new SPS with an IDR, and new parameter sets that arrive before their IDR) goes
 * through the real TrackIngest → H264Normalizer → PublisherRegistry → relay. After every RTP
 * packet, the point where a viewer could join must be consistent: the newest catalog describes
 * the newest video group, whose first frame is an IDR carrying exactly those parameter sets.
 */
import { RtpHeader, RtpPacket } from 'werift';
import { describe, expect, it } from 'vitest';
import { H264Normalizer } from '../../adapters/ingest/whip/h264-normalizer.ts';
import { KeyframeRequester } from '../../adapters/ingest/whip/keyframe-requester.ts';
import { RecurringLog, silentLogger } from '../../adapters/ingest/whip/logger.ts';
import { SessionTimeline, TrackClock } from '../../adapters/ingest/whip/media-clock.ts';
import { RtpFrameAssembler } from '../../adapters/ingest/whip/rtp-frame-assembler.ts';
import { TrackIngest } from '../../adapters/ingest/whip/track-ingest.ts';
import { CATALOG_TRACK, parseCatalog } from '../../src/media/hang/catalog.ts';
import { decodeLegacyFrame } from '../../src/media/hang/container.ts';
import { H264NalType, parseAvcC, parseSps } from '../../src/media/h264.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';
import { PublisherRegistry } from '../../src/media/publishers.ts';
import { Origin, type Broadcast, type Group } from '../../src/relay/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
/** Chromium's constrained baseline parameter sets at 640x480 and 320x240 (from its WHIP stream). */
const SPS_640 = hex('6742c01f8c8d40501ed35060606078442350');
const SPS_320 = hex('6742c0158c8d40a0f93506060607844235');
const PPS = hex('68ce3c80');
const IDR = hex('65888400ff');
const P_SLICE = hex('419a2233');
const nalType = (nalu: Uint8Array): number => nalu[0]! & 0x1f;
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** STAP-A (RFC 6184 §5.7.1) of the given NAL units. */
function stapA(...nalus: Uint8Array[]): Uint8Array {
  const parts = [Uint8Array.of(0x78), ...nalus.flatMap((n) => [Uint8Array.of(n.length >> 8, n.length & 0xff), n])];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

class Publisher {
  #seq = 1000;
  #ts = 90_000;
  readonly packets: RtpPacket[] = [];
  /** One access unit: its RTP packets, the marker bit on the last. */
  accessUnit(...payloads: Uint8Array[]): void {
    payloads.forEach((payload, i) => {
      const header = new RtpHeader({ sequenceNumber: this.#seq++ & 0xffff, timestamp: this.#ts, marker: i === payloads.length - 1, payloadType: 102, ssrc: 1 });
      this.packets.push(new RtpPacket(header, Buffer.from(payload)));
    });
    this.#ts += 4500; // 20 fps, Chromium's fake camera
  }
  keyframe(sps: Uint8Array): void {
    this.accessUnit(stapA(sps, PPS), IDR);
  }
  deltas(count: number): void {
    for (let i = 0; i < count; i++) this.accessUnit(P_SLICE);
  }
}

/** What a viewer joining now gets: the newest catalog's video entry and the newest video group. */
function joinPoint(broadcast: Broadcast): { width: number; sps: Uint8Array; group: Group | undefined } {
  const catalog = parseCatalog(broadcast.getTrack(CATALOG_TRACK)!.latest!.frames[0]!);
  const video = catalog.get('video');
  if (video?.kind !== 'video' || !video.description) throw new Error('catalog without a described video track');
  return { width: video.codedWidth, sps: parseAvcC(video.description).sps[0]!, group: broadcast.getTrack('video')?.latest };
}

describe('WHIP H.264 resolution changes: catalog and groups agree at every join point', () => {
  it('switches at IDRs only, holds parameter sets that come early, and keeps them in-band', () => {
    const origin = new Origin();
    const registry = new PublisherRegistry(origin);
    const sink = registry.open('live/res', { protocol: 'whip', remoteAddress: '127.0.0.1' });
    let plis = 0;
    const ingest = new TrackIngest({
      name: 'video',
      assembler: new RtpFrameAssembler('MPEG4/ISO/AVC', 90000, { latencyMs: 100, maxPacketsPerFrame: 64, maxBufferedPackets: 64 }),
      normalizer: new H264Normalizer(),
      clock: new TrackClock(new SessionTimeline(), 90000),
      sink,
      keyframes: new KeyframeRequester(() => plis++, { minIntervalMs: 0, staleAfterMs: Number.POSITIVE_INFINITY }),
      problems: new RecurringLog(silentLogger),
    });

    const publisher = new Publisher();
    publisher.keyframe(SPS_640);
    publisher.deltas(5);
    publisher.keyframe(SPS_320); // the encoder scales down: new SPS with its IDR
    publisher.deltas(5);
    publisher.keyframe(SPS_320); // a requested key frame, same parameter sets
    publisher.deltas(3);
    // Parameter sets ahead of their IDR: an access unit of their own, then slices that need them.
    publisher.accessUnit(stapA(SPS_640, PPS));
    const heldFrom = publisher.packets.length;
    publisher.deltas(3);
    const heldUntil = publisher.packets.length;
    publisher.accessUnit(IDR);
    publisher.deltas(4);

    const broadcast = origin.get('live/res');
    expect(broadcast).toBeDefined();
    const catalogs: number[] = [];
    let catalogSequence = -1;
    let plisBeforeHold = 0;
    for (const [i, packet] of publisher.packets.entries()) {
      if (i === heldFrom) plisBeforeHold = plis;
      ingest.onRtp(packet);
      if (!broadcast!.getTrack(CATALOG_TRACK)?.latest) continue; // nothing to join yet
      const join = joinPoint(broadcast!);
      const latestCatalog = broadcast!.getTrack(CATALOG_TRACK)!.latest!.sequence;
      if (latestCatalog !== catalogSequence) {
        catalogSequence = latestCatalog;
        catalogs.push(join.width);
      }
      if (!join.group) continue;
      const [first, ...rest] = join.group.frames.map((bytes) => splitLengthPrefixed(decodeLegacyFrame(bytes).payload));
      // The newest group starts with an IDR that carries the catalog's own parameter sets...
      expect(first!.map(nalType), `packet ${i}`).toEqual([H264NalType.Sps, H264NalType.Pps, H264NalType.Idr]);
      expect(sameBytes(first![0]!, join.sps), `packet ${i}: in-band SPS is the catalog's`).toBe(true);
      expect(parseSps(first![0]!).width).toBe(join.width);
      // ...and nothing after it in the group changes them or starts another GOP.
      for (const nalus of rest) expect(nalus.map(nalType), `packet ${i}`).toEqual([H264NalType.Slice]);
    }

    // 640 → 320 → 640: one catalog per real change, none for the repeated sets.
    expect(catalogs).toEqual([640, 320, 640]);
    const groups = broadcast!.getTrack('video')!.latestSequence + 1;
    expect(groups).toBe(4);
    // The slices between early parameter sets and their IDR were held back, each asking for a key frame.
    expect(plis - plisBeforeHold).toBe(heldUntil - heldFrom);
    expect(ingest.stats.droppedFrames).toBe(heldUntil - heldFrom + 1); // + the parameter-set-only access unit
    expect(ingest.stats.frames).toBe(1 + 5 + 1 + 5 + 1 + 3 + 1 + 4);
  });
});
