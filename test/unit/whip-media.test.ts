import { RtpHeader, RtpPacket } from 'werift';
import { afterAll, describe, expect, it } from 'vitest';
import { MediaParseError } from '../../src/media/errors.ts';
import { parseAvcC } from '../../src/media/h264.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';
import { parseVpcC } from '../../src/media/vp9.ts';
import { parseAv1C } from '../../src/media/av1.ts';
import { joinObus, ObuType, readLeb128, splitObus } from '../../adapters/ingest/whip/av1-obu.ts';
import { buildAv1C, parseAv1SequenceHeader } from '../../adapters/ingest/whip/av1-sequence-header.ts';
import { Av1Normalizer } from '../../adapters/ingest/whip/av1-normalizer.ts';
import { H264Normalizer } from '../../adapters/ingest/whip/h264-normalizer.ts';
import { KeyframeRequester } from '../../adapters/ingest/whip/keyframe-requester.ts';
import { ntpToMicros, RtpTimestampUnwrapper, SessionTimeline, TrackClock } from '../../adapters/ingest/whip/media-clock.ts';
import { OpusNormalizer } from '../../adapters/ingest/whip/opus-normalizer.ts';
import { RtpFrameAssembler } from '../../adapters/ingest/whip/rtp-frame-assembler.ts';
import { SenderReportCheck } from '../../adapters/ingest/whip/sender-report-check.ts';
import { Vp8Normalizer } from '../../adapters/ingest/whip/vp8-normalizer.ts';
import { parseVp8FrameHeader } from '../../adapters/ingest/whip/vp8-frame-header.ts';
import { Vp9Normalizer } from '../../adapters/ingest/whip/vp9-normalizer.ts';
import { parseVp9FrameHeader, vp9LevelForSize } from '../../adapters/ingest/whip/vp9-frame-header.ts';
import { fixtureDir } from './media-fixtures.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
};
const START = hex('00000001');
/** Chromium's constrained baseline 640x480 parameter sets. */
const SPS = hex('6742c01f8c8d40501ed3506060607844235001');
const PPS = hex('68ce3c80');
const IDR = hex('65888400ff');
const P_SLICE = hex('419a2233');
const frame = (data: Uint8Array, keyframe = false, rtpTimestamp = 0) => ({ data, keyframe, rtpTimestamp });

