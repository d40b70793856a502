/**
 * LOC properties (draft-ietf-moq-loc §2.3): the metadata that travels in the MOQT object's
 * extension headers while the payload stays the codec bitstream untouched.
 *
 * The relay's hang frames carry a presentation timestamp in µs on the broadcast's own timeline.
 * Without a Timescale property LOC reads a Timestamp as wall-clock µs since the Unix epoch (§2.3.1),
 * so media-time timestamps always travel with Timescale = 1 000 000.
 */
import { encodeVarint } from '../../wire/varint.ts';


/** A key-value pair as carried in object extension headers (even types: varint, odd: bytes). */
export interface LocProperty {
  type: bigint;
  value: bigint | Uint8Array;
}

export const LocPropertyType = {
  timescale: 0x08n,
  videoFrameMarking: 0x09n,
  audioLevel: 0x0cn,
  videoConfig: 0x0dn,
  audioConfig: 0x0fn,
  timestamp: 0x10n,
} as const;

const MICROSECONDS_PER_SECOND = 1_000_000;

/**
 * The Timestamp id of LOC draft-03's IANA table (0x06; the current draft moved it to 0x10 and
 * leaves 0x06 unassigned). Shaka Player 5.2.12 reads only this id, in µs when no Timescale
 * (0x08) is given, and without it falls back to group number × frame duration, which stacks every
 * frame of a GOP at one time.
 */
const LOC_DRAFT03_TIMESTAMP = 0x06n;

/**
 * The one property such a player reads right on every draft: alone in the block, its type reads
 * the same whether the peer decodes types as deltas (draft-16) or absolute (draft-14, and Shaka on
 * both), which a Timescale before or after it would not.
 */
export function locDraft03TimestampProperties(timestampUs: number): LocProperty[] {
  return [{ type: LOC_DRAFT03_TIMESTAMP, value: BigInt(Math.max(0, Math.round(timestampUs))) }];
}

/**
 * `payload` behind a LOC Private Properties block (LOC "MOQ Object Mapping": the MOQ Object
 * Payload is LOC Private Properties followed by the LOC Payload) holding the draft-03 Timestamp,
 * as a count-prefixed list of key-value pairs. Shaka Player 5.2.12 strips such a block from every
 * LOC object it gets, guessing one is there when the first byte reads as a count of 1 to 64 and
 * that many pairs parse: raw AAC frames start with their first syntax element (ffmpeg's mono AAC:
 * 0x00 in 930 of 939 frames, 0x01 in 5; a stereo CPE element is 0x20-0x3f), so now and then the
 * head of a frame is cut off and Chromium's decoder fails (PIPELINE_ERROR_DECODE, player error
 * 3016, seen in 1 of 3 test runs). A real block, one pair it reads right, makes the cut land
 * exactly at the codec data. A copy of the payload.
 */
export function withLocDraft03PrivateTimestamp(payload: Uint8Array, timestampUs: number): Uint8Array {
  const value = encodeVarint(BigInt(Math.max(0, Math.round(timestampUs))));
  const out = new Uint8Array(2 + value.byteLength + payload.byteLength);
  out[0] = 1; // one pair
  out[1] = Number(LOC_DRAFT03_TIMESTAMP); // even type: a varint value follows
  out.set(value, 2);
  out.set(payload, 2 + value.byteLength);
  return out;
}

/** Timescale + Timestamp for a media timestamp in µs. */
export function locTimestampProperties(timestampUs: number): LocProperty[] {
  return [
    { type: LocPropertyType.timescale, value: BigInt(MICROSECONDS_PER_SECOND) },
    { type: LocPropertyType.timestamp, value: BigInt(Math.max(0, Math.round(timestampUs))) },
  ];
}

/**
 * The object's timestamp in µs, or undefined when it carries none. An object Timescale overrides
 * `trackTimescale`; with neither, the value is already µs (wall clock per LOC, which the relay's
 * timeline accepts as-is).
 */
export function locTimestampUs(properties: readonly LocProperty[], trackTimescale?: number): number | undefined {
  let timestamp: bigint | undefined;
  // A catalog's timescale must be a positive whole number; anything else (29.97, Infinity) is ignored.
  let timescale = trackTimescale !== undefined && Number.isSafeInteger(trackTimescale) && trackTimescale > 0 ? BigInt(trackTimescale) : undefined;
  for (const property of properties) {
    if (typeof property.value !== 'bigint') continue;
    if (property.type === LocPropertyType.timestamp) timestamp = property.value;
    else if (property.type === LocPropertyType.timescale && property.value > 0n) timescale = property.value;
  }
  if (timestamp === undefined) return undefined;
  const us = timescale === undefined || timescale === 1_000_000n ? timestamp : (timestamp * 1_000_000n + timescale / 2n) / timescale;
  return us > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(us);
}
