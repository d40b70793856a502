/**
 * Connection-ID steering between processes that share one UDP port through SO_REUSEPORT
 * (`--workers N`). The kernel picks a socket by hashing the 4-tuple, so a connection's packets
 * reach another process when the client's address changes (NAT rebinding) or when the set of
 * sockets changes (a worker restarts: every flow is rehashed). Each server writes its tag into
 * the first byte of the connection IDs it issues; a packet for an unknown connection whose
 * Destination Connection ID the server chose names its owner, and is handed to it with the
 * address it came from. A client's Initial and 0-RTT packets carry the DCID the client picked
 * (RFC 9000 §7.2, §17.2.1), so they stay where they land: a new connection belongs there.
 */
import type { HostPort } from './native-quiche.ts';

export interface QuicSteering {
  /** This server's tag (0…254), the first byte of every connection ID it issues. */
  readonly self: number;
  /** Hands a packet of a connection `owner` issued the ID of to that server. */
  forward(owner: number, packet: Uint8Array, from: HostPort): void;
}

/** Long-header packet types of QUIC v1 whose DCID the client chose: Initial (0), 0-RTT (1). */
const clientChosenDcid = (packet: Uint8Array): boolean => (packet[0]! & 0x80) !== 0 && ((packet[0]! & 0x30) >> 4 === 0 || (packet[0]! & 0x30) >> 4 === 1);

/** The tag of the server that issued `dcid`, when the packet carries a server-chosen one of `length` bytes. */
export function steeringOwner(packet: Uint8Array, dcid: Uint8Array, length: number): number | undefined {
  if (dcid.byteLength !== length || clientChosenDcid(packet)) return undefined;
  return dcid[0];
}

/**
 * A forwarded datagram: the source port (u16), the source host's length (u8) and text, then the
 * packet unchanged. Only ever exchanged on loopback between the workers of one gateway.
 */
export function encodeForwarded(packet: Uint8Array, from: HostPort): Uint8Array {
  const host = Buffer.from(from.host, 'latin1');
  if (host.byteLength > 255) throw new RangeError(`host too long: ${from.host}`);
  const out = new Uint8Array(3 + host.byteLength + packet.byteLength);
  out[0] = from.port >> 8;
  out[1] = from.port & 0xff;
  out[2] = host.byteLength;
  out.set(host, 3);
  out.set(packet, 3 + host.byteLength);
  return out;
}

/** The packet and where it came from, or undefined for anything malformed. */
export function decodeForwarded(datagram: Uint8Array): { packet: Uint8Array; from: HostPort } | undefined {
  if (datagram.byteLength < 3) return undefined;
  const length = datagram[2]!;
  if (length === 0 || datagram.byteLength <= 3 + length) return undefined;
  const host = Buffer.from(datagram.buffer, datagram.byteOffset + 3, length).toString('latin1');
  if (!/^[0-9a-fA-F.:]+$/.test(host)) return undefined;
  return { packet: datagram.subarray(3 + length), from: { host, port: (datagram[0]! << 8) | datagram[1]! } };
}
