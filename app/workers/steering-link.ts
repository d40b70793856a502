import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { QuicServer, QuicSteering } from '../../src/transport/quic/index.ts';
import { decodeForwarded, encodeForwarded } from '../../src/transport/quic/index.ts';
import type { Logger } from '../../src/logger.ts';

/**
 * A worker's end of QUIC connection-ID steering (src/transport/quic/steering.ts): a loopback UDP
 * socket on which the other workers hand it packets of its connections, and the ports of theirs,
 * as the supervisor announces them. Datagrams from any other port are ignored.
 */
export class SteeringLink implements QuicSteering {
  readonly #socket = dgram.createSocket('udp4');
  /** Steering port of each worker index (0 = not known yet). */
  #peers: number[] = [];
  #server: QuicServer | undefined;

  private constructor(
    readonly self: number,
    private readonly logger: Logger,
  ) {
    this.#socket.on('message', (datagram, from) => {
      if (from.address !== '127.0.0.1' || !this.#peers.includes(from.port)) return;
      const decoded = decodeForwarded(datagram);
      if (decoded) this.#server?.receiveForwarded(decoded.packet, decoded.from);
    });
    this.#socket.on('error', (error) => this.logger.warn({ err: error }, 'QUIC steering socket error'));
  }

  static async bind(self: number, logger: Logger): Promise<SteeringLink> {
    const link = new SteeringLink(self, logger);
    await new Promise<void>((resolve) => link.#socket.bind(0, '127.0.0.1', resolve));
    return link;
  }

  get port(): number {
    return (this.#socket.address() as AddressInfo).port;
  }

  attach(server: QuicServer): void {
    this.#server = server;
  }

  setPeers(ports: number[]): void {
    this.#peers = ports;
  }

  forward(owner: number, packet: Uint8Array, from: { host: string; port: number }): void {
    const port = this.#peers[owner];
    if (!port) return; // not (yet) a worker: drop, as a lost packet
    this.#socket.send(encodeForwarded(packet, from), port, '127.0.0.1');
  }

  close(): void {
    this.#socket.close();
  }
}
