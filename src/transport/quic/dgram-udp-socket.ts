/**
 * The node:dgram UdpSocket: one send (syscall) per packet, one 'message' event per datagram.
 * Used when the batched addon is unavailable or MOQ_GATEWAY_UDP=dgram.
 * Addresses here are always IP literals (they come from the socket or from a prior lookup),
 * so the socket gets a synchronous identity `lookup`, which spares Node's dns.lookup and its
 * extra tick on every send.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { HostPort } from './native-quiche.ts';
import { SOCKET_BUFFER_BYTES, type PacketBatch, type PacketsCallback, type UdpSocket, type UdpSocketOptions } from './udp-socket.ts';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;

function identityLookup(address: string, _options: unknown, callback: LookupCallback): void {
  callback(null, address, isIP(address) || 4);
}

const ONE_DATAGRAM = Int32Array.of(0, 0);

export class DgramUdpSocket implements UdpSocket {
  readonly #socket: dgram.Socket;
  readonly #connected: boolean;
  readonly local: HostPort;
  readonly reusesSendBuffer = false;
  #closed = false;
  onPackets: PacketsCallback = () => {};
  onUnreachable: () => void = () => {};
  /**
   * Send failures of a connected (client) socket are counted, not thrown: UDP is best effort
   * and QUIC recovers from loss. A listening socket sends without a completion callback: with
   * one, Node queues a nextTick per datagram (tens of thousands a second under fan-out) only
   * to report what QUIC treats as loss anyway.
   */
  sendErrors = 0;

  private constructor(socket: dgram.Socket, connected: boolean) {
    this.#socket = socket;
    this.#connected = connected;
    const address = socket.address();
    this.local = { host: address.address, port: address.port };
    socket.on('message', (packet, remote) => {
      ONE_DATAGRAM[1] = packet.byteLength;
      this.onPackets(packet, ONE_DATAGRAM, 1, { host: remote.address, port: remote.port });
    });
    socket.on('error', (error) => this.#afterSend(error));
  }

  static async bind(options: UdpSocketOptions): Promise<DgramUdpSocket> {
    const type = isIP(options.host) === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({
      type,
      lookup: identityLookup,
      reusePort: options.reusePort,
      recvBufferSize: SOCKET_BUFFER_BYTES,
      sendBufferSize: SOCKET_BUFFER_BYTES,
    });
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
    return new DgramUdpSocket(socket, options.connectTo !== undefined);
  }

  readonly #afterSend = (error: NodeJS.ErrnoException | null): void => {
    if (!error) return;
    this.sendErrors++;
    if (this.#connected && error.code === 'ECONNREFUSED') this.onUnreachable();
  };

  sendBatch(batch: PacketBatch): void {
    if (this.#closed) return;
    const { data, trains } = batch;
    for (let t = 0; t < batch.count; t++) {
      const offset = trains[t * 4]!;
      const length = trains[t * 4 + 1]!;
      const segment = trains[t * 4 + 2]!;
      const to = batch.peers[trains[t * 4 + 3]!]!;
      for (let at = 0; at < length; at += segment) {
        const packet = data.subarray(offset + at, offset + Math.min(length, at + segment));
        if (this.#connected) this.#socket.send(packet, this.#afterSend);
        else this.#socket.send(packet, to.port, to.host);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