describe('H.264 normalizer', () => {
  it('turns Annex B with in-band SPS/PPS into avcC + AVCC samples', () => {
    const n = new H264Normalizer();
    expect(n.normalize(frame(cat(START, P_SLICE)))).toBeUndefined(); // no configuration yet
    const key = n.normalize(frame(cat(START, SPS, START, PPS, START, IDR)))!;
    expect(key.keyframe).toBe(true);
    expect(key.info).toMatchObject({ kind: 'video', codec: 'avc1.42c01f', codedWidth: 640, codedHeight: 480 });
    const avcc = parseAvcC(key.info!.description!);
    expect(avcc.sps).toEqual([SPS]);
    expect(avcc.pps).toEqual([PPS]);
    // The avcC describes the track; the IDR keeps its parameter sets in-band so each group describes itself.
    expect(splitLengthPrefixed(key.payload)).toEqual([SPS, PPS, IDR]);
    const delta = n.normalize(frame(cat(START, P_SLICE)))!;
    expect(delta).toEqual({ payload: cat(hex('00000004'), P_SLICE), keyframe: false });
    // Repeated identical parameter sets: no new description.
    expect(n.normalize(frame(cat(START, SPS, START, PPS, START, IDR)))!.info).toBeUndefined();
  });

  it('declares the track again when the SPS changes (a resolution switch)', () => {
    const dir = fixtureDir();
    try {
      const x264 = dir.ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-frames:v', '1', '-c:v', 'libx264', '-profile:v', 'baseline', '-f', 'h264'], 'small.h264');
      const n = new H264Normalizer();
      expect(n.normalize(frame(cat(START, SPS, START, PPS, START, IDR)))!.info).toMatchObject({ codedWidth: 640 });
      const next = n.normalize(frame(x264))!;
      expect(next.keyframe).toBe(true);
      expect(next.info).toMatchObject({ codec: expect.stringMatching(/^avc1\.42c0/), codedWidth: 320, codedHeight: 240 });
      const nals = splitLengthPrefixed(next.payload);
      expect(nals.map((nal) => nal[0]! & 0x1f).slice(0, 2)).toEqual([7, 8]);
      expect(parseAvcC(next.info!.description!).sps).toEqual([nals[0]]); // the in-band set is the described one
    } finally {
      dir.remove();
    }
  });

  it('holds new parameter sets that arrive without an IDR until one comes (dropping the frames between)', () => {
    const SPS_320 = hex('6742c0158c8d40a0f93506060607844235'); // Chromium's 320x240
    const n = new H264Normalizer();
    expect(n.normalize(frame(cat(START, SPS, START, PPS, START, IDR)))!.info).toMatchObject({ codedWidth: 640 });
    expect(n.normalize(frame(cat(START, P_SLICE)))).toMatchObject({ keyframe: false });
    // New SPS/PPS in their own access unit, then slices that are not an IDR: undecodable with either set.
    expect(n.normalize(frame(cat(START, SPS_320, START, PPS)))).toBeUndefined();
    expect(n.normalize(frame(cat(START, P_SLICE)))).toBeUndefined();
    expect(n.normalize(frame(cat(START, P_SLICE)))).toBeUndefined();
    // The IDR brings the held description with it, and carries the sets that describe it.
    const key = n.normalize(frame(cat(START, IDR)))!;
    expect(key.keyframe).toBe(true);
    expect(key.info).toMatchObject({ codedWidth: 320, codedHeight: 240 });
    expect(splitLengthPrefixed(key.payload)).toEqual([SPS_320, PPS, IDR]);
    expect(n.normalize(frame(cat(START, P_SLICE)))).toEqual({ payload: cat(hex('00000004'), P_SLICE), keyframe: false });
  });

  it('rejects broken NAL units', () => {
    const n = new H264Normalizer();
    expect(() => n.normalize(frame(hex('0000')))).toThrow(MediaParseError);
    expect(() => n.normalize(frame(cat(START, hex('e5'))))).toThrow(MediaParseError);
    expect(() => n.normalize(frame(cat(START, hex('67ff'), START, PPS, START, IDR)))).toThrow(MediaParseError);
  });
});

describe('VP8, Opus', () => {
  const vp8Key = hex('100000' + '9d012a' + '8002' + 'e001' + '00');
  it('reads VP8 key frame sizes', () => {
    expect(parseVp8FrameHeader(vp8Key)).toEqual({ keyframe: true, width: 640, height: 480 });
    expect(parseVp8FrameHeader(hex('110000'))).toEqual({ keyframe: false });
    expect(() => parseVp8FrameHeader(hex('10000000000000000000'))).toThrow(MediaParseError);
    const n = new Vp8Normalizer();
    expect(n.normalize(frame(hex('110000')))).toBeUndefined();
    expect(n.normalize(frame(vp8Key))!.info).toEqual({ kind: 'video', codec: 'vp8', codedWidth: 640, codedHeight: 480 });
    expect(n.normalize(frame(hex('110000')))).toEqual({ payload: hex('110000'), keyframe: false });
  });

  it('counts Opus channels from the TOC byte', () => {
    const n = new OpusNormalizer();
    expect(n.normalize(frame(hex('78ff')))!.info).toMatchObject({ codec: 'opus', numberOfChannels: 1, sampleRate: 48000 });
    expect(n.normalize(frame(hex('78ff')))!.info).toBeUndefined();
    expect(n.normalize(frame(hex('7cff')))!.info).toMatchObject({ numberOfChannels: 2 });
    expect(n.normalize(frame(new Uint8Array(0)))).toBeUndefined();
  });
});

/** MSB-first bit writer for hand-made VP9 headers. */
function bits(fields: [number, number][]): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (const [value, width] of fields) {
    for (let i = width - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++n === 8) {
        out.push(acc);
        acc = 0;
        n = 0;
      }
    }
  }
  if (n > 0) out.push(acc << (8 - n));
  return Uint8Array.from(out);
}

