import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InBandParameterSets, isAnnexB } from '../../src/media/in-band-parameter-sets.ts';
import { avcCodecString, parseAvcC } from '../../src/media/h264.ts';
import { hevcCodecString, parseHvcC } from '../../src/media/h265.ts';
import { fromHex } from '../../src/media/hex.ts';
import { joinLengthPrefixed, splitLengthPrefixed } from '../../src/media/nal.ts';
import { haveTools } from '../helpers/tools.ts';
import { findBox, fixtureDir, type FixtureDir } from './media-fixtures.ts';

/** x264 High 320x240 and a WebRTC-style Constrained Baseline 640x480 SPS, with PPSs. */
const SPS_320 = fromHex('6764000dacd94141fb0110000003001000000303c0f1429960');
const PPS_320 = fromHex('68ebe3cb22c0');
const SPS_640 = fromHex('6742c01f8c8d40501ed3506060607844235001');
const PPS_640 = fromHex('68ce3c80');
/** PPS_640 with pic_parameter_set_id 1 (ue '010' instead of '1'). */
const PPS_640_ID1 = fromHex('68538f20');
const HEVC_VPS = fromHex('40010c01ffff01600000030090000003000003003c959809');
const HEVC_SPS = fromHex('42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10');
const HEVC_PPS = fromHex('4401c172b46240');

const START4 = [0, 0, 0, 1];
const START3 = [0, 0, 1];
/** An Annex B access unit: 4-byte start code on the first unit, 3-byte ones after (as encoders mix them). */
const annexB = (...units: Uint8Array[]): Uint8Array => Uint8Array.from(units.flatMap((u, i) => [...(i === 0 ? START4 : START3), ...u]));
const IDR = Uint8Array.of(0x65, 0x88, 0x84, 0x00, 0x21);
const P_SLICE = Uint8Array.of(0x41, 0x9a, 0x02, 0x00);
const AUD = Uint8Array.of(0x09, 0xf0);

describe('InBandParameterSets (H.264 Annex B, as @moq/publish sends it)', () => {
  it('turns an Annex B keyframe into length-prefixed NAL units and an avcC from its SPS/PPS', () => {
    const tracker = new InBandParameterSets('avc');
    const unit = tracker.push(annexB(AUD, SPS_320, PPS_320, IDR));
    expect(splitLengthPrefixed(unit.sample)).toEqual([AUD, SPS_320, PPS_320, IDR]);
    expect(unit.changed).toBe(true);
    expect(unit.config).toMatchObject({ codec: 'avc1.64000d', width: 320, height: 240 });
    const avcC = parseAvcC(unit.config!.description);
    expect(avcC.lengthSize).toBe(4);
    expect(avcC.sps).toEqual([SPS_320]);
    expect(avcC.pps).toEqual([PPS_320]);
  });

  it('reports no change for repeated parameter sets and for delta frames, a change when the SPS differs', () => {
    const tracker = new InBandParameterSets('avc');
    const first = tracker.push(annexB(SPS_320, PPS_320, IDR)).config;
    expect(tracker.push(annexB(P_SLICE))).toMatchObject({ changed: false, config: first });
    expect(tracker.push(annexB(SPS_320, PPS_320, IDR))).toMatchObject({ changed: false, config: first });
    const resized = tracker.push(annexB(SPS_640, PPS_640, IDR));
    expect(resized.changed).toBe(true);
    expect(resized.config).toMatchObject({ codec: 'avc1.42c01f', width: 640, height: 480 });
    expect(resized.config).not.toBe(first);
  });

  it('has no configuration before both an SPS and a PPS were seen', () => {
    const tracker = new InBandParameterSets('avc');
    expect(tracker.push(annexB(P_SLICE)).config).toBeUndefined();
    expect(tracker.push(annexB(SPS_320, IDR))).toMatchObject({ config: undefined, changed: false });
    expect(tracker.push(annexB(PPS_320, P_SLICE))).toMatchObject({ changed: true, config: { width: 320 } });
  });

  it('passes length-prefixed access units through unchanged, still following their parameter sets', () => {
    const tracker = new InBandParameterSets('avc');
    const sample = Uint8Array.from([0, 0, 0, SPS_320.length, ...SPS_320, 0, 0, 0, PPS_320.length, ...PPS_320, 0, 0, 0, IDR.length, ...IDR]);
    const unit = tracker.push(sample);
    expect(unit.sample).toBe(sample);
    expect(unit.config?.codec).toBe('avc1.64000d');
  });
});

