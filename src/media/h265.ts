import { BitReader, unescapeRbsp } from './bits.ts';
import { MediaParseError } from './errors.ts';
import { bytesEqual, splitLengthPrefixed } from './nal.ts';

/** nal_unit_type values, H.265 Table 7-1 (the ones ingest and egress care about). */
export const H265NalType = {
  /** IRAP pictures are types 16 (BLA_W_LP) through 23 (RSV_IRAP_VCL23). */
  IrapFirst: 16,
  IrapLast: 23,
  IdrWRadl: 19,
  IdrNLp: 20,
  Cra: 21,
  Vps: 32,
  Sps: 33,
  Pps: 34,
  AccessUnitDelimiter: 35,
  PrefixSei: 39,
  SuffixSei: 40,
} as const;

/** nal_unit_type from the 2-byte NAL header, H.265 7.3.1.2. */
export function h265NalType(nalu: Uint8Array): number {
  if (nalu.length < 2) throw new MediaParseError('H.265 NAL unit shorter than its header');
  return (nalu[0]! >>> 1) & 0x3f;
}

/** The general part of profile_tier_level(), H.265 7.3.3; the same fields open hvcC. */
export interface HevcProfileTierLevel {
  profileSpace: number;
  tierFlag: boolean;
  profileIdc: number;
  /** general_profile_compatibility_flag[0..31], flag j in bit 31 - j. */
  profileCompatibilityFlags: number;
  /** The 48 bits from general_progressive_source_flag on, as 6 bytes. */
  constraintIndicatorFlags: Uint8Array;
  levelIdc: number;
}

export interface HevcSps extends HevcProfileTierLevel {
  maxSubLayers: number;
  temporalIdNesting: boolean;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  /** Size in luma samples after the conformance window. */
  width: number;
  height: number;
  uncroppedWidth: number;
  uncroppedHeight: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): HevcProfileTierLevel {
  const profileSpace = r.readBits(2);
  const tierFlag = r.readFlag();
  const profileIdc = r.readBits(5);
  const profileCompatibilityFlags = r.readBits(32);
  const constraintIndicatorFlags = Uint8Array.from({ length: 6 }, () => r.readBits(8));
  const levelIdc = r.readBits(8);
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.readFlag());
    levelPresent.push(r.readFlag());
  }
  if (maxSubLayersMinus1 > 0) r.skipBits(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skipBits(88);
    if (levelPresent[i]) r.skipBits(8);
  }
  return { profileSpace, tierFlag, profileIdc, profileCompatibilityFlags, constraintIndicatorFlags, levelIdc };
}

function checkedUe(r: BitReader, max: number, name: string): number {
  const v = r.readUe();
  if (v > max) throw new MediaParseError(`SPS ${name} ${v} out of range`);
  return v;
}

