/**
 * One UDP socket of a QUIC endpoint (the server's listener or a client's connected socket):
 * the socket chosen by udpMode() (batched addon or node:dgram), the packet memory quiche
 * writes into (PacketTrains, flushed once per event-loop turn), and per-datagram dispatch of
 * what arrives.
 */
import { BatchedUdpSocket } from './batched-udp-socket.ts';
import { DgramUdpSocket } from './dgram-udp-socket.ts';
import type { HostPort } from './native-quiche.ts';
import { nativeUdp } from './native-udp.ts';
import { PacketTrains } from './packet-trains.ts';
import type { UdpSocket, UdpSocketOptions } from './udp-socket.ts';

export class UdpEndpoint {
  readonly #socket: UdpSocket;
  readonly #trains: PacketTrains;
  onPacket: (packet: Uint8Array, from: HostPort) => void = () => {};
  /**
   * A connected socket learned (ICMP port unreachable, reported as ECONNREFUSED) that nothing
   * listens at the peer's address any more.
   */
  onUnreachable: () => void = () => {};

  private constructor(socket: UdpSocket) {
    this.#socket = socket;
    this.#trains = new PacketTrains(socket);
    socket.onPackets = (buffer, offsets, count, from) => {
      for (let i = 0; i < count; i++) {
        const offset = offsets[i * 2]!;
        this.onPacket(buffer.subarray(offset, offset + offsets[i * 2 + 1]!), from);
      }
    };
    socket.onUnreachable = () => this.onUnreachable();
  }

  static async bind(options: UdpSocketOptions): Promise<UdpEndpoint> {
    const socket = nativeUdp ? new BatchedUdpSocket(nativeUdp, options) : await DgramUdpSocket.bind(options);
    return new UdpEndpoint(socket);
  }

  get local(): HostPort {
    return this.#socket.local;
  }

  /** Memory for the next outgoing packet (see PacketTrains). */
  region(size: number): Uint8Array {
    return this.#trains.region(size);
  }

  /** The first `length` bytes of the last region are a packet for `to`. */
  commit(length: number, to: HostPort): void {
    this.#trains.commit(length, to);
  }

  /** Sends a packet built elsewhere (a copy goes into the packet memory). */
  send(packet: Uint8Array, to: HostPort): void {
    this.#trains.region(packet.byteLength).set(packet);
    this.#trains.commit(packet.byteLength, to);
  }

  async close(): Promise<void> {
    this.#trains.flush();
    await this.#socket.close();
  }
}
