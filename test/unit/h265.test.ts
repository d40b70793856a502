import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaParseError } from '../../src/media/errors.ts';
import {
  buildHvcC,
  extractHevcParameterSets,
  h265NalType,
  H265NalType,
  hevcCodecString,
  isH265Keyframe,
  parseHevcSps,
  parseHvcC,
} from '../../src/media/h265.ts';
import { annexBToLengthPrefixed, joinLengthPrefixed, splitAnnexB, splitLengthPrefixed } from '../../src/media/nal.ts';
import { findBox, fixtureDir, type FixtureDir } from './media-fixtures.ts';

interface Encoded {
  annexB: Uint8Array;
  hvcC: Uint8Array;
  samples: Uint8Array;
  keyframes: boolean[];
  stream: Record<string, unknown>;
}

let fx: FixtureDir;
function encode(name: string, size: string, args: string[]): Encoded {
  const input = ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-t', '1', '-c:v', 'libx265', ...args];
  const annexB = fx.ffmpeg([...input, '-f', 'hevc'], `${name}.hevc`);
  const mp4 = fx.ffmpeg(['-i', `${name}.hevc`, '-c', 'copy', '-tag:v', 'hvc1'], `${name}.mp4`);
  const samples = fx.ffmpeg(['-i', `${name}.mp4`, '-map', '0:v', '-c', 'copy', '-f', 'rawvideo'], `${name}.lp`);
  return {
    annexB,
    hvcC: findBox(mp4, 'hvcC').slice(),
    samples,
    keyframes: fx.probe(`${name}.mp4`, 'packet=flags').packets!.map((p) => String(p.flags).startsWith('K')),
    stream: fx.probe(`${name}.mp4`, 'stream=profile,level,width,height').streams![0]!,
  };
}

function stripTrailingZeros(nalu: Uint8Array): Uint8Array {
  let end = nalu.length;
  while (end > 0 && nalu[end - 1] === 0) end--;
  return nalu.subarray(0, end);
}

let main: Encoded;
beforeAll(() => {
  fx = fixtureDir();
  main = encode('main', '320x240', ['-x265-params', 'keyint=10:min-keyint=10:scenecut=0:log-level=error']);
}, 60_000);
afterAll(() => fx?.remove());

