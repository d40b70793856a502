import { describe, expect, it } from 'vitest';
import { Origin } from '../../src/relay/index.ts';
import { PublisherRegistry } from '../../src/media/publishers.ts';
import { buildAvcC } from '../../src/media/h264.ts';
import { MediaParseError } from '../../src/media/errors.ts';
import { SdpError, UnsupportedOfferError } from '../../src/webrtc/errors.ts';
import { packetizeNalus, splitAvcc } from '../../adapters/egress/whep/h264-packetizer.ts';
import { MediaFeed } from '../../adapters/egress/whep/media-feed.ts';
import { planWhepOffer } from '../../adapters/egress/whep/whep-offer.ts';
import type { SendTrack } from '../../adapters/egress/whep/whep-peer.ts';
import { WHEP_OFFER, WHEP_OFFER_LINES } from '../../scripts/fuzz/targets/whep.ts';
import { whepTargets } from '../../scripts/fuzz/targets/whep.ts';

const offerWith = (edit: (lines: string[]) => string[]): string => `${edit([...WHEP_OFFER_LINES]).join('\r\n')}\r\n`;

describe('WHEP offer', () => {
  it('picks H.264 packetization mode 1 (High first) and Opus from a Chromium recvonly offer', () => {
    const plan = planWhepOffer(WHEP_OFFER);
    expect(plan.video).toMatchObject({ mid: '0', codec: { payloadType: 103, clockRate: 90000 } });
    expect(plan.video?.codec.parameters.get('profile-level-id')).toBe('640032');
    expect(plan.audio).toMatchObject({ mid: '1', codec: { payloadType: 111, clockRate: 48000, channels: 2 } });
    expect(plan.iceUfrag).toBe('jrb5');
  });

  it('refuses what it cannot serve with a reason (422) and malformed SDP (400)', () => {
    expect(() => planWhepOffer(offerWith((l) => l.map((x) => x.replace('a=recvonly', 'a=sendonly'))))).toThrow(UnsupportedOfferError);
    expect(() => planWhepOffer(offerWith((l) => l.filter((x) => !x.includes('H264') && !x.includes('fmtp:10')).map((x) => x.replace(' 96 97 102 103', ' 96 97'))))).toThrow(/no H264 with packetization-mode=1/);
    expect(() => planWhepOffer(offerWith((l) => l.filter((x) => !x.startsWith('a=fingerprint'))))).toThrow(SdpError);
    expect(() => planWhepOffer('v=0\r\nbogus\r\n')).toThrow(SdpError);
    expect(() => planWhepOffer(offerWith((l) => l.slice(0, 7)))).toThrow(/no audio or video/);
  });
});

describe('RFC 6184 packetizer', () => {
  it('sends small NAL units whole and fragments large ones as FU-A, marker on the last packet', () => {
    const idr = new Uint8Array(2500).fill(7);
    idr[0] = 0x65;
    const packets = packetizeNalus([Uint8Array.of(0x67, 1, 2), idr], 1100);
    expect(packets[0]).toEqual({ payload: Uint8Array.of(0x67, 1, 2), marker: false });
    const fus = packets.slice(1);
    expect(fus.length).toBe(3);
    expect(fus.map((p) => [p.payload[0], p.payload[1]])).toEqual([
      [0x7c, 0x85],
      [0x7c, 0x05],
      [0x7c, 0x45],
    ]);
    expect(fus.map((p) => p.marker)).toEqual([false, false, true]);
    expect(fus.reduce((n, p) => n + p.payload.byteLength - 2, 0)).toBe(2499);
  });

  it('splits AVCC and refuses lengths past the frame', () => {
    expect(splitAvcc(Uint8Array.of(0, 0, 0, 2, 0x41, 1, 0, 0, 0, 1, 0x06))).toEqual([Uint8Array.of(0x41, 1), Uint8Array.of(0x06)]);
    expect(() => splitAvcc(Uint8Array.of(0, 0, 0, 9, 0x41))).toThrow(MediaParseError);
  });

  it('runs its fuzz targets on their seeds (test/unit/fuzz-targets.test.ts fuzzes them)', () => {
    for (const target of whepTargets) for (const seed of target.seeds ?? []) target.run(seed);
  });
});

const SPS = Uint8Array.of(0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x58, 0xba, 0x80);
const PPS = Uint8Array.of(0x68, 0xce, 0x0f, 0xc8);
const avcc = (...nalus: number[][]): Uint8Array => Uint8Array.from(nalus.flatMap((n) => [0, 0, 0, n.length, ...n]));

function recorder(): SendTrack & { sent: { type: number; timestamp: number; marker: boolean }[] } {
  const sent: { type: number; timestamp: number; marker: boolean }[] = [];
  return { sent, send: (payload, timestamp, marker) => sent.push({ type: payload[0]! & 0x1f, timestamp, marker }) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('WHEP media feed', () => {
  it('starts at the latest keyframe with SPS/PPS before it, and a viewer behind skips to the next keyframe', async () => {
    const origin = new Origin();
    const registry = new PublisherRegistry(origin, { reconnectGraceMs: 0 });
    const sink = registry.open('live/feed', { protocol: 'test', remoteAddress: '127.0.0.1' });
    sink.setTrack('video', { kind: 'video', codec: 'avc1.42c01e', description: buildAvcC([SPS], [PPS]), codedWidth: 320, codedHeight: 240 });
    const write = (timestamp: number, keyframe: boolean) => sink.writeFrame('video', { timestamp, compositionOffset: 0, keyframe, payload: avcc([keyframe ? 0x65 : 0x41, 1, 2]) });
    write(0, true);
    write(33_000, false);
    write(66_000, true); // the latest keyframe when the viewer arrives
    write(100_000, false);

    const video = recorder();
    const feed = new MediaFeed(origin.get('live/feed')!, { video, audio: undefined }, (error) => {
      throw error;
    });
    feed.start();
    await tick();
    expect(video.sent.map((p) => p.type)).toEqual([7, 8, 5, 1]);
    expect(video.sent.map((p) => p.marker)).toEqual([false, false, true, true]);
    expect(video.sent[2]!.timestamp).toBe(5940); // 66 ms at 90 kHz

    // Written faster than the viewer reads: it is mid-group when a newer group exists.
    video.sent.length = 0;
    write(133_000, true);
    write(166_000, false);
    write(200_000, false);
    write(233_000, true);
    write(266_000, false);
    await tick();
    expect(video.sent.map((p) => p.type)).toEqual([7, 8, 5, 7, 8, 5, 1]);
    expect(feed.stats.skippedFrames).toBe(2);
    feed.close();
    sink.close('done', { final: true });
  });
});
