/**
 * One UDP socket: receives datagrams for a packet handler and sends QUIC packets.
 * Addresses here are always IP literals (they come from the socket or from a prior lookup),
 * so the socket gets a synchronous identity `lookup`, which spares Node's dns.lookup and its
 * extra tick on every send.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { HostPort } from './native-quiche.ts';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;

function identityLookup(address: string, _options: unknown, callback: LookupCallback): void {
  callback(null, address, isIP(address) || 4);
}

/** Socket buffers sized for bursts of a fast connection (capped by net.core.[rw]mem_max). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export interface UdpEndpointOptions {
  readonly host: string;
  readonly port: number;
  /** Client sockets connect to their single peer. */
  readonly connectTo?: HostPort;
}

export class UdpEndpoint {
  readonly #socket: dgram.Socket;
  #local: HostPort = { host: '0.0.0.0', port: 0 };
  #closed = false;
  #connected = false;
  onPacket: (packet: Buffer, from: HostPort) => void = () => {};
  /**
   * A connected socket learned (ICMP port unreachable, reported as ECONNREFUSED) that nothing
   * listens at the peer's address any more.
   */
  onUnreachable: () => void = () => {};
  /**
   * Send failures of a connected (client) socket are counted, not thrown: UDP is best effort
   * and QUIC recovers from loss. A listening socket sends without a completion callback: with
   * one, Node queues a nextTick per datagram (tens of thousands a second under fan-out) only
   * to report what QUIC treats as loss anyway.
   */
  sendErrors = 0;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on('message', (packet, remote) => this.onPacket(packet, { host: remote.address, port: remote.port }));
    socket.on('error', (error) => this.#afterSend(error));
  }

  static async bind(options: UdpEndpointOptions): Promise<UdpEndpoint> {
    const type = isIP(options.host) === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, lookup: identityLookup, recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port, options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (options.connectTo) {
      const peer = options.connectTo;
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(peer.port, peer.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    }
    const endpoint = new UdpEndpoint(socket);
    endpoint.#connected = options.connectTo !== undefined;
    const address = socket.address();
    endpoint.#local = { host: address.address, port: address.port };
    return endpoint;
  }

  get local(): HostPort {
    return this.#local;
  }

  readonly #afterSend = (error: NodeJS.ErrnoException | null): void => {
    if (!error) return;
    this.sendErrors++;
    if (this.#connected && error.code === 'ECONNREFUSED') this.onUnreachable();
  };

  send(packet: Uint8Array, to: HostPort): void {
    if (this.#closed) return;
    if (this.#connected) this.#socket.send(packet, this.#afterSend);
    else this.#socket.send(packet, to.port, to.host);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

