/**
 * Just enough of the QUIC packet header (RFC 9000 §17, RFC 8999 invariants) to route a
 * datagram to its connection: the Destination Connection ID. Returns undefined for anything
 * too short to hold one, so garbage is dropped without an allocation.
 */
export function destinationConnectionId(packet: Uint8Array, shortHeaderIdLength: number): Uint8Array | undefined {
  if (packet.byteLength < 1) return undefined;
  if ((packet[0]! & 0x80) === 0) {
    // Short header: flags, then a DCID whose length only the receiver knows (ours are fixed).
    if (packet.byteLength < 1 + shortHeaderIdLength) return undefined;
    return packet.subarray(1, 1 + shortHeaderIdLength);
  }
  // Long header: flags, version (4), DCID length (1), DCID.
  if (packet.byteLength < 6) return undefined;
  const length = packet[5]!;
  if (packet.byteLength < 6 + length) return undefined;
  return packet.subarray(6, 6 + length);
}

export const isLongHeader = (packet: Uint8Array): boolean => packet.byteLength > 0 && (packet[0]! & 0x80) !== 0;

export const connectionIdKey = (id: Uint8Array): string => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
