import fc from 'fast-check';
import { RtpHeader, RtpPacket } from 'werift';
import { describe, expect, it } from 'vitest';
import { editedLines } from '../../scripts/fuzz/line-edits.ts';
import { MediaParseError } from '../../src/media/errors.ts';
import type { MediaFrame, MediaSink, TrackInfo } from '../../src/media/frame.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';
import { splitObus } from '../../adapters/ingest/whip/av1-obu.ts';
import { parseAv1SequenceHeader } from '../../adapters/ingest/whip/av1-sequence-header.ts';
import { SdpError, UnsupportedOfferError } from '../../src/webrtc/errors.ts';
import { KeyframeRequester } from '../../adapters/ingest/whip/keyframe-requester.ts';
import { RecurringLog, silentLogger } from '../../adapters/ingest/whip/logger.ts';
import { SessionTimeline, TrackClock } from '../../adapters/ingest/whip/media-clock.ts';
import { codecPipeline } from '../../adapters/ingest/whip/normalizer-for-codec.ts';
import { filteredOfferSdp } from '../../adapters/ingest/whip/offer-filter.ts';
import { planWhipOffer, type CodecName } from '../../adapters/ingest/whip/offer-plan.ts';
import { opusPacketChannels } from '../../adapters/ingest/whip/opus-normalizer.ts';
import { RtpFrameAssembler } from '../../adapters/ingest/whip/rtp-frame-assembler.ts';
import { parseSdp } from '../../src/webrtc/sdp.ts';
import { TrackIngest } from '../../adapters/ingest/whip/track-ingest.ts';
import { parseTrickleFragment } from '../../src/webrtc/trickle-fragment.ts';
import { parseVp8FrameHeader } from '../../adapters/ingest/whip/vp8-frame-header.ts';
import { parseVp9FrameHeader } from '../../adapters/ingest/whip/vp9-frame-header.ts';

const RUNS = { numRuns: 400 };

/** Only the adapter's own error classes may escape a parser of network input. */
function onlyThrows(classes: (new (...args: never[]) => Error)[], work: () => unknown): void {
  try {
    work();
  } catch (error) {
    if (!classes.some((c) => error instanceof c)) throw error;
  }
}

const OFFER_LINES = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
  'c=IN IP4 127.0.0.1',
  'a=candidate:1 1 udp 2122194687 127.0.0.1 9 typ host',
  'a=ice-ufrag:jrb5',
  'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x',
  'a=fingerprint:sha-256 58:23:27:47:66:7E:00:94:E1:DB:9F:2F:9E:D8:DB:14:D3:1D:66:8D:F6:67:3E:A9:A7:48:73:D7:6A:44:24:24',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:0 PCMU/8000',
  'a=ssrc:1 cname:x',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 45',
  'c=IN IP4 127.0.0.1',
  'a=ice-ufrag:jrb5',
  'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x',
  'a=fingerprint:sha-256 58:23:27:47:66:7E:00:94:E1:DB:9F:2F:9E:D8:DB:14:D3:1D:66:8D:F6:67:3E:A9:A7:48:73:D7:6A:44:24:24',
  'a=setup:actpass',
  'a=mid:1',
  'a=sendonly',
  'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:45 AV1/90000',
  'a=ssrc-group:FID 2 3',
  'a=ssrc:2 cname:x',
  'a=ssrc:3 cname:x',
];

/** Edits of a valid offer: the inputs that reach deep into the validation. */
const mutatedOffer = editedLines(OFFER_LINES);

describe('fuzz: SDP-facing validation', () => {
  it('the unedited offer is accepted', () => {
    expect(planWhipOffer(`${OFFER_LINES.join('\r\n')}\r\n`).tracks.map((t) => t.codec.name)).toEqual(['OPUS', 'H264']);
  });

  it('random text only raises SdpError / UnsupportedOfferError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000, unit: 'binary' }), (text) => onlyThrows([SdpError, UnsupportedOfferError], () => planWhipOffer(text))),
      RUNS,
    );
  });

  it('edited offers are accepted or rejected with our errors; accepted ones filter to valid SDP', () => {
    fc.assert(
      fc.property(mutatedOffer, (text) =>
        onlyThrows([SdpError, UnsupportedOfferError], () => {
          const plan = planWhipOffer(text);
          const filtered = parseSdp(filteredOfferSdp(plan));
          for (const track of plan.tracks) expect(filtered.media[track.sectionIndex]!.formats).toContain(String(track.codec.payloadType));
        }),
      ),
      { numRuns: 1500 },
    );
  });

  it('trickle fragments only raise SdpError', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 80, unit: 'binary' }),
      fc.string({ maxLength: 60 }).map((s) => `a=candidate:${s}`),
      fc.constantFrom('a=ice-ufrag:abcd', 'a=mid:0', 'm=video 9 UDP/TLS/RTP/SAVPF 0', 'a=end-of-candidates', 'a=candidate:1 1 udp 1 10.0.0.1 5000 typ host'),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), (lines) => onlyThrows([SdpError], () => parseTrickleFragment(lines.join('\r\n')))),
      RUNS,
    );
  });
});

