/**
 * A UDP relay on 127.0.0.1 that drops and delays datagrams both ways: `tc netem` in user space.
 * The kernels this project's machines run have no sch_netem ("Specified qdisc kind is unknown"),
 * so a loss test cannot shape an interface; it puts this between a QUIC client and server instead.
 * Loss is drawn from a seeded generator, so a run is repeatable up to timer jitter.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface LossyProxyOptions {
  /** Where the server listens. */
  target: { host: string; port: number };
  /** Probability that a datagram is dropped, each direction. */
  loss: number;
  /** One-way delay added to every datagram that is kept (ms). */
  delayMs: number;
  seed?: number;
}

export interface LossyProxy {
  /** The port clients dial instead of the server's. */
  readonly port: number;
  readonly stats: { forwarded: number; dropped: number };
  close(): Promise<void>;
}

/** Mulberry32: small, seedable, good enough to draw losses. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startLossyUdpProxy(options: LossyProxyOptions): Promise<LossyProxy> {
  const draw = random(options.seed ?? 1);
  const stats = { forwarded: 0, dropped: 0 };
  const front = dgram.createSocket('udp4');
  /** One upstream socket per client address, so the server sees one peer per client. */
  const upstreams = new Map<string, dgram.Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let closed = false;

  const later = (send: () => void) => {
    if (draw() < options.loss) {
      stats.dropped++;
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closed) return;
      stats.forwarded++;
      send();
    }, options.delayMs);
    timers.add(timer);
  };

  front.on('message', (message, client) => {
    const key = `${client.address}:${client.port}`;
    let upstream = upstreams.get(key);
    if (!upstream) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (reply) => later(() => front.send(reply, client.port, client.address)));
      socket.on('error', () => undefined);
      socket.bind(0, '127.0.0.1');
      upstreams.set(key, socket);
      upstream = socket;
    }
    const socket = upstream;
    later(() => socket.send(message, options.target.port, options.target.host));
  });
  front.on('error', () => undefined);
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));

  return {
    port: (front.address() as AddressInfo).port,
    stats,
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      for (const socket of [front, ...upstreams.values()]) await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
