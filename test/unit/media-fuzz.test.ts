/**
 * Property: every parser of untrusted bytes either returns or throws MediaParseError, on random
 * bytes and on mutations of real records (which get past the first checks and reach deep fields).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aacCodecString, parseAdtsHeader, parseAudioSpecificConfig, splitAdts } from '../../src/media/aac.ts';
import { av1CodecString, parseAv1C } from '../../src/media/av1.ts';
import { BitReader, unescapeRbsp } from '../../src/media/bits.ts';
import { MediaParseError } from '../../src/media/errors.ts';
import { avcCodecString, buildAvcC, isH264Keyframe, parseAvcC, parseSps } from '../../src/media/h264.ts';
import { buildHvcC, hevcCodecString, isH265Keyframe, parseHevcSps, parseHvcC } from '../../src/media/h265.ts';
import { fromHex } from '../../src/media/hex.ts';
import { annexBToLengthPrefixed, lengthPrefixedToAnnexB, splitAnnexB, splitLengthPrefixed } from '../../src/media/nal.ts';
import { parseOpusHead } from '../../src/media/opus.ts';
import { parseVpcC, vp9CodecString } from '../../src/media/vp9.ts';

const RUNS = 2000;

// Real records from ffmpeg 5.1 (libx264 High 320x240, libx265 Main 320x240, libopus, libaom, libvpx).
const AVCC = fromHex('0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000668ebe3cb22c0fdf8f800');
const HVCC = fromHex(
  '0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a1' +
    '0001002a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10a2000100074401c172b46240',
);
const H264_SPS = parseAvcC(AVCC).sps[0]!;
const H264_PPS = parseAvcC(AVCC).pps[0]!;
const [H265_VPS, H265_SPS, H265_PPS] = parseHvcC(HVCC).arrays.map((a) => a.nalus[0]!);
const ASC_PCE = fromHex('118004c808002008840d4c61766335392e33372e31303056e500');
const ADTS = fromHex('fff15080019ffc' + 'de02004c61'); // one 12-byte LC 44.1 kHz stereo frame
const OPUS_HEAD = fromHex('4f707573486561640106380180bb00000000010402000401020305');
const AV1C = fromHex('81000c000a0b000000043cffbcdaf90040');
const VPCC = fromHex('010000000014820202020000');

/** Run fn; anything thrown must be a MediaParseError. */
function onlyMediaParseError(fn: () => unknown): boolean {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof MediaParseError)) throw error;
  }
  return true;
}

const randomBytes = fc.uint8Array({ maxLength: 96 });

/** A real record with random byte overwrites, then maybe truncated or extended. */
function mutated(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.nat(seed.length + 8),
      fc.uint8Array({ maxLength: 8 }),
    )
    .map(([edits, cut, tail]) => {
      const out = Uint8Array.from([...seed, ...tail]);
      for (const [at, value] of edits) out[at] = value;
      return out.subarray(0, cut);
    });
}

function property(name: string, inputs: fc.Arbitrary<Uint8Array>, fn: (data: Uint8Array) => unknown): void {
  it(name, () => {
    fc.assert(fc.property(inputs, (data) => onlyMediaParseError(() => fn(data))), { numRuns: RUNS });
  });
}

describe('codec parsers throw only MediaParseError', () => {
  it('starts from valid seed records', () => {
    expect(parseSps(H264_SPS)).toMatchObject({ width: 320, height: 240 });
    expect(parseHevcSps(H265_SPS!)).toMatchObject({ width: 320, height: 240 });
    expect(parseAudioSpecificConfig(ASC_PCE).channels).toBe(6);
    expect(splitAdts(ADTS)).toHaveLength(1);
    expect(parseOpusHead(OPUS_HEAD).channels).toBe(6);
    expect(av1CodecString(AV1C)).toBe('av01.0.00M.08');
    expect(vp9CodecString(VPCC)).toBe('vp09.00.20.08');
  });

  property('BitReader ue/se', randomBytes, (data) => {
    const r = new BitReader(data);
    for (;;) {
      r.readUe();
      r.readSe();
      r.readBits(Math.min(32, r.bitsLeft + 1));
    }
  });
  property('unescapeRbsp', randomBytes, (data) => expect(unescapeRbsp(data).length).toBeLessThanOrEqual(data.length));
  property('splitAnnexB', randomBytes, (data) => {
    for (const nalu of splitAnnexB(data)) expect(nalu.length).toBeGreaterThan(0);
  });
  property('annexBToLengthPrefixed', randomBytes, (data) => annexBToLengthPrefixed(data));
  property('splitLengthPrefixed (1..4-byte lengths)', randomBytes, (data) => {
    for (const size of [1, 2, 3, 4]) onlyMediaParseError(() => splitLengthPrefixed(data, size));
  });
  property('lengthPrefixedToAnnexB', randomBytes, (data) => lengthPrefixedToAnnexB(data));

  property('H.264 parseSps (random)', randomBytes.map((b) => Uint8Array.from([0x67, ...b])), parseSps);
  property('H.264 parseSps (mutated)', mutated(H264_SPS), parseSps);
  property('H.264 parseAvcC + codec string (random)', randomBytes, (d) => [parseAvcC(d), avcCodecString(d)]);
  property('H.264 parseAvcC + codec string (mutated)', mutated(AVCC), (d) => [parseAvcC(d), avcCodecString(d)]);
  property('H.264 buildAvcC (mutated SPS)', mutated(H264_SPS), (sps) => buildAvcC([sps], [H264_PPS]));
  property('H.264 isH264Keyframe', randomBytes, (d) => isH264Keyframe(d));

  property('H.265 parseHevcSps (random)', randomBytes.map((b) => Uint8Array.from([0x42, 0x01, ...b])), parseHevcSps);
  property('H.265 parseHevcSps (mutated)', mutated(H265_SPS!), parseHevcSps);
  property('H.265 parseHvcC + codec string (random)', randomBytes, (d) => [parseHvcC(d), hevcCodecString(d)]);
  property('H.265 parseHvcC + codec string (mutated)', mutated(HVCC), (d) => [parseHvcC(d), hevcCodecString(d)]);
  property('H.265 buildHvcC (mutated SPS)', mutated(H265_SPS!), (sps) => buildHvcC([H265_VPS!], [sps], [H265_PPS!]));
  property('H.265 isH265Keyframe', randomBytes, (d) => isH265Keyframe(d));

  property('AAC parseAudioSpecificConfig (random)', randomBytes, (d) => [parseAudioSpecificConfig(d), aacCodecString(d)]);
  property('AAC parseAudioSpecificConfig (mutated PCE)', mutated(ASC_PCE), parseAudioSpecificConfig);
  property('AAC parseAdtsHeader (random)', randomBytes.map((b) => Uint8Array.from([0xff, 0xf1, ...b])), parseAdtsHeader);
  property('AAC splitAdts (mutated)', mutated(ADTS), splitAdts);

  property('parseOpusHead (random)', randomBytes.map((b) => Uint8Array.from([...OPUS_HEAD.subarray(0, 8), ...b])), parseOpusHead);
  property('parseOpusHead (mutated)', mutated(OPUS_HEAD), parseOpusHead);
  property('parseAv1C + codec string', fc.oneof(randomBytes, mutated(AV1C)), (d) => [parseAv1C(d), av1CodecString(d)]);
  property('parseVpcC + codec string', fc.oneof(randomBytes, mutated(VPCC)), (d) => [parseVpcC(d), vp9CodecString(d)]);

  it('fromHex', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => onlyMediaParseError(() => fromHex(s))), { numRuns: RUNS });
  });
});