/** Parse an H.265 SPS NAL unit (with header) up to the bit depths, H.265 7.3.2.2.1. */
export function parseHevcSps(sps: Uint8Array): HevcSps {
  if (h265NalType(sps) !== H265NalType.Sps) throw new MediaParseError('not an H.265 SPS NAL unit');
  const r = new BitReader(unescapeRbsp(sps.subarray(2)));
  r.skipBits(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.readBits(3);
  if (maxSubLayersMinus1 > 6) throw new MediaParseError('SPS sps_max_sub_layers_minus1 out of range');
  const temporalIdNesting = r.readFlag();
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  const spsId = checkedUe(r, 15, 'sps_seq_parameter_set_id');
  const chromaFormatIdc = checkedUe(r, 3, 'chroma_format_idc');
  const separateColourPlane = chromaFormatIdc === 3 ? r.readFlag() : false;
  const uncroppedWidth = r.readUe();
  const uncroppedHeight = r.readUe();
  let window = [0, 0, 0, 0];
  if (r.readFlag()) window = [r.readUe(), r.readUe(), r.readUe(), r.readUe()];
  const bitDepthLuma = 8 + checkedUe(r, 8, 'bit_depth_luma_minus8');
  const bitDepthChroma = 8 + checkedUe(r, 8, 'bit_depth_chroma_minus8');

  // Conformance window offsets count chroma samples: SubWidthC/SubHeightC, Table 6-1.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidth = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeight = chromaArrayType === 1 ? 2 : 1;
  const width = uncroppedWidth - subWidth * (window[0]! + window[1]!);
  const height = uncroppedHeight - subHeight * (window[2]! + window[3]!);
  if (width <= 0 || height <= 0) throw new MediaParseError('SPS conformance window leaves no picture');

  return {
    ...ptl,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    width,
    height,
    uncroppedWidth,
    uncroppedHeight,
    bitDepthLuma,
    bitDepthChroma,
  };
}

export interface HevcNalArray {
  completeness: boolean;
  nalType: number;
  nalus: Uint8Array[];
}

export interface HevcDecoderConfig extends HevcProfileTierLevel {
  minSpatialSegmentationIdc: number;
  parallelismType: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  avgFrameRate: number;
  constantFrameRate: number;
  numTemporalLayers: number;
  temporalIdNested: boolean;
  lengthSize: number;
  arrays: HevcNalArray[];
}

/**
 * HEVCDecoderConfigurationRecord, ISO/IEC 14496-15 8.3.3.1, 4-byte NAL lengths, arrays VPS, SPS,
 * PPS marked complete (what an `hvc1` sample entry requires). Header fields come from the first
 * SPS. min_spatial_segmentation_idc and parallelismType are 0 ("unknown"), which is always valid
 * and what ffmpeg writes when the VUI does not restrict segmentation; avgFrameRate 0 likewise.
 */
export function buildHvcC(vps: readonly Uint8Array[], sps: readonly Uint8Array[], pps: readonly Uint8Array[]): Uint8Array {
  const arrays: [number, readonly Uint8Array[]][] = [
    [H265NalType.Vps, vps],
    [H265NalType.Sps, sps],
    [H265NalType.Pps, pps],
  ];
  let size = 23;
  for (const [type, nalus] of arrays) {
    if (nalus.length < 1 || nalus.length > 0xffff) throw new MediaParseError(`hvcC needs at least one NAL unit of type ${type}`);
    for (const nalu of nalus) {
      if (h265NalType(nalu) !== type) throw new MediaParseError(`expected H.265 NAL type ${type}`);
      if (nalu.length > 0xffff) throw new MediaParseError('parameter set longer than 65535 bytes');
      size += 2 + nalu.length;
    }
    size += 3;
  }
  const s = parseHevcSps(sps[0]!);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = 1;
  out[1] = (s.profileSpace << 6) | (s.tierFlag ? 0x20 : 0) | s.profileIdc;
  view.setUint32(2, s.profileCompatibilityFlags);
  out.set(s.constraintIndicatorFlags, 6);
  out[12] = s.levelIdc;
  view.setUint16(13, 0xf000); // reserved 1111 + min_spatial_segmentation_idc 0
  out[15] = 0xfc; // reserved + parallelismType 0
  out[16] = 0xfc | s.chromaFormatIdc;
  out[17] = 0xf8 | (s.bitDepthLuma - 8);
  out[18] = 0xf8 | (s.bitDepthChroma - 8);
  // 19..20 avgFrameRate 0; then constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3.
  out[21] = (s.maxSubLayers << 3) | (s.temporalIdNesting ? 4 : 0) | 3;
  out[22] = arrays.length;
  let pos = 23;
  for (const [type, nalus] of arrays) {
    out[pos] = 0x80 | type; // array_completeness 1, reserved 0
    view.setUint16(pos + 1, nalus.length);
    pos += 3;
    for (const nalu of nalus) {
      view.setUint16(pos, nalu.length);
      out.set(nalu, pos + 2);
      pos += 2 + nalu.length;
    }
  }
  return out;
}

/** Parse an HEVCDecoderConfigurationRecord. NAL units are copies. */
export function parseHvcC(hvcc: Uint8Array): HevcDecoderConfig {
  const r = new BitReader(hvcc);
  if (r.readBits(8) !== 1) throw new MediaParseError('unsupported hvcC configurationVersion');
  const profileSpace = r.readBits(2);
  const tierFlag = r.readFlag();
  const profileIdc = r.readBits(5);
  const profileCompatibilityFlags = r.readBits(32);
  const constraintIndicatorFlags = r.readBytes(6).slice();
  const levelIdc = r.readBits(8);
  r.skipBits(4);
  const minSpatialSegmentationIdc = r.readBits(12);
  r.skipBits(6);
  const parallelismType = r.readBits(2);
  r.skipBits(6);
  const chromaFormatIdc = r.readBits(2);
  r.skipBits(5);
  const bitDepthLuma = r.readBits(3) + 8;
  r.skipBits(5);
  const bitDepthChroma = r.readBits(3) + 8;
  const avgFrameRate = r.readBits(16);
  const constantFrameRate = r.readBits(2);
  const numTemporalLayers = r.readBits(3);
  const temporalIdNested = r.readFlag();
  const lengthSize = r.readBits(2) + 1;
  const numArrays = r.readBits(8);
  const arrays: HevcNalArray[] = [];
  for (let i = 0; i < numArrays; i++) {
    const completeness = r.readFlag();
    r.skipBits(1);
    const nalType = r.readBits(6);
    const count = r.readBits(16);
    const nalus: Uint8Array[] = [];
    for (let j = 0; j < count; j++) nalus.push(r.readBytes(r.readBits(16)).slice());
    arrays.push({ completeness, nalType, nalus });
  }
  return {
    profileSpace,
    tierFlag,
    profileIdc,
    profileCompatibilityFlags,
    constraintIndicatorFlags,
    levelIdc,
    minSpatialSegmentationIdc,
    parallelismType,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    avgFrameRate,
    constantFrameRate,
    numTemporalLayers,
    temporalIdNested,
    lengthSize,
    arrays,
  };
}

/** Bit-reverse a 32-bit value (Annex E lists compatibility flags from flag 0 upward). */
function reverse32(value: number): number {
  let out = 0;
  for (let i = 0; i < 32; i++) out = out * 2 + (Math.floor(value / 2 ** i) & 1);
  return out;
}

/**
 * Codec string per ISO/IEC 14496-15 Annex E.3: sample entry, profile space letter + profile idc,
 * reversed compatibility flags in hex, tier letter + level, constraint bytes in hex without
 * trailing zero bytes. E.g. `hvc1.1.6.L93.B0` for Main, level 3.1.
 */
export function hevcCodecString(hvcc: Uint8Array, sampleEntry: 'hvc1' | 'hev1' = 'hvc1'): string {
  const c = parseHvcC(hvcc);
  const space = ['', 'A', 'B', 'C'][c.profileSpace]!;
  const constraints = [...c.constraintIndicatorFlags];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  return [
    sampleEntry,
    `${space}${c.profileIdc}`,
    reverse32(c.profileCompatibilityFlags).toString(16).toUpperCase(),
    `${c.tierFlag ? 'H' : 'L'}${c.levelIdc}`,
    ...constraints.map((b) => b.toString(16).toUpperCase()),
  ].join('.');
}

/** True when the length-prefixed access unit contains an IRAP picture (types 16..23). */
export function isH265Keyframe(lengthPrefixed: Uint8Array, lengthSize = 4): boolean {
  return splitLengthPrefixed(lengthPrefixed, lengthSize).some((nalu) => {
    const type = h265NalType(nalu);
    return type >= H265NalType.IrapFirst && type <= H265NalType.IrapLast;
  });
}

/** Collect in-band VPS, SPS and PPS units, dropping exact duplicates. Views into the input. */
export function extractHevcParameterSets(nalus: readonly Uint8Array[]): { vps: Uint8Array[]; sps: Uint8Array[]; pps: Uint8Array[] } {
  const sets = { vps: [] as Uint8Array[], sps: [] as Uint8Array[], pps: [] as Uint8Array[] };
  for (const nalu of nalus) {
    if (nalu.length < 2) continue;
    const type = h265NalType(nalu);
    const list = type === H265NalType.Vps ? sets.vps : type === H265NalType.Sps ? sets.sps : type === H265NalType.Pps ? sets.pps : undefined;
    if (list && !list.some((seen) => bytesEqual(seen, nalu))) list.push(nalu);
  }
  return sets;
}