describe('VP9 headers', () => {
  it('parses a hand-made profile 0 key frame', () => {
    // frame_marker, profile 0, show_existing 0, KEY_FRAME, show, !error_res, sync, CS_BT_709, studio range, 1280x720
    const key = bits([[2, 2], [0, 1], [0, 1], [0, 1], [0, 1], [1, 1], [0, 1], [0x498342, 24], [2, 3], [0, 1], [1279, 16], [719, 16], [0, 8]]);
    expect(parseVp9FrameHeader(key)).toMatchObject({ profile: 0, keyframe: true, bitDepth: 8, width: 1280, height: 720, chromaSubsampling: 0, fullRange: false });
    const n = new Vp9Normalizer();
    const out = n.normalize(frame(key))!;
    expect(out.info).toMatchObject({ codec: 'vp09.00.31.08', codedWidth: 1280, codedHeight: 720 });
    expect(parseVpcC(out.info!.description!)).toMatchObject({ profile: 0, level: 31, bitDepth: 8 });
    expect(vp9LevelForSize(640, 480)).toBe(30);
    expect(() => parseVp9FrameHeader(hex('00'))).toThrow(MediaParseError);
  });
});

describe('AV1 OBUs', () => {
  // Chromium's 640x480 sequence header (from its av1C).
  const SEQ = hex('0000002 4c4ffdf006802'.replace(' ', ''));
  it('parses a sequence header and builds av1C', () => {
    const header = parseAv1SequenceHeader(SEQ);
    expect(header).toMatchObject({ profile: 0, level: 4, tier: 0, bitDepth: 8, maxWidth: 640, maxHeight: 480, monochrome: false });
    const av1c = buildAv1C(header, { type: ObuType.SequenceHeader, extension: undefined, payload: SEQ });
    expect(av1c).toEqual(hex('81040c000a0a' + '00000024c4ffdf006802'));
    expect(parseAv1C(av1c)).toMatchObject({ seqProfile: 0, seqLevelIdx0: 4 });
  });

  it('splits OBUs (last without size) and writes them all with sizes', () => {
    const td = hex('1200');
    const seqNoSize = cat(hex('08'), SEQ); // type 1, no size field: runs to the end
    const obus = splitObus(cat(td, seqNoSize));
    expect(obus.map((o) => o.type)).toEqual([ObuType.TemporalDelimiter, ObuType.SequenceHeader]);
    expect(joinObus(obus)).toEqual(cat(td, hex('0a0a'), SEQ));
    expect(readLeb128(hex('e58e26'), 0)).toEqual([624485, 3]);
    expect(() => splitObus(hex('0a05aa'))).toThrow(MediaParseError);
    expect(() => readLeb128(hex('ffffffffffffffffff'), 0)).toThrow(MediaParseError);
    const n = new Av1Normalizer();
    const out = n.normalize({ data: cat(td, hex('0a0a'), SEQ, hex('3202aabb')), keyframe: true, rtpTimestamp: 0 })!;
    expect(out.keyframe).toBe(true);
    expect(out.info).toMatchObject({ codec: 'av01.0.04M.08', codedWidth: 640, codedHeight: 480 });
    expect(out.payload).toEqual(cat(hex('0a0a'), SEQ, hex('3202aabb'))); // temporal delimiter dropped
  });
});