describe('fuzz: codec payload parsers', () => {
  const bytes = fc.uint8Array({ maxLength: 96 });
  it('VP8/VP9/AV1/Opus headers only raise MediaParseError', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        for (const parse of [parseVp8FrameHeader, parseVp9FrameHeader, splitObus, parseAv1SequenceHeader, opusPacketChannels]) {
          onlyThrows([MediaParseError], () => parse(data));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('normalizers only raise MediaParseError and emit well-formed samples', () => {
    const nal = fc.tuple(fc.constantFrom(1, 5, 6, 7, 8, 9, 0x80, 24, 28), fc.uint8Array({ maxLength: 24 })).map(([type, body]) => Uint8Array.of(type & 0x80 ? 0x85 : 0x60 | type, ...body));
    const annexB = fc.array(nal, { maxLength: 5 }).map((nals) => Uint8Array.from(nals.flatMap((n) => [0, 0, 0, 1, ...n])));
    fc.assert(
      fc.property(fc.constantFrom<CodecName>('H264', 'VP8', 'VP9', 'AV1', 'OPUS'), fc.array(fc.oneof(bytes, annexB), { maxLength: 8 }), fc.boolean(), (codec, frames, keyframe) => {
        const { normalizer } = codecPipeline(codec);
        for (const data of frames) {
          onlyThrows([MediaParseError], () => {
            const out = normalizer.normalize({ data, keyframe, rtpTimestamp: 0 });
            if (out && codec === 'H264') splitLengthPrefixed(out.payload); // valid AVCC
            if (out && codec === 'AV1') splitObus(out.payload);
          });
        }
      }),
      { numRuns: 1000 },
    );
  });
});

class RecordingSink implements MediaSink {
  readonly infos: TrackInfo[] = [];
  readonly frames: MediaFrame[] = [];
  setTrack(_name: string, info: TrackInfo): void {
    this.infos.push(info);
  }
  writeFrame(_name: string, frame: MediaFrame): void {
    if (this.infos.length === 0) throw new Error('frame before setTrack');
    this.frames.push(frame);
  }
  removeTrack(): void {}
  close(): void {}
}

describe('fuzz: RTP → frames', () => {
  /** H.264 RTP payloads: single NAL units, STAP-A and FU-A with random contents (RFC 6184 §5.6–5.8). */
  const validParameterSets = Uint8Array.of(0x78, 0x00, 0x13, ...Buffer.from('6742c01f8c8d40501ed3506060607844235001', 'hex'), 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80);
  const h264Payload = fc.oneof(
    fc.constant(validParameterSets),
    fc.uint8Array({ minLength: 1, maxLength: 40 }),
    fc.tuple(fc.constantFrom(0x65, 0x41, 0x67, 0x68), fc.uint8Array({ maxLength: 30 })).map(([h, b]) => Uint8Array.of(h, ...b)),
    fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 3 }).map((nals) => Uint8Array.of(0x78, ...nals.flatMap((n) => [0, n.length, ...n]))),
    fc.tuple(fc.constantFrom(0x85, 0x45, 0x05, 0x81, 0x41), fc.uint8Array({ maxLength: 30 })).map(([fu, b]) => Uint8Array.of(0x7c, fu, ...b)),
  );
  const packets = (payload: fc.Arbitrary<Uint8Array>) =>
    fc.array(fc.record({ seqStep: fc.integer({ min: -3, max: 4 }), tsStep: fc.constantFrom(0, 0, 3000, 90000, -3000, 2 ** 31), marker: fc.boolean(), payload }), { maxLength: 40 });

  it('never throws, and writes frames with increasing timestamps', () => {
    let written = 0;
    fc.assert(
      fc.property(fc.constantFrom<CodecName>('H264', 'VP8', 'VP9', 'AV1', 'OPUS'), packets(fc.oneof(h264Payload, fc.uint8Array({ maxLength: 40 }))), (codec, list) => {
        const sink = new RecordingSink();
        const { depacketizer, normalizer } = codecPipeline(codec);
        const clockRate = codec === 'OPUS' ? 48000 : 90000;
        const video = codec !== 'OPUS';
        const ingest = new TrackIngest({
          name: video ? 'video' : 'audio',
          assembler: new RtpFrameAssembler(depacketizer, clockRate, { latencyMs: 50, maxPacketsPerFrame: 8, maxBufferedPackets: 16 }),
          normalizer,
          clock: new TrackClock(new SessionTimeline(), clockRate),
          sink,
          keyframes: video ? new KeyframeRequester(() => {}) : undefined,
          problems: new RecurringLog(silentLogger),
        });
        let seq = 65530;
        let ts = 2 ** 32 - 5000;
        for (const p of list) {
          seq = (seq + p.seqStep + 65536) % 65536;
          ts = (((ts + p.tsStep) % 2 ** 32) + 2 ** 32) % 2 ** 32;
          ingest.onRtp(new RtpPacket(new RtpHeader({ sequenceNumber: seq, timestamp: ts, marker: p.marker, payloadType: 96, ssrc: 7 }), Buffer.from(p.payload)));
        }
        for (let i = 1; i < sink.frames.length; i++) expect(sink.frames[i]!.timestamp).toBeGreaterThan(sink.frames[i - 1]!.timestamp);
        if (video && sink.frames.length > 0) expect(sink.frames[0]!.keyframe).toBe(true);
        if (codec === 'H264') for (const f of sink.frames) splitLengthPrefixed(f.payload);
        written += sink.frames.length;
      }),
      {
        numRuns: 600,
        examples: [
          // Found by this property: SPS/PPS in an access unit of their own (STAP-A with the
          // marker bit), then the IDR. The track must be declared before that IDR is written.
          ['H264', [{ seqStep: 0, tsStep: 0, marker: true, payload: validParameterSets }, { seqStep: 1, tsStep: 0, marker: true, payload: Uint8Array.of(5) }]],
        ],
      },
    );
    expect(written).toBeGreaterThan(0); // the generators do reach the sink
  });
});
