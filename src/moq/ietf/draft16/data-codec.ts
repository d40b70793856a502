/**
 * draft-16 data plane (§10): subgroup header types 0x10–0x1D and 0x30–0x3D (0x20 = DEFAULT_PRIORITY,
 * no priority byte), statuses 0/3/4, delta-encoded extension types, FETCH objects with
 * Serialization Flags (§10.4.4), and OBJECT_DATAGRAM types 0b00X0XXXX.
 */
import { ByteReader } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { type DataCodec, subgroupBits, subgroupTypeBits } from '../data/data-codec.ts';
import { readExtensionBlock, readExtensionBlockFrom, writeExtensionBlock } from '../data/extensions.ts';
import type { FetchObject, ObjectStatus } from '../data/objects.ts';

const STATUS: Readonly<Partial<Record<ObjectStatus, number>>> = { normal: 0x0, endOfGroup: 0x3, endOfTrack: 0x4 };

/** §10.4.4.1 Serialization Flags. */
const Flag = {
  subgroupMask: 0x03,
  objectId: 0x04,
  groupId: 0x08,
  priority: 0x10,
  extensions: 0x20,
  datagram: 0x40,
} as const;
const END_OF_NON_EXISTENT_RANGE = 0x8c;
const END_OF_UNKNOWN_RANGE = 0x10c;

export const draft16DataCodec: DataCodec = {
  version: 'draft-16',
  integers: 'quic',
  extensionEncoding: 'delta',

  subgroupFlags(type) {
    const bits = subgroupBits(type);
    return bits && { ...bits, hasPriority: (type & 0x20) === 0 };
  },

  subgroupType(flags) {
    return subgroupTypeBits(flags) | (flags.hasPriority ? 0 : 0x20);
  },

  decodeStatus(value) {
    for (const [status, code] of Object.entries(STATUS) as [ObjectStatus, number][]) if (code === value) return status;
    throw violation(`unknown object status ${value}`);
  },

  encodeStatus(status) {
    const code = STATUS[status];
    if (code === undefined) throw new RangeError(`draft-16 has no object status ${status}`);
    return code;
  },

  async readFetchObject(reader, previous, maxPayloadBytes) {
    if (await reader.atEnd()) return undefined;
    const flags = await reader.varint();
    if (flags === END_OF_NON_EXISTENT_RANGE || flags === END_OF_UNKNOWN_RANGE) {
      const groupId = await reader.varint();
      const objectId = await reader.varint();
      return { endOfRange: flags === END_OF_NON_EXISTENT_RANGE ? 'nonExistent' : 'unknown', groupId, objectId };
    }
    if (flags >= 0x80) throw violation(`invalid fetch serialization flags 0x${flags.toString(16)}`);
    // §10.4.4.1: the first object may not refer to a prior object.
    const prior = (what: string): FetchObject => {
      if (previous === undefined) throw violation(`first fetch object omits its ${what}`);
      return previous;
    };
    const groupId = flags & Flag.groupId ? await reader.varint() : prior('group ID').groupId;
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
    const objectId = flags & Flag.objectId ? await reader.varint() : prior('object ID').objectId + 1;
    const publisherPriority = flags & Flag.priority ? await reader.u8() : prior('priority').publisherPriority;
    const extensions = flags & Flag.extensions ? await readExtensionBlockFrom(reader, 'delta') : [];
    const length = await reader.varint();
    if (length > maxPayloadBytes) throw violation(`object of ${length} bytes exceeds ${maxPayloadBytes}`, 'message-too-large');
    const payload = length > 0 ? await reader.bytes(length) : new Uint8Array(0);
    return { groupId, subgroupId, objectId, publisherPriority, status: 'normal', extensions, payload };
  },

  writeFetchObject(writer, object, previous) {
    let flags = 0;
    const sameGroup = previous !== undefined && previous.groupId === object.groupId;
    if (!sameGroup) flags |= Flag.groupId;
    if (previous === undefined || object.objectId !== previous.objectId + 1 || !sameGroup) flags |= Flag.objectId;
    if (previous === undefined || previous.publisherPriority !== object.publisherPriority) flags |= Flag.priority;
    if (object.extensions.length > 0) flags |= Flag.extensions;
    if (object.subgroupId === undefined) flags |= Flag.datagram;
    else if (object.subgroupId === 0) flags |= 0;
    else if (previous?.subgroupId === object.subgroupId) flags |= 1;
    else if (previous?.subgroupId !== undefined && previous.subgroupId + 1 === object.subgroupId) flags |= 2;
    else flags |= 3;
    writer.varint(flags);
    if (flags & Flag.groupId) writer.varint(object.groupId);
    if ((flags & Flag.datagram) === 0 && (flags & Flag.subgroupMask) === 3) writer.varint(object.subgroupId!);
    if (flags & Flag.objectId) writer.varint(object.objectId);
    if (flags & Flag.priority) writer.u8(object.publisherPriority);
    if (flags & Flag.extensions) writeExtensionBlock(writer, object.extensions, 'delta');
    writer.varint(object.payload.byteLength).bytes(object.payload);
  },

  decodeDatagram(bytes) {
    const r = new ByteReader(bytes, this.integers);
    const type = r.varint();
    // §10.3.1: 0b00X0XXXX, and STATUS cannot combine with END_OF_GROUP.
    if ((type & ~0x2f) !== 0 || ((type & 0x20) !== 0 && (type & 0x02) !== 0)) {
      throw violation(`invalid datagram type 0x${type.toString(16)}`, 'unknown-stream-type');
    }
    const isStatus = (type & 0x20) !== 0;
    const hasExtensions = (type & 0x01) !== 0;
    const trackAlias = r.varint();
    const groupId = r.varint();
    const objectId = (type & 0x04) !== 0 ? 0 : r.varint();
    const publisherPriority = (type & 0x08) !== 0 ? undefined : r.u8();
    const extensions = hasExtensions ? readExtensionBlock(r, 'delta') : [];
    if (hasExtensions && extensions.length === 0) throw violation('datagram EXTENSIONS bit set with an empty block');
    const endOfGroup = (type & 0x02) !== 0;
    if (isStatus) {
      const status = this.decodeStatus(r.varint());
      if (status !== 'normal' && extensions.length > 0) throw violation(`extensions on an object with status ${status}`);
      r.expectEnd('OBJECT_DATAGRAM');
      return { trackAlias, groupId, objectId, publisherPriority, endOfGroup, status, extensions, payload: new Uint8Array(0) };
    }
    return { trackAlias, groupId, objectId, publisherPriority, endOfGroup, status: 'normal', extensions, payload: r.rest() };
  },

  encodeDatagram(object) {
    const isStatus = object.status !== 'normal';
    const hasExtensions = object.extensions.length > 0;
    const type =
      (hasExtensions ? 0x01 : 0) |
      (!isStatus && object.endOfGroup ? 0x02 : 0) |
      (object.objectId === 0 ? 0x04 : 0) |
      (object.publisherPriority === undefined ? 0x08 : 0) |
      (isStatus ? 0x20 : 0);
    const w = new ByteWriter(object.payload.byteLength + 24, this.integers).varint(type).varint(object.trackAlias).varint(object.groupId);
    if (object.objectId !== 0) w.varint(object.objectId);
    if (object.publisherPriority !== undefined) w.u8(object.publisherPriority);
    if (hasExtensions) writeExtensionBlock(w, object.extensions, 'delta');
    if (isStatus) w.varint(this.encodeStatus(object.status));
    else w.bytes(object.payload);
    return w.finish();
  },
};
