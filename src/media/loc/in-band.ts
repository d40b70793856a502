/**
 * H.264 / H.265 parameter sets in the LOC payload (draft-ietf-moq-loc §2.1 "Video Payload Format",
 * "Parameter Sets In Payload"): "Newer 'canonical' formats such as 'avc3' and 'hev1' codec strings
 * also support parameter sets in the bitstream payload or outside it in 'extradata' metadata
 * headers". So a track whose relay frames are length-prefixed with an avcC / hvcC description
 * (RTMP, WHIP) goes out as `avc3` / `hev1`: every key frame object carries the description's
 * parameter sets ahead of its slices, in the track's own NAL length size, and the catalog keeps
 * the description too (MSF "Initialization Data List").
 *
 * Why both: MSF's LOC examples (draft-ietf-moq-msf, "Time-aligned Audio/Video Tracks") and LOC's
 * own (§ Examples, `avc3.42E01E`) describe tracks with no init data at all, and players built on
 * them (Shaka Player 5.2.12's LOC transmuxer) take SPS/PPS only from key frames; WebCodecs players
 * (@moq/watch) configure their decoder from the description and need the length-prefixed
 * ("avc") format it implies, which in-band parameter sets do not change. A joiner needs nothing
 * but the key frame that opens each group (MSF "LOC packaging": a GOP is one MOQT Group).
 */
import type { TrackInfo } from '../frame.ts';
import { H264NalType, parseAvcC } from '../h264.ts';
import { H265NalType, parseHvcC } from '../h265.ts';

export interface InBandParameterSets {
  /** The track's codec string for LOC: `avc3.` / `hev1.` with the same profile fields. */
  codec: string;
  /** A key frame without an SPS of its own (reads only NAL headers, allocates nothing). */
  needsParameterSets(payload: Uint8Array): boolean;
  /** `payload` with the description's parameter sets in front. */
  withParameterSets(payload: Uint8Array): Uint8Array;
}

type Family = 'avc' | 'hevc';

/**
 * How a video track's LOC objects carry parameter sets in band, or undefined when they need no
 * change: not H.264/H.265, or no parsable description (Annex B sources already send them in band).
 */
export function inBandParameterSets(info: TrackInfo): InBandParameterSets | undefined {
  if (info.kind !== 'video' || !info.description) return undefined;
  const family = familyOf(info.codec);
  if (!family) return undefined;
  const parsed = parseDescription(family, info.description);
  if (!parsed) return undefined;
  const prefix = lengthPrefixed(parsed.sets, parsed.lengthSize);
  return {
    codec: inBandCodecString(info.codec),
    needsParameterSets: (payload) => {
      const scan = scanAccessUnit(payload, parsed.lengthSize, family);
      return scan?.key === true && !scan.hasSps;
    },
    withParameterSets: (payload) => {
      const out = new Uint8Array(prefix.byteLength + payload.byteLength);
      out.set(prefix, 0);
      out.set(payload, prefix.byteLength);
      return out;
    },
  };
}

/**
 * The LOC codec string of a track: H.264 and H.265 tracks whose parameter sets travel in band
 * (ours, or an Annex B source's) are labelled `avc3` / `hev1`, the sample entries that allow it
 * (ISO/IEC 14496-15: unlike avc1/hvc1, their samples may carry parameter sets); everything else keeps its codec string.
 */
export function locCodecString(info: TrackInfo): string {
  if (info.kind !== 'video' || !familyOf(info.codec)) return info.codec;
  if (info.description && !inBandParameterSets(info)) return info.codec;
  return inBandCodecString(info.codec);
}

function familyOf(codec: string): Family | undefined {
  if (codec.startsWith('avc1.') || codec.startsWith('avc3.')) return 'avc';
  if (codec.startsWith('hvc1.') || codec.startsWith('hev1.')) return 'hevc';
  return undefined;
}

function inBandCodecString(codec: string): string {
  if (codec.startsWith('avc1.')) return `avc3.${codec.slice(5)}`;
  if (codec.startsWith('hvc1.')) return `hev1.${codec.slice(5)}`;
  return codec;
}

function parseDescription(family: Family, description: Uint8Array): { sets: Uint8Array[]; lengthSize: number } | undefined {
  try {
    if (family === 'avc') {
      const config = parseAvcC(description);
      if (config.sps.length === 0 || config.pps.length === 0) return undefined;
      return { sets: [...config.sps, ...(config.spsExt ?? []), ...config.pps], lengthSize: config.lengthSize };
    }
    const config = parseHvcC(description);
    const of = (type: number) => config.arrays.filter((array) => array.nalType === type).flatMap((array) => array.nalus);
    const sets = [...of(H265NalType.Vps), ...of(H265NalType.Sps), ...of(H265NalType.Pps)];
    if (of(H265NalType.Sps).length === 0 || of(H265NalType.Pps).length === 0) return undefined;
    return { sets, lengthSize: config.lengthSize };
  } catch {
    return undefined;
  }
}

function lengthPrefixed(units: readonly Uint8Array[], lengthSize: number): Uint8Array {
  const out = new Uint8Array(units.reduce((sum, unit) => sum + lengthSize + unit.byteLength, 0));
  let offset = 0;
  for (const unit of units) {
    for (let i = lengthSize - 1; i >= 0; i--) out[offset + lengthSize - 1 - i] = Math.floor(unit.byteLength / 2 ** (8 * i)) & 0xff;
    out.set(unit, offset + lengthSize);
    offset += lengthSize + unit.byteLength;
  }
  return out;
}

/**
 * Whether a length-prefixed access unit holds a random-access picture (H.264 IDR, H.265 IRAP) and
 * an SPS. Reads only the NAL headers, allocates nothing; undefined when the lengths do not add up.
 */
function scanAccessUnit(payload: Uint8Array, lengthSize: number, family: Family): { key: boolean; hasSps: boolean } | undefined {
  let key = false;
  let hasSps = false;
  let offset = 0;
  while (offset < payload.byteLength) {
    if (offset + lengthSize > payload.byteLength) return undefined;
    let length = 0;
    for (let i = 0; i < lengthSize; i++) length = length * 256 + payload[offset + i]!;
    offset += lengthSize;
    if (length === 0 || offset + length > payload.byteLength) return undefined;
    const header = payload[offset]!;
    if (family === 'avc') {
      const type = header & 0x1f;
      if (type === H264NalType.Idr) key = true;
      else if (type === H264NalType.Sps) hasSps = true;
    } else {
      const type = (header >>> 1) & 0x3f;
      if (type >= H265NalType.IrapFirst && type <= H265NalType.IrapLast) key = true;
      else if (type === H265NalType.Sps) hasSps = true;
    }
    offset += length;
  }
  return { key, hasSps };
}
