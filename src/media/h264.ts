import { BitReader, unescapeRbsp } from './bits.ts';
import { MediaParseError } from './errors.ts';
import { toHex } from './hex.ts';
import { bytesEqual, splitLengthPrefixed } from './nal.ts';

/** nal_unit_type values, H.264 Table 7-1 (the ones ingest and egress care about). */
export const H264NalType = {
  Slice: 1,
  Idr: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  AccessUnitDelimiter: 9,
  EndOfSequence: 10,
  EndOfStream: 11,
  Filler: 12,
  SpsExtension: 13,
} as const;

export function h264NalType(nalu: Uint8Array): number {
  if (nalu.length === 0) throw new MediaParseError('empty NAL unit');
  return nalu[0]! & 0x1f;
}

export interface H264Sps {
  profileIdc: number;
  /** constraint_set0..5 flags + reserved bits: the avcC profile_compatibility byte. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
  frameMbsOnly: boolean;
  /** Size in luma samples after the frame cropping rectangle. */
  width: number;
  height: number;
  /** Size of the decoded macroblock grid, before cropping. */
  uncroppedWidth: number;
  uncroppedHeight: number;
  vuiPresent: boolean;
}

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists (7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function checkedUe(r: BitReader, max: number, name: string): number {
  const v = r.readUe();
  if (v > max) throw new MediaParseError(`SPS ${name} ${v} out of range`);
  return v;
}

/** scaling_list() of 7.3.2.1.1.1: only parsed to skip it. */
function skipScalingList(r: BitReader, size: number): void {
  let lastScale = 8;
  let nextScale = 8;
  for (let j = 0; j < size; j++) {
    if (nextScale !== 0) {
      const delta = r.readSe();
      if (delta < -128 || delta > 127) throw new MediaParseError('SPS delta_scale out of range');
      nextScale = (lastScale + delta + 256) % 256;
    }
    lastScale = nextScale === 0 ? lastScale : nextScale;
  }
}

/** Parse a sequence parameter set NAL unit (with its header byte), H.264 7.3.2.1.1. */
export function parseSps(sps: Uint8Array): H264Sps {
  if (h264NalType(sps) !== H264NalType.Sps) throw new MediaParseError('not an SPS NAL unit');
  const r = new BitReader(unescapeRbsp(sps.subarray(1)));
  const profileIdc = r.readBits(8);
  const constraintFlags = r.readBits(8);
  const levelIdc = r.readBits(8);
  const spsId = checkedUe(r, 31, 'seq_parameter_set_id');

  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = checkedUe(r, 3, 'chroma_format_idc');
    if (chromaFormatIdc === 3) separateColourPlane = r.readFlag();
    bitDepthLuma = 8 + checkedUe(r, 6, 'bit_depth_luma_minus8');
    bitDepthChroma = 8 + checkedUe(r, 6, 'bit_depth_chroma_minus8');
    r.skipBits(1); // qpprime_y_zero_transform_bypass_flag
    if (r.readFlag()) {
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) if (r.readFlag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }

  checkedUe(r, 12, 'log2_max_frame_num_minus4');
  const picOrderCntType = checkedUe(r, 2, 'pic_order_cnt_type');
  if (picOrderCntType === 0) {
    checkedUe(r, 12, 'log2_max_pic_order_cnt_lsb_minus4');
  } else if (picOrderCntType === 1) {
    r.skipBits(1); // delta_pic_order_always_zero_flag
    r.readSe(); // offset_for_non_ref_pic
    r.readSe(); // offset_for_top_to_bottom_field
    const cycle = checkedUe(r, 255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.readSe();
  }
  r.readUe(); // max_num_ref_frames
  r.skipBits(1); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = r.readUe() + 1;
  const heightInMapUnits = r.readUe() + 1;
  const frameMbsOnly = r.readFlag();
  if (!frameMbsOnly) r.skipBits(1); // mb_adaptive_frame_field_flag
  r.skipBits(1); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.readFlag()) crop = [r.readUe(), r.readUe(), r.readUe(), r.readUe()];
  const vuiPresent = r.readFlag();

  // Cropping units, H.264 equations 7-19..7-22 with SubWidthC/SubHeightC from Table 6-1.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const fieldFactor = frameMbsOnly ? 1 : 2;
  const cropUnitX = chromaArrayType === 0 ? 1 : chromaArrayType === 3 ? 1 : 2;
  const cropUnitY = (chromaArrayType === 1 ? 2 : 1) * fieldFactor;
  const uncroppedWidth = widthInMbs * 16;
  const uncroppedHeight = heightInMapUnits * 16 * fieldFactor;
  const width = uncroppedWidth - cropUnitX * (crop[0]! + crop[1]!);
  const height = uncroppedHeight - cropUnitY * (crop[2]! + crop[3]!);
  if (width <= 0 || height <= 0) throw new MediaParseError('SPS cropping leaves no picture');

  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    width,
    height,
    uncroppedWidth,
    uncroppedHeight,
    vuiPresent,
  };
}

