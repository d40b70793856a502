/**
 * Send-time stamps carried inside media: a 16-byte marker followed by ASCII
 * `<ms with µs>;<sequence>;`. ASCII digits and a marker without two zero bytes in a
 * row need no H.264 emulation prevention, so the same bytes work as raw payload, inside an H.264
 * SEI user_data_unregistered message, in FLV, fMP4 and MPEG-TS: receivers just search for the
 * marker. All processes run on one machine, and `now()` reads CLOCK_MONOTONIC (process.hrtime),
 * which every process shares. performance.timeOrigin + performance.now() is not one clock: each
 * process samples the wall clock once at start, so NTP steps between starts skew processes by
 * milliseconds (CI saw a latency of −2.3 ms).
 */

/** user_data_unregistered UUID (no zero bytes). */
export const STAMP_MARKER = Buffer.from('4d6f5142656e6368f1e2d3c4b5a69788', 'hex'); // "MoQBench" + 8 bytes

export const now = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

/** Marker + "t;seq;" as bytes. */
export function stampBytes(sequence: number, at = now()): Buffer {
  return Buffer.concat([STAMP_MARKER, Buffer.from(`${at.toFixed(3)};${sequence};`, 'latin1')]);
}

export interface Stamp {
  sentAt: number;
  sequence: number;
}

/** Finds the first stamp in `bytes` (searching at most `limit` bytes), or undefined. */
export function findStamp(bytes: Uint8Array, limit = bytes.byteLength): Stamp | undefined {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = buf.subarray(0, Math.min(limit, buf.byteLength)).indexOf(STAMP_MARKER);
  if (at < 0) return undefined;
  return parseAfter(buf, at + STAMP_MARKER.byteLength);
}

/** Every stamp in `bytes` (an HLS part or segment holds many frames). */
export function findStamps(bytes: Uint8Array): Stamp[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Stamp[] = [];
  for (let at = buf.indexOf(STAMP_MARKER); at >= 0; at = buf.indexOf(STAMP_MARKER, at + 1)) {
    const stamp = parseAfter(buf, at + STAMP_MARKER.byteLength);
    if (stamp) out.push(stamp);
  }
  return out;
}

function parseAfter(buf: Buffer, start: number): Stamp | undefined {
  const end1 = buf.indexOf(0x3b, start);
  if (end1 < 0 || end1 - start > 24) return undefined;
  const end2 = buf.indexOf(0x3b, end1 + 1);
  if (end2 < 0 || end2 - end1 > 16) return undefined;
  const sentAt = Number(buf.toString('latin1', start, end1));
  const sequence = Number(buf.toString('latin1', end1 + 1, end2));
  if (!Number.isFinite(sentAt) || !Number.isInteger(sequence)) return undefined;
  return { sentAt, sequence };
}

/**
 * An H.264 SEI NAL unit (type 6, payload type 5 user_data_unregistered) carrying a stamp, without
 * a length prefix. The payload is free of 00 00 0x sequences, so no emulation prevention.
 */
export function stampSei(sequence: number, at = now()): Buffer {
  const payload = stampBytes(sequence, at);
  if (payload.byteLength >= 255) throw new Error('stamp too long');
  return Buffer.concat([Buffer.from([0x06, 0x05, payload.byteLength]), payload, Buffer.from([0x80])]);
}
