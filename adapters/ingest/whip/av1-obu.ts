import { MediaParseError } from '../../../src/media/errors.ts';

/** AV1 open bitstream units (AV1 spec §5.3): split a temporal unit, write it back with sizes. */

export const ObuType = {
  SequenceHeader: 1,
  TemporalDelimiter: 2,
  FrameHeader: 3,
  TileGroup: 4,
  Metadata: 5,
  Frame: 6,
  RedundantFrameHeader: 7,
  TileList: 8,
  Padding: 15,
} as const;

export interface Obu {
  type: number;
  /** The extension byte (temporal/spatial id), when obu_extension_flag is set. */
  extension: number | undefined;
  /** The OBU payload, without header or size field (a view into the input). */
  payload: Uint8Array;
}

/** leb128() (§4.10.5): at most 8 bytes, value below 2^32. Returns value and byte count. */
export function readLeb128(data: Uint8Array, offset: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (offset + i >= data.length) throw new MediaParseError('truncated leb128');
    const byte = data[offset + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (value > 0xffffffff) throw new MediaParseError('leb128 value exceeds 32 bits');
      return [value, i + 1];
    }
  }
  throw new MediaParseError('leb128 longer than 8 bytes');
}

function leb128Size(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeLeb128(out: Uint8Array, offset: number, value: number): number {
  let pos = offset;
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out[pos++] = byte;
  } while (value > 0);
  return pos;
}

/**
 * Split a temporal unit in low-overhead format (§5.2). The last OBU may omit its size field
 * (it then runs to the end), as RTP depacketizers produce.
 */
export function splitObus(data: Uint8Array): Obu[] {
  const obus: Obu[] = [];
  let pos = 0;
  while (pos < data.length) {
    const header = data[pos]!;
    if (header & 0x80) throw new MediaParseError('OBU forbidden bit set');
    const type = (header >> 3) & 0x0f;
    const hasExtension = (header & 0x04) !== 0;
    const hasSize = (header & 0x02) !== 0;
    pos++;
    let extension: number | undefined;
    if (hasExtension) {
      if (pos >= data.length) throw new MediaParseError('truncated OBU extension header');
      extension = data[pos++]!;
    }
    let size = data.length - pos;
    if (hasSize) {
      const [value, bytes] = readLeb128(data, pos);
      pos += bytes;
      if (value > data.length - pos) throw new MediaParseError(`OBU size ${value} overruns the temporal unit`);
      size = value;
    }
    obus.push({ type, extension, payload: data.subarray(pos, pos + size) });
    pos += size;
  }
  return obus;
}

/** One OBU with obu_has_size_field = 1, as ISOBMFF samples and av1C configOBUs want it. */
function obuLength(obu: Obu): number {
  return 1 + (obu.extension === undefined ? 0 : 1) + leb128Size(obu.payload.length) + obu.payload.length;
}

export function joinObus(obus: readonly Obu[]): Uint8Array {
  let total = 0;
  for (const obu of obus) total += obuLength(obu);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const obu of obus) {
    out[pos++] = (obu.type << 3) | (obu.extension === undefined ? 0 : 0x04) | 0x02;
    if (obu.extension !== undefined) out[pos++] = obu.extension;
    pos = writeLeb128(out, pos, obu.payload.length);
    out.set(obu.payload, pos);
    pos += obu.payload.length;
  }
  return out;
}
