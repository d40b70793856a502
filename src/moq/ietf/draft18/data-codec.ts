/**
 * draft-18 data plane (§10): draft-16's layouts with vi64 integers, plus
 * - SUBGROUP_HEADER types 0b0XX1XXXX: bit 0x40 (FIRST_OBJECT, §10.4.2) joins 0x10–0x3D; read into
 *   and written from SubgroupHeader.firstObject (the relay sets it when a stream starts at object 0),
 * - FETCH objects whose Group ID and Object ID are deltas from the prior object (§10.4.4.1): a new
 *   group is prior ± (delta + 1) by the fetch's group order and then carries its Object ID as is;
 *   within a group the Object ID is prior + delta, or prior + 1 when absent.
 * OBJECT_DATAGRAM (§10.3.1) and object statuses are draft-16's.
 */
import { violation } from '../errors.ts';
import { draft16DataCodec } from '../draft16/data-codec.ts';
import { type DataCodec, type SubgroupFlags, subgroupBits, subgroupTypeBits } from '../data/data-codec.ts';
import { readExtensionBlockFrom, writeExtensionBlock } from '../data/extensions.ts';
import type { FetchObject } from '../data/objects.ts';

/** §10.4.2 FIRST_OBJECT bit. */
const FIRST_OBJECT = 0x40;
/** §10.4.4.1 Serialization Flags (draft-16's bits). */
const Flag = { subgroupMask: 0x03, objectId: 0x04, groupId: 0x08, priority: 0x10, extensions: 0x20, datagram: 0x40 } as const;
const END_OF_NON_EXISTENT_RANGE = 0x8c;
const END_OF_UNKNOWN_RANGE = 0x10c;

export const draft18DataCodec: DataCodec = {
  ...draft16DataCodec,
  version: 'draft-18',
  integers: 'vi64',

  subgroupFlags(type) {
    if (type < 0 || type > 0x7f) return undefined;
    const bits = subgroupBits(type & ~FIRST_OBJECT);
    if (!bits) return undefined;
    const flags: SubgroupFlags = { ...bits, hasPriority: (type & 0x20) === 0 };
    if ((type & FIRST_OBJECT) !== 0) flags.firstObject = true;
    return flags;
  },

  subgroupType(flags) {
    return subgroupTypeBits(flags) | (flags.hasPriority ? 0 : 0x20) | (flags.firstObject ? FIRST_OBJECT : 0);
  },

  async readFetchObject(reader, previous, maxPayloadBytes, groupOrder = 'ascending') {
    if (await reader.atEnd()) return undefined;
    const flags = await reader.varint();
    if (flags === END_OF_NON_EXISTENT_RANGE || flags === END_OF_UNKNOWN_RANGE) {
      const groupId = await reader.varint();
      const objectId = await reader.varint();
      return { endOfRange: flags === END_OF_NON_EXISTENT_RANGE ? 'nonExistent' : 'unknown', groupId, objectId };
    }
    if (flags >= 0x80) throw violation(`invalid fetch serialization flags 0x${flags.toString(16)}`);
    const prior = (what: string): FetchObject => {
      if (previous === undefined) throw violation(`first fetch object omits its ${what}`);
      return previous;
    };
    let groupId: number;
    let objectId: number;
    const groupDelta = flags & Flag.groupId ? await reader.varint() : undefined;
    let subgroupId: number | undefined;
    if ((flags & Flag.datagram) === 0) {
      const mode = flags & Flag.subgroupMask;
      if (mode === 0) subgroupId = 0;
      else if (mode === 3) subgroupId = await reader.varint();
      else {
        const priorSubgroup = prior('subgroup ID').subgroupId ?? 0;
        subgroupId = mode === 1 ? priorSubgroup : priorSubgroup + 1;
      }
    }
    const objectDelta = flags & Flag.objectId ? await reader.varint() : undefined;
    if (previous === undefined) {
      // §10.4.4.1: the first object carries both, as absolute values.
      if (groupDelta === undefined || objectDelta === undefined) throw violation('first fetch object omits its group or object ID');
      groupId = groupDelta;
      objectId = objectDelta;
    } else if (groupDelta !== undefined) {
      groupId = groupOrder === 'ascending' ? previous.groupId + groupDelta + 1 : previous.groupId - groupDelta - 1;
      objectId = objectDelta ?? previous.objectId + 1;
    } else {
      groupId = previous.groupId;
      objectId = previous.objectId + (objectDelta ?? 1);
    }
    if (groupId < 0 || !Number.isSafeInteger(groupId) || !Number.isSafeInteger(objectId)) throw violation('fetch object group or object ID out of range', 'value-too-large');
    const publisherPriority = flags & Flag.priority ? await reader.u8() : prior('priority').publisherPriority;
    const extensions = flags & Flag.extensions ? await readExtensionBlockFrom(reader, 'delta') : [];
    const length = await reader.varint();
    if (length > maxPayloadBytes) throw violation(`object of ${length} bytes exceeds ${maxPayloadBytes}`, 'message-too-large');
    const payload = length > 0 ? await reader.bytes(length) : new Uint8Array(0);
    return { groupId, subgroupId, objectId, publisherPriority, status: 'normal', extensions, payload };
  },

  writeFetchObject(writer, object, previous, groupOrder = 'ascending') {
    let flags = 0;
    let groupDelta: number | undefined;
    let objectField: number | undefined;
    if (previous === undefined) {
      groupDelta = object.groupId;
      objectField = object.objectId;
    } else if (previous.groupId !== object.groupId) {
      groupDelta = groupOrder === 'ascending' ? object.groupId - previous.groupId - 1 : previous.groupId - object.groupId - 1;
      if (groupDelta < 0) throw new RangeError(`group ${object.groupId} out of ${groupOrder} order after ${previous.groupId}`);
      if (object.objectId !== previous.objectId + 1) objectField = object.objectId;
    } else if (object.objectId !== previous.objectId + 1) {
      objectField = object.objectId - previous.objectId;
      if (objectField < 0) throw new RangeError(`object ${object.objectId} before ${previous.objectId} in group ${object.groupId}`);
    }
    if (groupDelta !== undefined) flags |= Flag.groupId;
    if (objectField !== undefined) flags |= Flag.objectId;
    if (previous === undefined || previous.publisherPriority !== object.publisherPriority) flags |= Flag.priority;
    if (object.extensions.length > 0) flags |= Flag.extensions;
    if (object.subgroupId === undefined) flags |= Flag.datagram;
    else if (object.subgroupId === 0) flags |= 0;
    else if (previous?.subgroupId === object.subgroupId) flags |= 1;
    else if (previous?.subgroupId !== undefined && previous.subgroupId + 1 === object.subgroupId) flags |= 2;
    else flags |= 3;
    writer.varint(flags);
    if (groupDelta !== undefined) writer.varint(groupDelta);
    if ((flags & Flag.datagram) === 0 && (flags & Flag.subgroupMask) === 3) writer.varint(object.subgroupId!);
    if (objectField !== undefined) writer.varint(objectField);
    if (flags & Flag.priority) writer.u8(object.publisherPriority);
    if (flags & Flag.extensions) writeExtensionBlock(writer, object.extensions, 'delta');
    writer.varint(object.payload.byteLength).bytes(object.payload);
  },
};

/** draft-19's data plane is draft-18's on the wire (draft-19 Change Log: semantic changes only). */
export const draft19DataCodec: DataCodec = { ...draft18DataCodec, version: 'draft-19' };