describe('InBandParameterSets: several parameter sets', () => {
  it('keeps every PPS id of a keyframe in the avcC, merges a later PPS by id, and a keyframe SPS set replaces all', () => {
    const tracker = new InBandParameterSets('avc');
    const both = tracker.push(annexB(SPS_640, PPS_640, PPS_640_ID1, IDR)).config!;
    expect(parseAvcC(both.description).pps).toEqual([PPS_640, PPS_640_ID1]);
    // The same sets in another order are no change.
    expect(tracker.push(annexB(SPS_640, PPS_640_ID1, PPS_640, IDR)).changed).toBe(false);
    // A PPS of id 1 alone replaces id 1 and keeps id 0.
    const updated = Uint8Array.of(0x68, 0x53, 0x8f, 0x21);
    expect(tracker.push(annexB(updated, P_SLICE)).changed).toBe(true);
    expect(parseAvcC(tracker.config!.description).pps).toEqual([PPS_640, updated]);
    // A keyframe with an SPS brings the whole set: the PPS of id 1 is gone.
    expect(tracker.push(annexB(SPS_640, PPS_640, IDR)).changed).toBe(true);
    expect(parseAvcC(tracker.config!.description).pps).toEqual([PPS_640]);
  });
});

/** Access units of an encoder's Annex B output, cut at its access unit delimiters (kept). */
function accessUnits(stream: Uint8Array, isAud: (at: number) => boolean): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 6 <= stream.length; i++) if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 0 && stream[i + 3] === 1 && isAud(i + 4)) starts.push(i);
  return starts.map((start, k) => stream.subarray(start, starts[k + 1] ?? stream.length));
}

/** A NAL unit never ends in 00: ffmpeg's MP4 samples keep the first 00 of the next 4-byte start code. */
const stripTrailingZeros = (nalu: Uint8Array): Uint8Array => {
  let end = nalu.length;
  while (end > 0 && nalu[end - 1] === 0) end--;
  return nalu.subarray(0, end);
};

