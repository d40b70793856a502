import { BitReader } from '../../../src/media/bits.ts';
import { MediaParseError } from '../../../src/media/errors.ts';

/** The start of a VP9 uncompressed header (VP9 bitstream spec §6.2), up to the frame size. */
export interface Vp9FrameHeader {
  profile: number;
  /** A repeat of an already decoded frame (no new picture data). */
  showExistingFrame: boolean;
  keyframe: boolean;
  /** Key frames only: color_config() and frame_size(). */
  bitDepth?: number;
  /** 0 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4, 4:4:0 as 0 (vpcC chromaSubsampling values). */
  chromaSubsampling?: number;
  fullRange?: boolean;
  width?: number;
  height?: number;
}

const SYNC_CODE = 0x498342;
const CS_RGB = 7;

export function parseVp9FrameHeader(frame: Uint8Array): Vp9FrameHeader {
  const r = new BitReader(frame);
  if (r.readBits(2) !== 2) throw new MediaParseError('VP9 frame_marker is not 2');
  const low = r.readBit();
  const profile = (r.readBit() << 1) | low;
  if (profile === 3 && r.readBit() !== 0) throw new MediaParseError('VP9 profile 3 reserved bit set');
  if (r.readFlag()) {
    r.skipBits(3); // frame_to_show_map_idx
    return { profile, showExistingFrame: true, keyframe: false };
  }
  const keyframe = r.readBit() === 0; // frame_type: 0 = KEY_FRAME
  r.skipBits(2); // show_frame, error_resilient_mode
  if (!keyframe) return { profile, showExistingFrame: false, keyframe };
  if (r.readBits(24) !== SYNC_CODE) throw new MediaParseError('VP9 key frame without the 49 83 42 sync code');

  // color_config(), §6.2.2
  const bitDepth = profile >= 2 ? (r.readFlag() ? 12 : 10) : 8;
  const colorSpace = r.readBits(3);
  let fullRange = true;
  let subsamplingX = 0;
  let subsamplingY = 0;
  if (colorSpace !== CS_RGB) {
    fullRange = r.readFlag();
    if (profile === 1 || profile === 3) {
      subsamplingX = r.readBit();
      subsamplingY = r.readBit();
      if (r.readBit() !== 0) throw new MediaParseError('VP9 color_config reserved bit set');
    } else {
      subsamplingX = 1;
      subsamplingY = 1;
    }
  } else if (profile === 1 || profile === 3) {
    if (r.readBit() !== 0) throw new MediaParseError('VP9 color_config reserved bit set');
  } else {
    throw new MediaParseError('VP9 RGB colour space needs profile 1 or 3');
  }
  // frame_size(), §6.2.6
  const width = r.readBits(16) + 1;
  const height = r.readBits(16) + 1;
  const chromaSubsampling = subsamplingX && subsamplingY ? 0 : subsamplingX ? 2 : subsamplingY ? 0 : 3;
  return { profile, showExistingFrame: false, keyframe, bitDepth, chromaSubsampling, fullRange, width, height };
}

/** VP9 levels by largest picture (luma samples), Annex A; the sample-rate limits are ignored. */
const LEVELS: readonly [number, number][] = [
  [10, 36864],
  [11, 73728],
  [20, 122880],
  [21, 245760],
  [30, 552960],
  [31, 983040],
  [40, 2228224],
  [50, 8912896],
  [60, 35651584],
];

/** The smallest level whose picture size limit fits, as vpcC writes it (10 × level). */
export function vp9LevelForSize(width: number, height: number): number {
  const samples = width * height;
  return LEVELS.find(([, max]) => samples <= max)?.[0] ?? 62;
}

/** VPCodecConfigurationBox payload (VP codec ISOBMFF binding §2.2): version 1, flags 0, record. */
export function buildVpcC(header: Vp9FrameHeader): Uint8Array {
  if (!header.keyframe || header.width === undefined || header.height === undefined) {
    throw new MediaParseError('vpcC needs a VP9 key frame header');
  }
  const out = new Uint8Array(12);
  out[0] = 1; // version; flags stay 0
  out[4] = header.profile;
  out[5] = vp9LevelForSize(header.width, header.height);
  out[6] = ((header.bitDepth ?? 8) << 4) | ((header.chromaSubsampling ?? 0) << 1) | (header.fullRange ? 1 : 0);
  out[7] = 2; // colour_primaries: unspecified (the VP9 header names a colour space, not these)
  out[8] = 2; // transfer_characteristics
  out[9] = 2; // matrix_coefficients
  // codecInitializationDataSize = 0 (bytes 10..11)
  return out;
}
