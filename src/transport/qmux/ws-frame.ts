/**
 * Server-to-client WebSocket frame headers (RFC 6455 §5.2): FIN + binary opcode, no mask
 * (servers never mask, §5.1), payload length in 7, 16 or 64 bits. We write our binary frames
 * straight to the socket so a payload is referenced, not copied, by every viewer's frame.
 */

/** Header bytes of an unmasked frame carrying `payloadLength` bytes. */
export function wsHeaderLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
}

/** Writes a FIN|binary header at `at`; returns the offset after it. */
export function writeWsBinaryHeader(target: Uint8Array, at: number, payloadLength: number): number {
  target[at] = 0x82;
  if (payloadLength < 126) {
    target[at + 1] = payloadLength;
    return at + 2;
  }
  if (payloadLength < 0x10000) {
    target[at + 1] = 126;
    target[at + 2] = payloadLength >>> 8;
    target[at + 3] = payloadLength & 0xff;
    return at + 4;
  }
  target[at + 1] = 127;
  const high = Math.floor(payloadLength / 2 ** 32);
  const low = payloadLength >>> 0;
  target[at + 2] = 0;
  target[at + 3] = 0;
  target[at + 4] = (high >>> 8) & 0xff;
  target[at + 5] = high & 0xff;
  target[at + 6] = low >>> 24;
  target[at + 7] = (low >>> 16) & 0xff;
  target[at + 8] = (low >>> 8) & 0xff;
  target[at + 9] = low & 0xff;
  return at + 10;
}
