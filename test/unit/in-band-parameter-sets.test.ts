import { describe, expect, it } from 'vitest';
import { InBandParameterSets, isAnnexB } from '../../src/media/in-band-parameter-sets.ts';
import { parseAvcC } from '../../src/media/h264.ts';
import { parseHvcC } from '../../src/media/h265.ts';
import { fromHex } from '../../src/media/hex.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';

/** x264 High 320x240 and a WebRTC-style Constrained Baseline 640x480 SPS, with PPSs. */
const SPS_320 = fromHex('6764000dacd94141fb0110000003001000000303c0f1429960');
const PPS_320 = fromHex('68ebe3cb22c0');
const SPS_640 = fromHex('6742c01f8c8d40501ed3506060607844235001');
const PPS_640 = fromHex('68ce3c80');
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