export interface AvcDecoderConfig {
  profile: number;
  compatibility: number;
  level: number;
  /** Bytes per NAL length in samples (1, 2 or 4). */
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** The High-profile extension, when present. */
  chromaFormatIdc?: number;
  bitDepthLuma?: number;
  bitDepthChroma?: number;
  spsExt?: Uint8Array[];
}

/** Profiles without the avcC chroma/bit-depth extension (ISO/IEC 14496-15 5.3.3.1.2). */
function avcCHasExtension(profile: number): boolean {
  return profile !== 66 && profile !== 77 && profile !== 88;
}

/**
 * AVCDecoderConfigurationRecord, ISO/IEC 14496-15 5.3.3.1, with 4-byte NAL lengths. Profile,
 * compatibility and level come from the first SPS; the chroma/bit-depth extension is written for
 * every profile but Baseline/Main/Extended, as the standard and ffmpeg do.
 */
export function buildAvcC(sps: readonly Uint8Array[], pps: readonly Uint8Array[]): Uint8Array {
  if (sps.length < 1 || sps.length > 31) throw new MediaParseError(`avcC needs 1..31 SPS, got ${sps.length}`);
  if (pps.length < 1 || pps.length > 255) throw new MediaParseError(`avcC needs 1..255 PPS, got ${pps.length}`);
  for (const nalu of [...sps, ...pps]) {
    if (nalu.length > 0xffff) throw new MediaParseError('parameter set longer than 65535 bytes');
  }
  const first = parseSps(sps[0]!);
  for (const p of pps) if (h264NalType(p) !== H264NalType.Pps) throw new MediaParseError('not a PPS NAL unit');
  const extension = avcCHasExtension(first.profileIdc);
  let size = 7 + (extension ? 4 : 0);
  for (const nalu of [...sps, ...pps]) size += 2 + nalu.length;

  const out = new Uint8Array(size);
  let pos = 0;
  const put = (nalu: Uint8Array): void => {
    out[pos++] = nalu.length >>> 8;
    out[pos++] = nalu.length & 0xff;
    out.set(nalu, pos);
    pos += nalu.length;
  };
  out.set([1, first.profileIdc, first.constraintFlags, first.levelIdc, 0xff, 0xe0 | sps.length], 0);
  pos = 6;
  for (const s of sps) put(s);
  out[pos++] = pps.length;
  for (const p of pps) put(p);
  if (extension) {
    out.set([0xfc | first.chromaFormatIdc, 0xf8 | (first.bitDepthLuma - 8), 0xf8 | (first.bitDepthChroma - 8), 0], pos);
  }
  return out;
}

function readParameterSets(r: BitReader, count: number): Uint8Array[] {
  const sets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) sets.push(r.readBytes(r.readBits(16)).slice());
  return sets;
}

/** Parse an AVCDecoderConfigurationRecord. Parameter sets are copies. */
export function parseAvcC(avcc: Uint8Array): AvcDecoderConfig {
  const r = new BitReader(avcc);
  if (r.readBits(8) !== 1) throw new MediaParseError('unsupported avcC configurationVersion');
  const profile = r.readBits(8);
  const compatibility = r.readBits(8);
  const level = r.readBits(8);
  const lengthSize = (r.readBits(8) & 3) + 1;
  const sps = readParameterSets(r, r.readBits(8) & 0x1f);
  const pps = readParameterSets(r, r.readBits(8));
  const config: AvcDecoderConfig = { profile, compatibility, level, lengthSize, sps, pps };
  // Many writers omit the extension even where it belongs, so it is optional here.
  if (avcCHasExtension(profile) && r.bitsLeft >= 32) {
    config.chromaFormatIdc = r.readBits(8) & 3;
    config.bitDepthLuma = (r.readBits(8) & 7) + 8;
    config.bitDepthChroma = (r.readBits(8) & 7) + 8;
    config.spsExt = readParameterSets(r, r.readBits(8));
  }
  return config;
}

/** WebCodecs / RFC 6381 codec string: `avc1.` + hex profile, compatibility, level. */
export function avcCodecString(avcc: Uint8Array): string {
  const { profile, compatibility, level } = parseAvcC(avcc);
  return `avc1.${toHex(Uint8Array.of(profile, compatibility, level))}`;
}

/** True when the length-prefixed access unit contains an IDR slice. */
export function isH264Keyframe(lengthPrefixed: Uint8Array, lengthSize = 4): boolean {
  return splitLengthPrefixed(lengthPrefixed, lengthSize).some((n) => (n[0]! & 0x1f) === H264NalType.Idr);
}

/**
 * Collect the SPS and PPS units of an access unit (in-band parameter sets, as RTP and Annex B
 * sources send them before IDRs), dropping exact duplicates. Views into the input.
 */
export function extractParameterSets(nalus: readonly Uint8Array[]): { sps: Uint8Array[]; pps: Uint8Array[] } {
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  for (const nalu of nalus) {
    if (nalu.length === 0) continue;
    const type = nalu[0]! & 0x1f;
    const list = type === H264NalType.Sps ? sps : type === H264NalType.Pps ? pps : undefined;
    if (list && !list.some((seen) => bytesEqual(seen, nalu))) list.push(nalu);
  }
  return { sps, pps };
}
