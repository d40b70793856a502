import { FlvTagError } from './errors.ts';
import type { TagReader } from './tag-reader.ts';

/**
 * Pieces of the E-RTMP v2 ExVideoTagHeader / ExAudioTagHeader that audio and video share
 * (veovera enhanced-rtmp-v2, "Enhanced Audio", "Enhanced Video", "Multitrack Streaming").
 */

/** PacketType value that announces a ModEx prefix, same number for audio and video. */
const PACKET_TYPE_MOD_EX = 7;

/** AudioPacketModExType / VideoPacketModExType. */
const MOD_EX_TIMESTAMP_OFFSET_NANO = 0;

export const AvMultitrackType = {
  OneTrack: 0,
  ManyTracks: 1,
  ManyTracksManyCodecs: 2,
} as const;

export interface ModExResult {
  /** The real packet type once every ModEx prefix is consumed. */
  packetType: number;
  /** TimestampOffsetNano: sub-millisecond addition to this message's timestamp, 0..999999 ns. */
  timestampOffsetNs: number;
}

/**
 * Consume ModEx prefixes: size UI8+1 (UI16+1 when the UI8 says 256), data, then a byte whose
 * high nibble is the ModEx type and low nibble the next packet type. Unknown ModEx types are
 * skipped, which is what the spec's "parse but ignore" capability (CapsExMask.ModEx) means.
 */
export function readModEx(reader: TagReader, packetType: number): ModExResult {
  let type = packetType;
  let timestampOffsetNs = 0;
  while (type === PACKET_TYPE_MOD_EX) {
    let size = reader.u8('ModEx size') + 1;
    if (size === 256) size = reader.u16('ModEx size16') + 1;
    const data = reader.bytes(size, 'ModEx data');
    const next = reader.u8('ModEx type');
    type = next & 0x0f;
    if (next >> 4 === MOD_EX_TIMESTAMP_OFFSET_NANO) {
      if (data.length < 3) throw new FlvTagError('TimestampOffsetNano ModEx shorter than 3 bytes');
      // UI24 nanoseconds; the spec caps meaningful values at 999999 (below one RTMP millisecond).
      timestampOffsetNs = Math.min((data[0]! << 16) | (data[1]! << 8) | data[2]!, 999_999);
    }
  }
  return { packetType: type, timestampOffsetNs };
}

export interface TrackBody {
  trackId: number;
  fourCc: string;
  body: Uint8Array;
}

/**
 * Split a multitrack message body into its tracks. OneTrack: trackId then the rest;
 * ManyTracks: repeated trackId + UI24 size + body; ManyTracksManyCodecs: the same with a FourCC
 * before each track. Sizes are checked against what is left, never trusted for allocation.
 */
export function readMultitrackBodies(reader: TagReader, multitrackType: number, sharedFourCc: string): TrackBody[] {
  if (multitrackType === AvMultitrackType.OneTrack) {
    const trackId = reader.u8('trackId');
    return [{ trackId, fourCc: sharedFourCc, body: reader.rest() }];
  }
  if (multitrackType !== AvMultitrackType.ManyTracks && multitrackType !== AvMultitrackType.ManyTracksManyCodecs) {
    throw new FlvTagError(`reserved AvMultitrackType ${multitrackType}`);
  }
  const tracks: TrackBody[] = [];
  while (reader.remaining > 0) {
    const fourCc = multitrackType === AvMultitrackType.ManyTracksManyCodecs ? reader.fourCc('track FourCC') : sharedFourCc;
    const trackId = reader.u8('trackId');
    const size = reader.u24('sizeOfTrack');
    tracks.push({ trackId, fourCc, body: reader.bytes(size, 'track body') });
  }
  return tracks;
}

/** FourCCs come off the wire: escape anything unprintable before it reaches a log line. */
export function printableFourCc(fourCc: string): string {
  return /^[\x20-\x7e]{4}$/.test(fourCc) ? fourCc : JSON.stringify(fourCc);
}
