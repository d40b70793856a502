import { BoxWriter } from './box-writer.ts';

export interface FragmentSample {
  /** Decode duration in track timescale units. */
  duration: number;
  /** PTS − DTS in timescale units; negative for B-frames decoded after a later-shown frame. */
  compositionOffset: number;
  keyframe: boolean;
  data: Uint8Array;
}

export interface FragmentOptions {
  trackId: number;
  /** mfhd sequence_number: increasing per fragment of the track, from 1. */
  sequenceNumber: number;
  /** tfdt: the first sample's decode time in timescale units. */
  baseMediaDecodeTime: number;
  samples: readonly FragmentSample[];
}

/** sample_flags (14496-12 §8.8.3.1): a sync sample depends on nothing... */
const SYNC_SAMPLE_FLAGS = 0x02000000;
/** ...any other depends on others and is not a sync sample. */
const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_SAMPLE_DURATION = 0x000100;
const TRUN_SAMPLE_SIZE = 0x000200;
const TRUN_SAMPLE_FLAGS = 0x000400;
const TRUN_SAMPLE_COMPOSITION_OFFSET = 0x000800;

/**
 * One CMAF chunk (ISO/IEC 23000-19 §7.3.2.3): `moof` + `mdat` for one track. `trun` is version
 * 1 whenever an offset is negative (signed offsets, §8.8.8.2), which lets a GOP's keyframe keep
 * DTS = PTS so tfdt is the fragment's presentation start as hls.js assumes; mp4box only writes
 * version 0. Offsets are relative to the moof (default-base-is-moof, required by CMAF).
 */
export function buildFragment(options: FragmentOptions): Uint8Array {
  const { samples } = options;
  const hasOffsets = samples.some((s) => s.compositionOffset !== 0);
  const signedOffsets = samples.some((s) => s.compositionOffset < 0);
  let payloadBytes = 0;
  for (const s of samples) payloadBytes += s.data.byteLength;

  // Sized so the media is copied once, straight into its final buffer.
  const w = new BoxWriter(112 + samples.length * 16 + payloadBytes);
  let dataOffsetAt = 0;
  w.box('moof', () => {
    w.fullBox('mfhd', 0, 0, () => w.u32(options.sequenceNumber));
    w.box('traf', () => {
      w.fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, () => w.u32(options.trackId));
      w.fullBox('tfdt', 1, 0, () => w.u64(options.baseMediaDecodeTime));
      const flags =
        TRUN_DATA_OFFSET | TRUN_SAMPLE_DURATION | TRUN_SAMPLE_SIZE | TRUN_SAMPLE_FLAGS | (hasOffsets ? TRUN_SAMPLE_COMPOSITION_OFFSET : 0);
      w.fullBox('trun', signedOffsets ? 1 : 0, flags, () => {
        w.u32(samples.length);
        dataOffsetAt = w.length;
        w.u32(0); // data_offset, patched below
        for (const s of samples) {
          w.u32(s.duration);
          w.u32(s.data.byteLength);
          w.u32(s.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS);
          if (!hasOffsets) continue;
          if (signedOffsets) w.i32(s.compositionOffset);
          else w.u32(s.compositionOffset);
        }
      });
    });
  });
  const moofSize = w.length;
  w.patchU32(dataOffsetAt, moofSize + 8);
  w.u32(8 + payloadBytes);
  w.fourcc('mdat');
  for (const s of samples) w.bytes(s.data);
  return w.view();
}
