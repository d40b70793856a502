/**
 * The packet I/O under the QUIC endpoints, as one small interface with two implementations:
 * batched (native addon: sendmmsg + UDP_SEGMENT trains out, recvmmsg + UDP_GRO in, one native
 * call per burst) and node:dgram (one syscall per packet), chosen once per process (udpMode()).
 */
import type { HostPort } from './native-quiche.ts';

/**
 * Packets to send: `trains` holds [offset, length, segment size, peer index] per train, a
 * train being consecutive packets of `segment` bytes for one peer (the last may be shorter)
 * within `data`; `peers[peer index]` is where it goes (ignored by a connected socket).
 */
export interface PacketBatch {
  readonly data: Uint8Array;
  readonly trains: Int32Array;
  readonly count: number;
  readonly peers: readonly HostPort[];
}

/**
 * Datagrams received from one source: datagram i is
 * `buffer.subarray(offsets[2i], offsets[2i] + offsets[2i + 1])`, valid only during the call.
 */
export type PacketsCallback = (buffer: Uint8Array, offsets: Int32Array, count: number, from: HostPort) => void;

export interface UdpSocketOptions {
  readonly host: string;
  readonly port: number;
  /** SO_REUSEPORT: several sockets (processes) share the port; the kernel spreads flows. */
  readonly reusePort?: boolean;
  /** Client sockets connect to their single peer. */
  readonly connectTo?: HostPort;
}

export interface UdpSocket {
  readonly local: HostPort;
  /**
   * True if `data` of a batch may be overwritten as soon as sendBatch returns (the native
   * socket copies into the kernel synchronously; node:dgram may still hold it).
   */
  readonly reusesSendBuffer: boolean;
  sendBatch(batch: PacketBatch): void;
  onPackets: PacketsCallback;
  /** A connected socket learned (ECONNREFUSED from ICMP port unreachable) that its peer is gone. */
  onUnreachable: () => void;
  /** Datagrams the kernel refused (buffer full, peer unreachable): QUIC treats them as loss. */
  readonly sendErrors: number;
  close(): Promise<void>;
}

/** Socket buffers sized for bursts of a fast connection (capped by net.core.[rw]mem_max). */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
