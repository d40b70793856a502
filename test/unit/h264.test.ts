import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaParseError } from '../../src/media/errors.ts';
import {
  avcCodecString,
  buildAvcC,
  extractParameterSets,
  H264NalType,
  isH264Keyframe,
  parseAvcC,
  parseSps,
} from '../../src/media/h264.ts';
import { toHex } from '../../src/media/hex.ts';
import {
  annexBToLengthPrefixed,
  joinLengthPrefixed,
  lengthPrefixedToAnnexB,
  splitAnnexB,
  splitLengthPrefixed,
} from '../../src/media/nal.ts';
import { findBox, fixtureDir, type FixtureDir } from './media-fixtures.ts';

const nalType = (nalu: Uint8Array): number => nalu[0]! & 0x1f;

interface Encoded {
  annexB: Uint8Array;
  /** The same stream remuxed by ffmpeg into MP4: its avcC and its samples back to back. */
  avcC: Uint8Array;
  samples: Uint8Array;
  /** ffprobe's keyframe flag per MP4 packet. */
  keyframes: boolean[];
  stream: Record<string, unknown>;
}

let fx: FixtureDir;
function encode(name: string, size: string, x264: string[]): Encoded {
  const input = ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-t', '1', '-c:v', 'libx264', ...x264];
  const annexB = fx.ffmpeg([...input, '-bsf:v', 'h264_mp4toannexb', '-f', 'h264'], `${name}.h264`);
  const mp4 = fx.ffmpeg(['-i', `${name}.h264`, '-c', 'copy'], `${name}.mp4`);
  const samples = fx.ffmpeg(['-i', `${name}.mp4`, '-map', '0:v', '-c', 'copy', '-f', 'rawvideo'], `${name}.lp`);
  const packets = fx.probe(`${name}.mp4`, 'packet=flags').packets!;
  const stream = fx.probe(`${name}.mp4`, 'stream=profile,level,width,height').streams![0]!;
  return {
    annexB,
    avcC: findBox(mp4, 'avcC').slice(),
    samples,
    keyframes: packets.map((p) => String(p.flags).startsWith('K')),
    stream,
  };
}

let high: Encoded;
beforeAll(() => {
  fx = fixtureDir();
  high = encode('high', '320x240', ['-profile:v', 'high', '-x264-params', 'keyint=10:min-keyint=10:scenecut=0']);
}, 60_000);
afterAll(() => fx?.remove());

describe('Annex B and length-prefixed framing (libx264 High)', () => {
  it('splits the byte stream into NAL units, parameter sets first', () => {
    const nalus = splitAnnexB(high.annexB);
    expect(nalus.slice(0, 4).map(nalType)).toEqual([H264NalType.Sps, H264NalType.Pps, H264NalType.Sei, H264NalType.Idr]);
    expect(nalus.filter((n) => nalType(n) === H264NalType.Idr)).toHaveLength(3);
    expect(nalus.filter((n) => nalType(n) === H264NalType.Idr || nalType(n) === H264NalType.Slice)).toHaveLength(30);
    for (const n of nalus) expect(n[n.length - 1]).not.toBe(0);
  });

  it('converts to exactly the samples ffmpeg writes into MP4', () => {
    expect(annexBToLengthPrefixed(high.annexB)).toEqual(high.samples);
    expect(splitLengthPrefixed(high.samples)).toEqual(splitAnnexB(high.annexB));
  });

  it('round-trips length-prefixed -> Annex B -> length-prefixed byte-exact', () => {
    const annexB = lengthPrefixedToAnnexB(high.samples);
    expect(annexBToLengthPrefixed(annexB)).toEqual(high.samples);
    expect(splitAnnexB(annexB)).toEqual(splitAnnexB(high.annexB));
  });

  it('handles other NAL length sizes', () => {
    const nalus = splitAnnexB(high.annexB);
    for (const size of [2, 3]) {
      const lp = annexBToLengthPrefixed(high.annexB, size);
      expect(splitLengthPrefixed(lp, size)).toEqual(nalus);
      expect(lengthPrefixedToAnnexB(lp, size)).toEqual(lengthPrefixedToAnnexB(high.samples));
    }
    expect(() => joinLengthPrefixed([new Uint8Array(256)], 1)).toThrow(MediaParseError);
  });

  it('rejects truncated length-prefixed samples', () => {
    expect(() => splitLengthPrefixed(high.samples.subarray(0, high.samples.length - 1))).toThrow(MediaParseError);
    expect(() => splitLengthPrefixed(Uint8Array.of(0, 0, 1))).toThrow(MediaParseError);
  });
});

