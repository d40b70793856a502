/**
 * SUBGROUP_HEADER streams (draft-16 §10.4.2, draft-14 §10.4.2): a header naming the track alias,
 * group and subgroup, then objects as {Object ID Delta, [Extensions], Payload Length, [Status],
 * Payload}. The first object's delta is its ID; each later one adds delta + 1 to the previous ID.
 */
import { ByteWriter } from '../../../wire/byte-writer.ts';
import type { StreamReader } from '../../../wire/stream-reader.ts';
import { violation } from '../errors.ts';
import type { DataCodec } from './data-codec.ts';
import { readExtensionBlockFrom, writeExtensionBlock } from './extensions.ts';
import type { MoqObject, SubgroupHeader } from './objects.ts';

/** Reads the header after its type varint (already read to route the stream). */
export async function readSubgroupHeader(reader: StreamReader, type: number, codec: DataCodec): Promise<SubgroupHeader> {
  const flags = codec.subgroupFlags(type);
  if (!flags) throw violation(`invalid subgroup header type 0x${type.toString(16)}`, 'unknown-stream-type');
  const trackAlias = await reader.varint();
  const groupId = await reader.varint();
  const subgroupId = flags.subgroupId === 'present' ? await reader.varint() : flags.subgroupId === 'zero' ? 0 : 'firstObject';
  const publisherPriority = flags.hasPriority ? await reader.u8() : undefined;
  const header: SubgroupHeader = { trackAlias, groupId, subgroupId, publisherPriority, hasExtensions: flags.hasExtensions, endOfGroup: flags.endOfGroup };
  if (flags.firstObject) header.firstObject = true;
  return header;
}

/** The next object, or undefined when the stream ended cleanly between objects. */
export async function readSubgroupObject(
  reader: StreamReader,
  header: SubgroupHeader,
  previousObjectId: number | undefined,
  codec: DataCodec,
  maxPayloadBytes: number,
): Promise<MoqObject | undefined> {
  if (await reader.atEnd()) return undefined;
  const delta = await reader.varint();
  const objectId = previousObjectId === undefined ? delta : previousObjectId + delta + 1;
  if (!Number.isSafeInteger(objectId)) throw violation('object ID overflows', 'value-too-large');
  const extensions = header.hasExtensions ? await readExtensionBlockFrom(reader, codec.extensionEncoding) : [];
  const length = await reader.varint();
  if (length > maxPayloadBytes) throw violation(`object of ${length} bytes exceeds ${maxPayloadBytes}`, 'message-too-large');
  if (length > 0) return { objectId, status: 'normal', extensions, payload: await reader.bytes(length) };
  // §10.4.2: the status is only present when the payload is empty.
  const status = codec.decodeStatus(await reader.varint());
  if (status !== 'normal' && extensions.length > 0) throw violation(`extensions on an object with status ${status}`);
  return { objectId, status, extensions, payload: new Uint8Array(0) };
}

export function encodeSubgroupHeader(header: SubgroupHeader, codec: DataCodec): Uint8Array {
  const hasPriority = header.publisherPriority !== undefined;
  const flags = {
    subgroupId: header.subgroupId === 'firstObject' ? ('firstObject' as const) : header.subgroupId === 0 ? ('zero' as const) : ('present' as const),
    hasExtensions: header.hasExtensions,
    endOfGroup: header.endOfGroup,
    hasPriority,
    firstObject: header.firstObject,
  };
  const writer = new ByteWriter(24, codec.integers).varint(codec.subgroupType(flags)).varint(header.trackAlias).varint(header.groupId);
  if (flags.subgroupId === 'present') writer.varint(header.subgroupId as number);
  if (hasPriority) writer.u8(header.publisherPriority!);
  return writer.finish();
}

/** The object's fields; `payload` is copied in, so keep big payloads for `encodeSubgroupObjectHead`. */
export function encodeSubgroupObject(header: SubgroupHeader, object: MoqObject, previousObjectId: number | undefined, codec: DataCodec): Uint8Array {
  const head = encodeSubgroupObjectHead(header, object, previousObjectId, codec);
  if (object.payload.byteLength === 0) return head;
  const out = new Uint8Array(head.byteLength + object.payload.byteLength);
  out.set(head, 0);
  out.set(object.payload, head.byteLength);
  return out;
}

/** Everything before the payload, so a sender can write the payload view without copying it. */
export function encodeSubgroupObjectHead(header: SubgroupHeader, object: MoqObject, previousObjectId: number | undefined, codec: DataCodec): Uint8Array {
  const delta = previousObjectId === undefined ? object.objectId : object.objectId - previousObjectId - 1;
  if (delta < 0) throw new RangeError(`object ${object.objectId} does not follow ${previousObjectId}`);
  const writer = new ByteWriter(16, codec.integers).varint(delta);
  if (header.hasExtensions) writeExtensionBlock(writer, object.extensions, codec.extensionEncoding);
  else if (object.extensions.length > 0) throw new RangeError('extensions on a subgroup stream without the EXTENSIONS bit');
  writer.varint(object.payload.byteLength);
  if (object.payload.byteLength === 0) writer.varint(codec.encodeStatus(object.status));
  return writer.finish();
}
