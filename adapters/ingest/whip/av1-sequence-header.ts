import { BitReader } from '../../../src/media/bits.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import { joinObus, ObuType, type Obu } from './av1-obu.ts';

/** The fields of an AV1 sequence_header_obu() (AV1 spec §5.5) that av1C and a catalog need. */
export interface Av1SequenceHeader {
  profile: number;
  /** seq_level_idx and seq_tier of operating point 0. */
  level: number;
  tier: number;
  bitDepth: number;
  monochrome: boolean;
  subsamplingX: number;
  subsamplingY: number;
  chromaSamplePosition: number;
  maxWidth: number;
  maxHeight: number;
}

/** uvlc() (§4.10.3). */
function readUvlc(r: BitReader): number {
  let leadingZeros = 0;
  while (r.readBit() === 0) {
    if (++leadingZeros > 32) throw new MediaParseError('uvlc longer than 32 bits');
  }
  return leadingZeros >= 32 ? 0xffffffff : r.readBits(leadingZeros) + 2 ** leadingZeros - 1;
}

export function parseAv1SequenceHeader(payload: Uint8Array): Av1SequenceHeader {
  const r = new BitReader(payload);
  const profile = r.readBits(3);
  if (profile > 2) throw new MediaParseError(`AV1 seq_profile ${profile} is reserved`);
  r.skipBits(1); // still_picture
  const reducedStillPictureHeader = r.readFlag();
  let level: number;
  let tier = 0;
  if (reducedStillPictureHeader) {
    level = r.readBits(5);
  } else {
    let decoderModelInfoPresent = false;
    let bufferDelayLength = 0;
    if (r.readFlag()) {
      // timing_info()
      r.skipBits(64); // num_units_in_display_tick, time_scale
      if (r.readFlag()) readUvlc(r); // equal_picture_interval → num_ticks_per_picture_minus_1
      decoderModelInfoPresent = r.readFlag();
      if (decoderModelInfoPresent) {
        // decoder_model_info()
        bufferDelayLength = r.readBits(5) + 1;
        r.skipBits(32 + 5 + 5); // num_units_in_decoding_tick, buffer_removal_time_length, frame_presentation_time_length
      }
    }
    const initialDisplayDelayPresent = r.readFlag();
    const operatingPoints = r.readBits(5) + 1;
    level = 0;
    for (let i = 0; i < operatingPoints; i++) {
      r.skipBits(12); // operating_point_idc
      const seqLevelIdx = r.readBits(5);
      const seqTier = seqLevelIdx > 7 ? r.readBit() : 0;
      if (i === 0) {
        level = seqLevelIdx;
        tier = seqTier;
      }
      if (decoderModelInfoPresent && r.readFlag()) r.skipBits(2 * bufferDelayLength + 1); // operating_parameters_info()
      if (initialDisplayDelayPresent && r.readFlag()) r.skipBits(4);
    }
  }
  const widthBits = r.readBits(4) + 1;
  const heightBits = r.readBits(4) + 1;
  const maxWidth = r.readBits(widthBits) + 1;
  const maxHeight = r.readBits(heightBits) + 1;
  if (!reducedStillPictureHeader && r.readFlag()) r.skipBits(4 + 3); // frame_id_numbers_present_flag
  r.skipBits(3); // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
  if (!reducedStillPictureHeader) {
    r.skipBits(4); // enable_interintra_compound, enable_masked_compound, enable_warped_motion, enable_dual_filter
    const enableOrderHint = r.readFlag();
    if (enableOrderHint) r.skipBits(2); // enable_jnt_comp, enable_ref_frame_mvs
    const forceScreenContentTools = r.readFlag() ? 2 : r.readBit(); // seq_choose_screen_content_tools
    if (forceScreenContentTools > 0 && !r.readFlag()) r.skipBits(1); // seq_choose_integer_mv, seq_force_integer_mv
    if (enableOrderHint) r.skipBits(3); // order_hint_bits_minus_1
  }
  r.skipBits(3); // enable_superres, enable_cdef, enable_restoration

  // color_config(), §5.5.2
  const highBitdepth = r.readFlag();
  const bitDepth = profile === 2 && highBitdepth ? (r.readFlag() ? 12 : 10) : highBitdepth ? 10 : 8;
  const monochrome = profile === 1 ? false : r.readFlag();
  let primaries = 2;
  let transfer = 2;
  let matrix = 2;
  if (r.readFlag()) {
    primaries = r.readBits(8);
    transfer = r.readBits(8);
    matrix = r.readBits(8);
  }
  let subsamplingX = 1;
  let subsamplingY = 1;
  let chromaSamplePosition = 0;
  if (monochrome) {
    r.skipBits(1); // color_range
  } else if (primaries === 1 && transfer === 13 && matrix === 0) {
    subsamplingX = 0; // sRGB: 4:4:4
    subsamplingY = 0;
  } else {
    r.skipBits(1); // color_range
    if (profile === 1) {
      subsamplingX = 0;
      subsamplingY = 0;
    } else if (profile === 2 && bitDepth === 12) {
      subsamplingX = r.readBit();
      subsamplingY = subsamplingX ? r.readBit() : 0;
    }
    if (subsamplingX && subsamplingY) chromaSamplePosition = r.readBits(2);
  }
  return { profile, level, tier, bitDepth, monochrome, subsamplingX, subsamplingY, chromaSamplePosition, maxWidth, maxHeight };
}

/** AV1CodecConfigurationRecord (AV1 ISOBMFF binding §2.3.3) with the sequence header as configOBUs. */
export function buildAv1C(header: Av1SequenceHeader, sequenceHeaderObu: Obu): Uint8Array {
  if (sequenceHeaderObu.type !== ObuType.SequenceHeader) throw new MediaParseError('av1C needs a sequence header OBU');
  const obu = joinObus([{ ...sequenceHeaderObu, extension: undefined }]);
  const out = new Uint8Array(4 + obu.length);
  out[0] = 0x81; // marker, version 1
  out[1] = (header.profile << 5) | header.level;
  out[2] =
    (header.tier << 7) |
    ((header.bitDepth > 8 ? 1 : 0) << 6) |
    ((header.bitDepth === 12 ? 1 : 0) << 5) |
    ((header.monochrome ? 1 : 0) << 4) |
    (header.subsamplingX << 3) |
    (header.subsamplingY << 2) |
    header.chromaSamplePosition;
  out[3] = 0; // no initial_presentation_delay
  out.set(obu, 4);
  return out;
}