describe('H.265 (libx265 Main)', () => {
  it('splits the byte stream into the NAL units ffmpeg writes into MP4', () => {
    const nalus = splitAnnexB(main.annexB);
    expect(nalus.slice(0, 3).map(h265NalType)).toEqual([H265NalType.Vps, H265NalType.Sps, H265NalType.Pps]);
    // ffmpeg's HEVC parser cuts access units at 00 00 01, so the last NAL unit of each MP4 sample
    // keeps the first 00 of the next 4-byte start code; a NAL unit never ends in 00 (H.265 7.4.2).
    const ffmpegNalus = splitLengthPrefixed(main.samples).map(stripTrailingZeros);
    expect(ffmpegNalus).toEqual(nalus);
    expect(splitLengthPrefixed(annexBToLengthPrefixed(main.annexB))).toEqual(nalus);
  });

  it('parses the SPS as ffprobe reports it', () => {
    const { sps } = extractHevcParameterSets(splitAnnexB(main.annexB));
    expect(main.stream).toMatchObject({ profile: 'Main', width: 320, height: 240 });
    expect(parseHevcSps(sps[0]!)).toMatchObject({
      profileSpace: 0,
      tierFlag: false,
      profileIdc: 1,
      levelIdc: main.stream.level,
      width: 320,
      height: 240,
      chromaFormatIdc: 1,
      bitDepthLuma: 8,
      bitDepthChroma: 8,
    });
  });

  it('builds the same hvcC as ffmpeg from the in-band parameter sets', () => {
    const { vps, sps, pps } = extractHevcParameterSets(splitAnnexB(main.annexB));
    expect([vps.length, sps.length, pps.length]).toEqual([1, 1, 1]);
    const hvcC = buildHvcC(vps, sps, pps);
    expect(hvcC).toEqual(main.hvcC);
    const parsed = parseHvcC(hvcC);
    expect(parsed).toMatchObject({ profileIdc: 1, profileCompatibilityFlags: 0x60000000, lengthSize: 4, numTemporalLayers: 1 });
    expect(parsed.arrays.map((a) => [a.nalType, a.completeness, a.nalus])).toEqual([
      [32, true, vps],
      [33, true, sps],
      [34, true, pps],
    ]);
  });

  it('makes the ISO/IEC 14496-15 Annex E codec string', () => {
    // Main (compatible with Main and Main 10 -> reversed flags 0x6), level 2 (60), progressive + frame-only.
    expect(main.stream.level).toBe(60);
    expect(hevcCodecString(main.hvcC)).toBe('hvc1.1.6.L60.90');
    expect(hevcCodecString(main.hvcC, 'hev1')).toBe('hev1.1.6.L60.90');
  });

  it('flags exactly the access units ffprobe marks as keyframes', () => {
    const accessUnits: Uint8Array[] = [];
    let pending: Uint8Array[] = [];
    for (const nalu of splitLengthPrefixed(main.samples)) {
      pending.push(nalu);
      if (h265NalType(nalu) < 32) {
        accessUnits.push(joinLengthPrefixed(pending));
        pending = [];
      }
    }
    expect(accessUnits.map((au) => isH265Keyframe(au))).toEqual(main.keyframes);
    expect(main.keyframes.filter(Boolean)).toHaveLength(3);
  });

  it('handles 4:2:2 10-bit with a conformance window (Main 4:2:2 10, odd size)', () => {
    const e = encode('rext', '322x242', ['-pix_fmt', 'yuv422p10le', '-x265-params', 'log-level=error']);
    const { vps, sps, pps } = extractHevcParameterSets(splitAnnexB(e.annexB));
    expect(parseHevcSps(sps[0]!)).toMatchObject({ profileIdc: 4, chromaFormatIdc: 2, bitDepthLuma: 10, width: 322, height: 242 });
    expect(e.stream).toMatchObject({ width: 322, height: 242 });
    expect(buildHvcC(vps, sps, pps)).toEqual(e.hvcC);
    expect(hevcCodecString(e.hvcC)).toMatch(/^hvc1\.4\.10\.L\d+\.[0-9A-F]+(\.[0-9A-F]+)*$/);
  }, 30_000);

  it('skips sub-layer profile_tier_level entries (x265 temporal layers)', () => {
    const e = encode('layers', '320x240', ['-x265-params', 'temporal-layers=1:log-level=error']);
    const { vps, sps, pps } = extractHevcParameterSets(splitAnnexB(e.annexB));
    expect(parseHevcSps(sps[0]!)).toMatchObject({ maxSubLayers: 2, width: 320, height: 240, profileIdc: 1 });
    expect(buildHvcC(vps, sps, pps)).toEqual(e.hvcC);
    expect(parseHvcC(e.hvcC)).toMatchObject({ numTemporalLayers: 2, temporalIdNested: false });
  }, 30_000);

  it('rejects malformed input with MediaParseError', () => {
    const [vps, sps, pps] = splitAnnexB(main.annexB);
    expect(() => parseHevcSps(vps!)).toThrow(MediaParseError);
    expect(() => parseHevcSps(sps!.subarray(0, 10))).toThrow(MediaParseError);
    expect(() => buildHvcC([vps!], [sps!], [])).toThrow(MediaParseError);
    expect(() => buildHvcC([sps!], [sps!], [pps!])).toThrow(MediaParseError);
    expect(() => parseHvcC(main.hvcC.subarray(0, main.hvcC.length - 1))).toThrow(MediaParseError);
    expect(() => isH265Keyframe(Uint8Array.of(0, 0, 0, 1, 0x26))).toThrow(MediaParseError);
  });
});
