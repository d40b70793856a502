/**
 * Transport stream packets, ISO/IEC 13818-1 §2.4.3: 188 bytes, sync byte 0x47, a 13-bit PID,
 * a 4-bit continuity counter per PID, and an adaptation field for the PCR, the random access
 * indicator and stuffing (a payload never fills a packet partly: the adaptation field pads it).
 */
export const TS_PACKET_SIZE = 188;
const HEADER_SIZE = 4;

export interface PacketFlags {
  /** 27 MHz PCR (base × 300 + extension), §2.4.3.5; written in the first packet only. */
  pcr?: number;
  /** random_access_indicator on the first packet (a keyframe starts here). */
  randomAccess?: boolean;
}

/** Continuity counters, one per PID, kept across segments so the stream stays continuous. */
export class ContinuityCounters {
  readonly #next = new Map<number, number>();

  take(pid: number): number {
    const counter = this.#next.get(pid) ?? 0;
    this.#next.set(pid, (counter + 1) & 0x0f);
    return counter;
  }
}

/**
 * Split one PES packet or PSI section (`payload`, starting at its first byte) into TS packets
 * written to `out` from `offset`; returns the offset after them. `out` must have room for
 * `packetCount(payload.length, flags)` packets.
 */
export function packetize(out: Uint8Array, offset: number, pid: number, payload: Uint8Array, counters: ContinuityCounters, flags: PacketFlags = {}): number {
  let pos = 0;
  let first = true;
  while (first || pos < payload.length) {
    const fields = first ? adaptationBody(flags) : EMPTY;
    const room = TS_PACKET_SIZE - HEADER_SIZE - (fields.length > 0 ? 1 + fields.length : 0);
    const take = Math.min(room, payload.length - pos);
    // Stuffing: the adaptation field grows to fill what the payload leaves (§2.4.3.4). Its
    // length byte alone pads one byte; more adds a flags byte of 0 and 0xff bytes.
    const stuffing = room - take;
    const adaptation = fields.length > 0 ? 1 + fields.length + stuffing : stuffing;
    out[offset] = 0x47;
    out[offset + 1] = (first ? 0x40 : 0) | ((pid >>> 8) & 0x1f); // payload_unit_start_indicator
    out[offset + 2] = pid & 0xff;
    out[offset + 3] = (adaptation > 0 ? 0x30 : 0x10) | counters.take(pid);
    let p = offset + HEADER_SIZE;
    if (adaptation > 0) {
      out[p] = adaptation - 1; // adaptation_field_length counts the bytes after itself
      if (adaptation > 1) {
        out[p + 1] = 0;
        out.set(fields, p + 1);
        out.fill(0xff, p + 1 + Math.max(fields.length, 1), p + adaptation);
      }
      p += adaptation;
    }
    out.set(payload.subarray(pos, pos + take), p);
    pos += take;
    offset += TS_PACKET_SIZE;
    first = false;
  }
  return offset;
}

const EMPTY = new Uint8Array(0);

/** Packets `packetize` writes for a payload of `length` bytes. */
export function packetCount(length: number, flags: PacketFlags = {}): number {
  const body = adaptationBody(flags).length;
  const firstRoom = TS_PACKET_SIZE - HEADER_SIZE - (body > 0 ? 1 + body : 0);
  if (length <= firstRoom) return 1;
  return 1 + Math.ceil((length - firstRoom) / (TS_PACKET_SIZE - HEADER_SIZE));
}

/** The adaptation field after its length byte (flags, PCR) for the first packet; empty if none. */
function adaptationBody(flags: PacketFlags): Uint8Array {
  if (flags.pcr === undefined && !flags.randomAccess) return EMPTY;
  const fields = new Uint8Array(flags.pcr === undefined ? 1 : 7);
  fields[0] = (flags.randomAccess ? 0x40 : 0) | (flags.pcr !== undefined ? 0x10 : 0);
  if (flags.pcr !== undefined) {
    const base = Math.floor(flags.pcr / 300) % 2 ** 33;
    const extension = flags.pcr % 300;
    // program_clock_reference_base (33 bits), 6 reserved bits, extension (9 bits).
    fields[1] = Math.floor(base / 2 ** 25) & 0xff;
    fields[2] = Math.floor(base / 2 ** 17) & 0xff;
    fields[3] = Math.floor(base / 2 ** 9) & 0xff;
    fields[4] = Math.floor(base / 2) & 0xff;
    fields[5] = ((base % 2) << 7) | 0x7e | ((extension >>> 8) & 1);
    fields[6] = extension & 0xff;
  }
  return fields;
}