describe('real VP9 and AV1 bitstreams (ffmpeg)', () => {
  const dir = fixtureDir();
  afterAll(() => dir.remove());
  /** Frames of an IVF file: 32-byte file header, then 12-byte frame headers. */
  const ivfFrames = (file: Uint8Array): Uint8Array[] => {
    const frames: Uint8Array[] = [];
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    for (let pos = view.getUint16(6, true); pos + 12 <= file.length; ) {
      const size = view.getUint32(pos, true);
      frames.push(file.subarray(pos + 12, pos + 12 + size));
      pos += 12 + size;
    }
    return frames;
  };
  const source = ['-f', 'lavfi', '-i', 'testsrc2=size=352x288:rate=10', '-frames:v', '3'];

  it('VP9 profile 0 and 2', () => {
    for (const [pixFmt, profile, depth] of [['yuv420p', 0, 8], ['yuv420p10le', 2, 10]] as const) {
      const file = dir.ffmpeg([...source, '-pix_fmt', pixFmt, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-f', 'ivf'], `vp9-${profile}.ivf`);
      const [first, second] = ivfFrames(file);
      expect(parseVp9FrameHeader(first!)).toMatchObject({ profile, keyframe: true, bitDepth: depth, width: 352, height: 288 });
      expect(parseVp9FrameHeader(second!).keyframe).toBe(false);
      expect(new Vp9Normalizer().normalize(frame(first!))!.info!.codec).toBe(`vp09.0${profile}.20.${String(depth).padStart(2, '0')}`);
    }
  });

  it('AV1 8 and 10 bit', () => {
    for (const [pixFmt, depth] of [['yuv420p', 8], ['yuv420p10le', 10]] as const) {
      const file = dir.ffmpeg([...source, '-pix_fmt', pixFmt, '-c:v', 'libaom-av1', '-cpu-used', '8', '-usage', 'realtime', '-f', 'obu'], `av1-${depth}.obu`);
      const obus = splitObus(file);
      const seq = obus.find((o) => o.type === ObuType.SequenceHeader)!;
      expect(parseAv1SequenceHeader(seq.payload)).toMatchObject({ profile: 0, bitDepth: depth, maxWidth: 352, maxHeight: 288 });
    }
  });
});

describe('media clock', () => {
  it('unwraps 32-bit RTP timestamps', () => {
    const u = new RtpTimestampUnwrapper();
    expect(u.unwrap(0xffffff00)).toBe(0xffffff00);
    expect(u.unwrap(0x00000100)).toBe(0x100000100);
    expect(u.unwrap(0xfffffff0)).toBe(0xfffffff0); // late packet from before the wrap
    expect(ntpToMicros((3n << 32n) | 0x80000000n)).toBe(3_500_000);
  });

  it('places tracks by arrival, then aligns them with sender reports', () => {
    let now = 1_000_000;
    const timeline = new SessionTimeline(() => now);
    const video = new TrackClock(timeline, 90000);
    const audio = new TrackClock(timeline, 48000);
    expect(video.frameTime(1000)).toBe(0);
    now += 100_000; // audio's first packet arrives 100 ms later
    expect(audio.frameTime(5000)).toBe(100_000);
    expect(video.frameTime(1000 + 9000)).toBe(100_000);
    // Sender reports: both tracks were captured at the same NTP instant for these RTP times.
    const ntp = (us: number): bigint => (BigInt(Math.floor(us / 1e6)) << 32n) | BigInt(Math.round(((us % 1e6) / 1e6) * 2 ** 32));
    video.onSenderReport(ntp(50_000_000), 1000 + 9000); // video continues without a jump
    audio.onSenderReport(ntp(50_000_000), 5000 + 960);
    expect(video.frameTime(1000 + 18000)).toBe(200_000);
    expect(audio.frameTime(5000 + 960 + 4800)).toBe(200_000); // audio moved onto video's clock
    // Never backwards, even when a (consistent) report moves a track back by 50 ms.
    now += 5_000_000;
    audio.onSenderReport(ntp(55_000_000), 5000 + 960 + 48000 * 5 + 2400);
    expect(audio.frameTime(5000 + 960 + 4800 + 960)).toBe(200_001);
  });
});

describe('sender report check', () => {
  const sample = (rtp: number, ntpUs: number, arrivalUs: number, mediaRtp?: number) => ({ rtp, ntpUs, arrivalUs, mediaRtp });

  it('accepts consistent reports and names the first disagreement', () => {
    const good = new SenderReportCheck(90000);
    expect(good.check(sample(0, 0, 0, -9000))).toBeUndefined();
    expect(good.check(sample(450_000, 5_000_000, 5_100_000, 441_000))).toBeUndefined(); // 100 ms of arrival jitter
    expect(good.check(sample(900_000, 10_000_000, 10_000_000, 891_000))).toBeUndefined();

    const rtpTwice = new SenderReportCheck(90000);
    rtpTwice.check(sample(0, 0, 0));
    expect(rtpTwice.check(sample(900_000, 5_000_000, 5_000_000))).toMatch(/RTP time advanced 10.000 s in 5.000 s of NTP time/);

    const ntpStuck = new SenderReportCheck(48000);
    ntpStuck.check(sample(0, 1_000_000, 0));
    expect(ntpStuck.check(sample(48000, 1_000_000, 1_000_000))).toMatch(/NTP time did not advance/);

    const ntpFast = new SenderReportCheck(48000);
    ntpFast.check(sample(0, 0, 0));
    expect(ntpFast.check(sample(480_000, 10_000_000, 5_000_000))).toMatch(/between arrivals/);

    // Reports consistent with themselves, but the media's own RTP clock runs at half their rate.
    const mediaSlow = new SenderReportCheck(90000);
    mediaSlow.check(sample(0, 0, 0, 0));
    expect(mediaSlow.check(sample(900_000, 10_000_000, 10_000_000, 450_000))).toMatch(/while the media advanced 5.000 s/);
  });
});

describe('key frame requests', () => {
  it('rate limits and asks again when key frames get stale', () => {
    let now = 0;
    let sent = 0;
    const requester = new KeyframeRequester(() => sent++, { minIntervalMs: 500, staleAfterMs: 2000 }, () => now);
    expect(requester.request()).toBe(true);
    now = 100;
    expect(requester.request()).toBe(false);
    now = 1500;
    requester.tick(); // key frame from t=0 is 1.5 s old: fine
    expect(sent).toBe(1);
    now = 2500;
    requester.tick();
    expect(sent).toBe(2);
    requester.keyframeSeen();
    now = 4000;
    requester.tick();
    expect(sent).toBe(2);
  });
});

describe('RTP frame assembler', () => {
  const packet = (seq: number, ts: number, marker: boolean, payload: Uint8Array): RtpPacket =>
    new RtpPacket(new RtpHeader({ sequenceNumber: seq, timestamp: ts, marker, payloadType: 102, ssrc: 1 }), Buffer.from(payload));
  /** STAP-A with SPS+PPS, then an IDR in two FU-A fragments (RFC 6184 §5.7.1, §5.8). */
  const keyframePackets = (seq: number, ts: number): RtpPacket[] => [
    packet(seq, ts, false, cat(hex('78'), hex('0013'), SPS, hex('0004'), PPS)),
    packet(seq + 1, ts, false, cat(hex('7c85'), IDR.subarray(1, 3))),
    packet(seq + 2, ts, true, cat(hex('7c45'), IDR.subarray(3))),
  ];

  it('rebuilds access units, also from reordered packets', () => {
    const assembler = new RtpFrameAssembler('MPEG4/ISO/AVC', 90000);
    const [a, b, c] = keyframePackets(100, 9000);
    const frames = [a!, c!, b!].flatMap((p) => assembler.push(p).frames);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.rtpTimestamp).toBe(9000);
    expect(frames[0]!.keyframe).toBe(true);
    expect(Uint8Array.from(frames[0]!.data)).toEqual(cat(START, SPS, START, PPS, START, IDR));
  });

  it('drops a frame spanning more packets than allowed, up to its marker', () => {
    const assembler = new RtpFrameAssembler('MPEG4/ISO/AVC', 90000, { latencyMs: 100, maxPacketsPerFrame: 3, maxBufferedPackets: 100 });
    const fragments = [hex('7c8588'), hex('7c0501'), hex('7c0502'), hex('7c0503'), hex('7c0504'), hex('7c4505')];
    const results = fragments.map((payload, i) => assembler.push(packet(i, 0, i === fragments.length - 1, payload)));
    expect(results.flatMap((r) => r.frames)).toEqual([]);
    expect(results.some((r) => r.lost)).toBe(true);
    const next = assembler.push(packet(fragments.length, 3000, true, P_SLICE));
    expect(next.frames.map((f) => Uint8Array.from(f.data))).toEqual([cat(START, P_SLICE)]);
  });

  it('reports a loss once the gap is older than the latency', () => {
    const assembler = new RtpFrameAssembler('MPEG4/ISO/AVC', 90000, { latencyMs: 100, maxPacketsPerFrame: 100, maxBufferedPackets: 100 });
    const packets = keyframePackets(0, 0);
    assembler.push(packets[0]!);
    // packets 1 and 2 lost; later frames arrive
    let lost = false;
    for (let i = 1; i <= 5; i++) lost = assembler.push(packet(2 + i, i * 9000, true, cat(hex('41'), P_SLICE.subarray(1)))).lost || lost;
    expect(lost).toBe(true);
  });
});
