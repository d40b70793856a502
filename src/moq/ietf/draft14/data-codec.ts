/**
 * draft-14 data plane (§10): subgroup header types 0x10–0x15/0x18–0x1D (publisher priority always
 * present), statuses 0/1/3/4, absolute extension types, fully explicit FETCH objects, and
 * OBJECT_DATAGRAM types 0x00–0x07 / 0x20–0x21.
 */
import { ByteReader } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { type DataCodec, subgroupBits, subgroupTypeBits } from '../data/data-codec.ts';
import { readExtensionBlock, readExtensionBlockFrom, writeExtensionBlock } from '../data/extensions.ts';
import type { ObjectStatus } from '../data/objects.ts';

const STATUS: Readonly<Record<ObjectStatus, number>> = { normal: 0x0, doesNotExist: 0x1, endOfGroup: 0x3, endOfTrack: 0x4 };

export const draft14DataCodec: DataCodec = {
  version: 'draft-14',
  integers: 'quic',
  extensionEncoding: 'absolute',

  subgroupFlags(type) {
    // §10.4.2: no DEFAULT_PRIORITY bit in draft-14, so 0x30–0x3F are not subgroup headers.
    if (type > 0x1f) return undefined;
    const bits = subgroupBits(type);
    return bits && { ...bits, hasPriority: true };
  },

  subgroupType(flags) {
    if (!flags.hasPriority) throw new RangeError('draft-14 subgroup headers always carry a priority');
    return subgroupTypeBits(flags);
  },

  decodeStatus(value) {
    for (const [status, code] of Object.entries(STATUS) as [ObjectStatus, number][]) if (code === value) return status;
    throw violation(`unknown object status ${value}`);
  },

  encodeStatus(status) {
    return STATUS[status];
  },

  async readFetchObject(reader, _previous, maxPayloadBytes) {
    if (await reader.atEnd()) return undefined;
    const groupId = await reader.varint();
    const subgroupId = await reader.varint();
    const objectId = await reader.varint();
    const publisherPriority = await reader.u8();
    const extensions = await readExtensionBlockFrom(reader, 'absolute');
    const length = await reader.varint();
    if (length > maxPayloadBytes) throw violation(`object of ${length} bytes exceeds ${maxPayloadBytes}`, 'message-too-large');
    if (length > 0) {
      return { groupId, subgroupId, objectId, publisherPriority, status: 'normal', extensions, payload: await reader.bytes(length) };
    }
    const status = this.decodeStatus(await reader.varint());
    return { groupId, subgroupId, objectId, publisherPriority, status, extensions, payload: new Uint8Array(0) };
  },

  writeFetchObject(writer, object) {
    writer.varint(object.groupId).varint(object.subgroupId ?? object.objectId).varint(object.objectId).u8(object.publisherPriority);
    writeExtensionBlock(writer, object.extensions, 'absolute');
    writer.varint(object.payload.byteLength);
    if (object.payload.byteLength === 0) writer.varint(STATUS[object.status]);
    else writer.bytes(object.payload);
  },

  decodeDatagram(bytes) {
    const r = new ByteReader(bytes);
    const type = r.varint();
    const isStatus = type === 0x20 || type === 0x21;
    if (type > 0x07 && !isStatus) throw violation(`invalid datagram type 0x${type.toString(16)}`, 'unknown-stream-type');
    const hasExtensions = (type & 0x01) !== 0;
    const endOfGroup = !isStatus && (type & 0x02) !== 0;
    const trackAlias = r.varint();
    const groupId = r.varint();
    const objectId = !isStatus && (type & 0x04) !== 0 ? 0 : r.varint();
    const publisherPriority = r.u8();
    const extensions = hasExtensions ? readExtensionBlock(r, 'absolute') : [];
    if (hasExtensions && extensions.length === 0) throw violation('datagram EXTENSIONS bit set with an empty block');
    if (isStatus) {
      const status = this.decodeStatus(r.varint());
      r.expectEnd('OBJECT_DATAGRAM_STATUS');
      return { trackAlias, groupId, objectId, publisherPriority, endOfGroup, status, extensions, payload: new Uint8Array(0) };
    }
    return { trackAlias, groupId, objectId, publisherPriority, endOfGroup, status: 'normal', extensions, payload: r.rest() };
  },

  encodeDatagram(object) {
    const isStatus = object.status !== 'normal';
    const hasExtensions = object.extensions.length > 0;
    let type: number;
    if (isStatus) type = 0x20 | (hasExtensions ? 0x01 : 0);
    else type = (hasExtensions ? 0x01 : 0) | (object.endOfGroup ? 0x02 : 0) | (object.objectId === 0 ? 0x04 : 0);
    const w = new ByteWriter(object.payload.byteLength + 24).varint(type).varint(object.trackAlias).varint(object.groupId);
    if (isStatus || object.objectId !== 0) w.varint(object.objectId);
    w.u8(object.publisherPriority ?? 128);
    if (hasExtensions) writeExtensionBlock(w, object.extensions, 'absolute');
    if (isStatus) w.varint(STATUS[object.status]);
    else w.bytes(object.payload);
    return w.finish();
  },
};