describe.runIf(haveTools('ffmpeg', 'ffprobe'))('InBandParameterSets on real encoder output', () => {
  let fx: FixtureDir;
  beforeAll(() => {
    fx = fixtureDir();
  });
  afterAll(() => fx?.remove());

  /** Annex B from the encoder (`-bsf:v …_mp4toannexb`), the same stream as MP4 from ffmpeg's muxer: its record and samples. */
  function encode(name: string, codec: 'h264' | 'hevc', args: string[]) {
    const input = ['-f', 'lavfi', '-i', 'testsrc2=size=426x240:rate=30', '-t', '1'];
    const annexB = fx.ffmpeg([...input, ...args, '-bsf:v', `${codec}_mp4toannexb`, '-f', codec], `${name}.${codec}`);
    const mp4 = fx.ffmpeg(['-i', `${name}.${codec}`, '-c', 'copy', ...(codec === 'hevc' ? ['-tag:v', 'hvc1'] : [])], `${name}.mp4`);
    const samples = fx.ffmpeg(['-i', `${name}.mp4`, '-map', '0:v', '-c', 'copy', '-f', 'rawvideo'], `${name}.lp`);
    const stream = fx.probe(`${name}.mp4`, 'stream=width,height').streams![0]!;
    return { annexB, record: findBox(mp4, codec === 'h264' ? 'avcC' : 'hvcC').slice(), samples, stream };
  }

  it('libx264 High, per access unit: the samples and the avcC ffmpeg writes into MP4', () => {
    const x264 = encode('x264', 'h264', ['-c:v', 'libx264', '-profile:v', 'high', '-bf', '2', '-x264-params', 'keyint=10:min-keyint=10:scenecut=0:aud=1']);
    const units = accessUnits(x264.annexB, (at) => (x264.annexB[at]! & 0x1f) === 9);
    expect(units.length).toBe(30);
    const tracker = new InBandParameterSets('avc');
    const out = units.map((unit) => tracker.push(unit));
    // Parameter sets come with the first keyframe; the later keyframes repeat them unchanged.
    expect(out.map((o) => o.changed)).toEqual(out.map((_, i) => i === 0));
    expect(Buffer.concat(out.map((o) => o.sample))).toEqual(Buffer.from(x264.samples));
    const config = tracker.config!;
    expect(Buffer.from(config.description)).toEqual(Buffer.from(x264.record));
    expect(config.codec).toBe(avcCodecString(x264.record));
    expect({ width: config.width, height: config.height }).toEqual({ width: x264.stream.width, height: x264.stream.height });
  });

  it('libx265 Main, per access unit: the NAL units and the parameter sets of the hvcC ffmpeg writes', () => {
    const x265 = encode('x265', 'hevc', ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=10:min-keyint=10:scenecut=0:aud=1:log-level=error']);
    const units = accessUnits(x265.annexB, (at) => x265.annexB[at] === 0x46 && x265.annexB[at + 1] === 0x01);
    expect(units.length).toBe(30);
    const tracker = new InBandParameterSets('hevc');
    const samples = units.map((unit) => tracker.push(unit).sample);
    const ours = samples.flatMap((sample) => splitLengthPrefixed(sample));
    expect(ours.map((n) => Buffer.from(n))).toEqual(splitLengthPrefixed(x265.samples).map((n) => Buffer.from(stripTrailingZeros(n))));
    const config = tracker.config!;
    const theirs = parseHvcC(x265.record);
    const mine = parseHvcC(config.description);
    expect(mine.arrays.map((a) => [a.nalType, a.nalus.map((n) => Buffer.from(n))])).toEqual(theirs.arrays.map((a) => [a.nalType, a.nalus.map((n) => Buffer.from(n))]));
    expect(mine.lengthSize).toBe(4);
    expect(config.codec).toBe(hevcCodecString(x265.record, 'hvc1'));
    expect({ width: config.width, height: config.height }).toEqual({ width: x265.stream.width, height: x265.stream.height });
    // Length-prefixed input (what a publisher with an hvcC would send) passes through as is.
    const lengthPrefixed = joinLengthPrefixed(splitLengthPrefixed(samples[0]!));
    expect(new InBandParameterSets('hevc').push(lengthPrefixed).sample).toBe(lengthPrefixed);
  });
});

describe('InBandParameterSets (H.265 Annex B)', () => {
  it('builds an hvcC from in-band VPS, SPS and PPS', () => {
    const tracker = new InBandParameterSets('hevc');
    const slice = Uint8Array.of(0x26, 0x01, 0xaf, 0x06);
    const unit = tracker.push(annexB(HEVC_VPS, HEVC_SPS, HEVC_PPS, slice));
    expect(splitLengthPrefixed(unit.sample)).toEqual([HEVC_VPS, HEVC_SPS, HEVC_PPS, slice]);
    expect(unit.config).toMatchObject({ width: 320, height: 240 });
    expect(unit.config!.codec).toMatch(/^hvc1\.1\./);
    const hvcC = parseHvcC(unit.config!.description);
    expect(hvcC.arrays.map((a) => a.nalType)).toEqual([32, 33, 34]);
  });
});

describe('isAnnexB', () => {
  it('tells start codes from 4-byte NAL lengths', () => {
    expect(isAnnexB(annexB(IDR))).toBe(true);
    expect(isAnnexB(Uint8Array.from([...START3, ...IDR]))).toBe(true);
    expect(isAnnexB(Uint8Array.from([0, 0, 0, IDR.length, ...IDR]))).toBe(false);
    // 00 00 01 05 as a length is 261 bytes: a length-prefixed unit of that size is not Annex B.
    const long = new Uint8Array(4 + 261);
    long.set([0, 0, 1, 5, 0x65]);
    expect(isAnnexB(long)).toBe(false);
    expect(isAnnexB(new Uint8Array(0))).toBe(false);
  });
});
