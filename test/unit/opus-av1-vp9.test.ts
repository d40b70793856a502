import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { av1CodecString, parseAv1C } from '../../src/media/av1.ts';
import { MediaParseError } from '../../src/media/errors.ts';
import { fromHex, toHex } from '../../src/media/hex.ts';
import { buildOpusHead, parseOpusHead } from '../../src/media/opus.ts';
import { parseVpcC, vp9CodecString } from '../../src/media/vp9.ts';
import { findBox, firstOggPacket, fixtureDir, type FixtureDir } from './media-fixtures.ts';

let fx: FixtureDir;
beforeAll(() => {
  fx = fixtureDir();
}, 10_000);
afterAll(() => fx?.remove());

const video = (codec: string[]): string[] => ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '0.2', ...codec];

describe('OpusHead (RFC 7845 5.1)', () => {
  it('builds the same stereo head as ffmpeg/libopus writes into Ogg', () => {
    const ogg = fx.ffmpeg(['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '0.2', '-ac', '2', '-c:a', 'libopus'], 'stereo.opus');
    const head = firstOggPacket(ogg);
    expect(toHex(head)).toBe('4f707573486561640102380180bb0000000000');
    expect(parseOpusHead(head)).toEqual({ version: 1, channels: 2, preSkip: 312, inputSampleRate: 48000, outputGain: 0, mappingFamily: 0 });
    expect(buildOpusHead(2, 48000, 312)).toEqual(head);
  }, 30_000);

  it('parses and rebuilds libopus 5.1 (mapping family 1)', () => {
    const ogg = fx.ffmpeg(['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '0.2', '-ac', '6', '-c:a', 'libopus'], 'surround.opus');
    const head = firstOggPacket(ogg);
    const parsed = parseOpusHead(head);
    expect(parsed).toMatchObject({ channels: 6, mappingFamily: 1 });
    expect(parsed.mapping).toEqual({ family: 1, streamCount: 4, coupledCount: 2, mapping: [0, 4, 1, 2, 3, 5] });
    expect(buildOpusHead(6, 48000, parsed.preSkip, parsed.mapping)).toEqual(head);
  }, 30_000);

  it('defaults pre-skip to 0 and rejects bad heads with MediaParseError', () => {
    expect(toHex(buildOpusHead(1, 48000))).toBe('4f707573486561640101000080bb0000000000');
    expect(() => buildOpusHead(6, 48000)).toThrow(MediaParseError);
    const good = buildOpusHead(2, 48000);
    expect(() => parseOpusHead(good.subarray(0, 18))).toThrow(MediaParseError);
    expect(() => parseOpusHead(Uint8Array.from([...good.subarray(0, 9), 3, ...good.subarray(10)]))).toThrow(MediaParseError); // family 0, 3 ch
    expect(() => parseOpusHead(Uint8Array.from([...good.subarray(0, 18), 1, 1, 0]))).toThrow(MediaParseError); // table truncated
  });
});

describe('av1C (AV1 ISOBMFF binding)', () => {
  it('reads libaom 8-bit and SVT-AV1 10-bit records as ffmpeg writes them', () => {
    const aom = findBox(fx.ffmpeg(video(['-c:v', 'libaom-av1', '-cpu-used', '8']), 'aom.mp4'), 'av1C');
    expect(parseAv1C(aom)).toMatchObject({ seqProfile: 0, seqLevelIdx0: 0, seqTier0: 0, highBitdepth: false, chromaSubsamplingX: true, chromaSubsamplingY: true });
    expect((parseAv1C(aom).configObus[0]! >> 3) & 0xf).toBe(1); // OBU_SEQUENCE_HEADER
    expect(av1CodecString(aom)).toBe('av01.0.00M.08');
    const svt = findBox(fx.ffmpeg(video(['-c:v', 'libsvtav1', '-pix_fmt', 'yuv420p10le']), 'svt.mp4'), 'av1C');
    expect(av1CodecString(svt)).toBe('av01.0.00M.10');
  }, 60_000);

  it('formats profile, level, tier and bit depth', () => {
    expect(av1CodecString(fromHex('81080c00'))).toBe('av01.0.08M.08');
    expect(av1CodecString(fromHex('812dc000'))).toBe('av01.1.13H.10');
    expect(av1CodecString(fromHex('81456000'))).toBe('av01.2.05M.12');
    expect(parseAv1C(fromHex('81080c13')).initialPresentationDelayMinusOne).toBe(3);
    expect(() => parseAv1C(fromHex('01080c00'))).toThrow(MediaParseError);
    expect(() => parseAv1C(fromHex('8108'))).toThrow(MediaParseError);
  });
});

describe('vpcC (VP codec ISO binding)', () => {
  it('reads libvpx-vp9 profile 0 and profile 2 records as ffmpeg writes them', () => {
    const p0 = findBox(fx.ffmpeg(video(['-c:v', 'libvpx-vp9', '-deadline', 'realtime']), 'p0.mp4'), 'vpcC');
    expect(parseVpcC(p0)).toMatchObject({ profile: 0, level: 20, bitDepth: 8, chromaSubsampling: 1, videoFullRange: false });
    expect(vp9CodecString(p0)).toBe('vp09.00.20.08');
    const p2 = findBox(fx.ffmpeg(video(['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-profile:v', '2', '-pix_fmt', 'yuv420p10le']), 'p2.mp4'), 'vpcC');
    expect(vp9CodecString(p2)).toBe('vp09.02.20.10');
    // The same record without the FullBox version/flags, as some E-RTMP encoders send it.
    expect(parseVpcC(p2.subarray(4))).toEqual(parseVpcC(p2));
  }, 60_000);

  it('formats two-digit fields and rejects bad records', () => {
    expect(vp9CodecString(fromHex('000a820101010000'))).toBe('vp09.00.10.08');
    expect(() => parseVpcC(fromHex('000a8201010100'))).toThrow(MediaParseError);
    expect(() => parseVpcC(fromHex('000a320101010000'))).toThrow(MediaParseError); // bit depth 3
    expect(() => parseVpcC(fromHex('000a820101010005'))).toThrow(MediaParseError); // init data overruns
  });
});

describe('hex', () => {
  it('round-trips and rejects non-hex', () => {
    expect(toHex(fromHex('00ff7A'))).toBe('00ff7a');
    expect(() => fromHex('abc')).toThrow(MediaParseError);
    expect(() => fromHex('zz')).toThrow(MediaParseError);
  });
});