describe('H.264 SPS and avcC', () => {
  it('parses the SPS as ffprobe reports it', () => {
    const sps = parseSps(splitAnnexB(high.annexB)[0]!);
    expect(high.stream).toMatchObject({ profile: 'High', level: 13, width: 320, height: 240 });
    expect(sps).toMatchObject({
      profileIdc: 100,
      levelIdc: 13,
      width: 320,
      height: 240,
      chromaFormatIdc: 1,
      bitDepthLuma: 8,
      bitDepthChroma: 8,
      frameMbsOnly: true,
    });
  });

  it('builds the same avcC as ffmpeg from the in-band parameter sets', () => {
    const { sps, pps } = extractParameterSets(splitAnnexB(high.annexB));
    expect(sps).toHaveLength(1); // x264 repeats them before every IDR
    expect(pps).toHaveLength(1);
    const avcC = buildAvcC(sps, pps);
    expect(avcC).toEqual(high.avcC);
    expect(toHex(avcC.subarray(avcC.length - 4))).toBe('fdf8f800'); // High extension: 4:2:0, 8 bit
    const parsed = parseAvcC(avcC);
    expect(parsed).toMatchObject({ profile: 100, compatibility: 0, level: 13, lengthSize: 4, chromaFormatIdc: 1, bitDepthLuma: 8 });
    expect(parsed.sps).toEqual(sps);
    expect(parsed.pps).toEqual(pps);
  });

  it('makes the codec string from profile, compatibility and level', () => {
    expect(avcCodecString(high.avcC)).toBe('avc1.64000d');
    const [, profile, compat, level] = high.avcC;
    expect(avcCodecString(high.avcC)).toBe(`avc1.${toHex(Uint8Array.of(profile!, compat!, level!))}`);
  });

  it('flags exactly the access units ffprobe marks as keyframes', () => {
    const units = splitLengthPrefixed(high.samples);
    const accessUnits: Uint8Array[] = [];
    let pending: Uint8Array[] = [];
    for (const nalu of units) {
      pending.push(nalu);
      if (nalType(nalu) === H264NalType.Slice || nalType(nalu) === H264NalType.Idr) {
        accessUnits.push(joinLengthPrefixed(pending));
        pending = [];
      }
    }
    expect(accessUnits.map((au) => isH264Keyframe(au))).toEqual(high.keyframes);
    expect(high.keyframes.filter(Boolean)).toHaveLength(3);
  });

  it('handles High 4:4:4 10-bit (chroma and bit depth in SPS and avcC)', () => {
    const e = encode('hi444', '320x240', ['-profile:v', 'high444', '-pix_fmt', 'yuv444p10le']);
    const { sps, pps } = extractParameterSets(splitAnnexB(e.annexB));
    expect(parseSps(sps[0]!)).toMatchObject({ profileIdc: 244, chromaFormatIdc: 3, bitDepthLuma: 10, bitDepthChroma: 10, width: 320, height: 240 });
    expect(buildAvcC(sps, pps)).toEqual(e.avcC);
    expect(parseAvcC(e.avcC)).toMatchObject({ profile: 244, chromaFormatIdc: 3, bitDepthLuma: 10, bitDepthChroma: 10 });
    expect(avcCodecString(e.avcC)).toBe(`avc1.f400${toHex(Uint8Array.of(Number(e.stream.level)))}`);
  }, 30_000);

  it('handles interlaced coding (field macroblock pairs double the height unit)', () => {
    const e = encode('field', '320x240', ['-flags', '+ildct+ilme', '-x264-params', 'interlaced=1']);
    const sps = parseSps(extractParameterSets(splitAnnexB(e.annexB)).sps[0]!);
    expect(sps).toMatchObject({ frameMbsOnly: false, width: 320, height: 240 });
  }, 30_000);

  it('applies frame cropping and omits the avcC extension for Baseline', () => {
    const e = encode('base', '322x242', ['-profile:v', 'baseline']);
    const { sps, pps } = extractParameterSets(splitAnnexB(e.annexB));
    expect(parseSps(sps[0]!)).toMatchObject({ profileIdc: 66, width: 322, height: 242, uncroppedWidth: 336, uncroppedHeight: 256 });
    expect(e.stream).toMatchObject({ width: 322, height: 242 });
    const avcC = buildAvcC(sps, pps);
    expect(avcC).toEqual(e.avcC);
    expect(avcC.length).toBe(7 + 2 + sps[0]!.length + 2 + pps[0]!.length);
  }, 30_000);

  it('rejects malformed parameter sets with MediaParseError', () => {
    const [sps, pps] = splitAnnexB(high.annexB);
    expect(() => parseSps(pps!)).toThrow(MediaParseError);
    expect(() => parseSps(sps!.subarray(0, 5))).toThrow(MediaParseError);
    expect(() => buildAvcC([], [pps!])).toThrow(MediaParseError);
    expect(() => parseAvcC(high.avcC.subarray(0, 12))).toThrow(MediaParseError);
    expect(() => parseAvcC(Uint8Array.of(0, 0x64, 0, 0x0d, 0xff, 0xe1))).toThrow(MediaParseError);
  });
});
