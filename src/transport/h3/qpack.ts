/**
 * QPACK field sections (RFC 9204 §4.5) without a dynamic table: we advertise
 * SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0, so a peer may only use the static table and
 * literals. Any dynamic-table reference is a decompression failure.
 */
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import { QpackReader, pushInteger, pushString } from './qpack-primitives.ts';
import { QPACK_STATIC_TABLE } from './qpack-static-table.ts';

export type FieldLine = readonly [name: string, value: string];

/** Total decoded size limit (RFC 9114 §4.2.2 counts name + value + 32 per line). */
const DEFAULT_MAX_FIELD_SECTION_SIZE = 64 * 1024;

const fail = (message: string): Http3Error => new Http3Error(H3ErrorCode.QpackDecompressionFailed, message);

// Header bytes are octets, not UTF-8 (RFC 9110 §5.5): decode and encode them 1:1.
const toText = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
const toBytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));

function staticEntry(index: number): readonly [string, string] {
  const entry = QPACK_STATIC_TABLE[index];
  if (!entry) throw fail(`static table index ${index} out of range`);
  return entry;
}

export function decodeFieldSection(block: Uint8Array, maxFieldSectionSize = DEFAULT_MAX_FIELD_SECTION_SIZE): FieldLine[] {
  const reader = new QpackReader(block);
  // §4.5.1: Encoded Field Section Prefix.
  const requiredInsertCount = reader.integer(8);
  if (requiredInsertCount !== 0) throw fail('field section references the dynamic table');
  reader.integer(7); // Delta Base (sign bit + 7-bit prefix); meaningless without a dynamic table
  const fields: FieldLine[] = [];
  let size = 0;
  while (!reader.atEnd) {
    const first = reader.peek();
    let name: string;
    let value: string;
    if (first & 0x80) {
      // §4.5.2 Indexed Field Line: 1 T index(6+)
      if ((first & 0x40) === 0) throw fail('dynamic table reference');
      [name, value] = staticEntry(reader.integer(6));
    } else if (first & 0x40) {
      // §4.5.4 Literal Field Line with Name Reference: 0 1 N T index(4+), value
      if ((first & 0x10) === 0) throw fail('dynamic table name reference');
      name = staticEntry(reader.integer(4))[0];
      value = toText(reader.string(7));
    } else if (first & 0x20) {
      // §4.5.6 Literal Field Line with Literal Name: 0 0 1 N H length(3+), name, value
      name = toText(reader.string(3));
      value = toText(reader.string(7));
    } else {
      // §4.5.3 / §4.5.5: post-base forms exist only with a dynamic table.
      throw fail('post-base dynamic table reference');
    }
    size += name.length + value.length + 32;
    if (size > maxFieldSectionSize) throw new Http3Error(H3ErrorCode.ExcessiveLoad, 'field section too large');
    fields.push([name, value]);
  }
  return fields;
}

export function encodeFieldSection(fields: readonly FieldLine[]): Uint8Array {
  const out: number[] = [0x00, 0x00]; // Required Insert Count 0, Delta Base 0
  for (const [name, value] of fields) {
    const exact = QPACK_STATIC_TABLE.findIndex(([n, v]) => n === name && v === value);
    if (exact >= 0) {
      pushInteger(out, 0xc0, 6, exact); // indexed, static
      continue;
    }
    const nameIndex = QPACK_STATIC_TABLE.findIndex(([n]) => n === name);
    if (nameIndex >= 0) {
      pushInteger(out, 0x50, 4, nameIndex); // literal with static name reference, N = 0
    } else {
      pushString(out, 0x20, 3, toBytes(name)); // literal name, N = 0
    }
    pushString(out, 0x00, 7, toBytes(value));
  }
  return Uint8Array.from(out);
}
