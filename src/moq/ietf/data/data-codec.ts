/**
 * What differs between drafts on data streams and datagrams (draft-16 §10, draft-14 §10): which
 * header type numbers exist and what their bits mean, object statuses, extension type encoding,
 * and how FETCH objects are serialized. The stream/datagram readers in this folder are shared.
 */
import type { ByteWriter } from '../../../wire/byte-writer.ts';
import type { IntegerFormat } from '../../../wire/byte-reader.ts';
import type { StreamReader } from '../../../wire/stream-reader.ts';
import type { GroupOrder } from '../messages.ts';
import type { IetfVersion } from '../version.ts';
import type { TypeEncoding } from '../wire/key-value.ts';
import type { DatagramObject, FetchObject, FetchRangeEnd, ObjectStatus } from './objects.ts';

export interface SubgroupFlags {
  subgroupId: 'zero' | 'firstObject' | 'present';
  hasExtensions: boolean;
  endOfGroup: boolean;
  hasPriority: boolean;
  /** draft-18+ FIRST_OBJECT bit (§10.4.2): the stream starts at the subgroup's first object. */
  firstObject?: boolean;
}

/** Stream type that opens a FETCH response stream (draft-14/16 §10.4.4). */
export const FETCH_HEADER_TYPE = 0x05;

export interface DataCodec {
  readonly version: IetfVersion;
  /** Integer encoding of every data-plane field: QUIC varints to draft-16, vi64 from draft-18 (§1.4.1). */
  readonly integers: IntegerFormat;
  readonly extensionEncoding: TypeEncoding;
  /** Flags for a SUBGROUP_HEADER type; undefined when `type` is not one. */
  subgroupFlags(type: number): SubgroupFlags | undefined;
  subgroupType(flags: SubgroupFlags): number;
  /** Throws a protocol violation for statuses the draft does not define. */
  decodeStatus(value: number): ObjectStatus;
  encodeStatus(status: ObjectStatus): number;
  /** The next FETCH object, a range marker, or undefined at a clean end of stream. */
  /** `groupOrder`: the FETCH's delivery order; draft-18+ group deltas run in it (default ascending). */
  readFetchObject(reader: StreamReader, previous: FetchObject | undefined, maxPayloadBytes: number, groupOrder?: GroupOrder): Promise<FetchObject | FetchRangeEnd | undefined>;
  writeFetchObject(writer: ByteWriter, object: FetchObject, previous: FetchObject | undefined, groupOrder?: GroupOrder): void;
  decodeDatagram(bytes: Uint8Array): DatagramObject;
  encodeDatagram(object: DatagramObject): Uint8Array;
}

/** Subgroup header bits shared by draft-14 and draft-16 (the 0b0001XXXX form). */
export function subgroupBits(type: number): Omit<SubgroupFlags, 'hasPriority'> | undefined {
  if ((type & 0x10) === 0 || (type & ~0x3f) !== 0) return undefined;
  const mode = (type >> 1) & 0x3;
  if (mode === 0x3) return undefined;
  return {
    subgroupId: mode === 0 ? 'zero' : mode === 1 ? 'firstObject' : 'present',
    hasExtensions: (type & 0x01) !== 0,
    endOfGroup: (type & 0x08) !== 0,
  };
}

export function subgroupTypeBits(flags: SubgroupFlags): number {
  const mode = flags.subgroupId === 'zero' ? 0 : flags.subgroupId === 'firstObject' ? 1 : 2;
  return 0x10 | (flags.hasExtensions ? 0x01 : 0) | (mode << 1) | (flags.endOfGroup ? 0x08 : 0);
}
