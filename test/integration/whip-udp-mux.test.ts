import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWhipService, type WhipService } from '../../adapters/ingest/whip/index.ts';
import { HttpServer } from '../../src/http/server.ts';
import type { MediaSink } from '../../src/media/frame.ts';
import { PublisherRegistry } from '../../src/media/publishers.ts';
import { Origin } from '../../src/relay/index.ts';
import { publishOpus } from '../helpers/werift-whip-publisher.ts';

/**
 * Every WHIP session's ICE on one UDP port (loopback): concurrent werift publishers each reach
 * their own broadcast and the answer names the shared port.
 */

const candidates = (sdp: string) => [...sdp.matchAll(/^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ (\S+)/gim)].map((m) => ({ address: m[1]!, port: Number(m[2]), type: m[3]! }));

describe('WHIP on a single shared UDP port', () => {
  let http: HttpServer;
  let whip: WhipService;
  let base: string;
  let udpPort: number;
  const frames = new Map<string, number>();

  beforeAll(async () => {
    const origin = new Origin();
    const registry = new PublisherRegistry(origin, { reconnectGraceMs: 0 });
    whip = createWhipService({
      openPublisher: (path, meta, terminate) => {
        const sink = registry.open(path, meta, terminate);
        const counting: MediaSink = {
          setTrack: (name, info) => sink.setTrack(name, info),
          writeFrame: (name, frame) => {
            frames.set(path, (frames.get(path) ?? 0) + 1);
            sink.writeFrame(name, frame);
          },
          removeTrack: (name) => sink.removeTrack(name),
          close: (reason, options) => sink.close(reason, options),
        };
        return counting;
      },
      iceHosts: ['127.0.0.1'],
      publicIp: '203.0.113.7',
      udpPort: 0,
      iceTimeoutMs: 5000,
    });
    udpPort = (await whip.listen()).udpPort!;
    http = new HttpServer({ host: '127.0.0.1', port: 0 });
    http.route('/whip/', (req, res, subpath) => whip.handle(req, res, subpath));
    base = `http://127.0.0.1:${await http.listen()}/whip/`;
  });

  afterAll(async () => {
    await whip?.close();
    await http?.close();
  });

  it('routes concurrent sessions by ICE ufrag', async () => {
    const results = await Promise.all(['live/a', 'live/b', 'live/c'].map((name) => publishOpus(base + name, 40, 15_000)));
    for (const result of results) {
      expect(result.state).toBe('connected');
      expect(result.sent).toBe(40);
      const found = candidates(result.answer!);
      // The host candidate is on the shared port (loopback is not NATed: no public candidate;
      // whip-nat.test.ts checks that one through a real NAT).
      expect(found).toEqual([{ address: '127.0.0.1', port: udpPort, type: 'host' }]);
    }
    // Frames arrive for each broadcast (the last few may still be in flight when a peer closes).
    await new Promise((r) => setTimeout(r, 200));
    for (const name of ['live/a', 'live/b', 'live/c']) {
      expect(frames.get(name) ?? 0).toBeGreaterThan(30);
      expect(frames.get(name) ?? 0).toBeLessThanOrEqual(40);
    }
  }, 30_000);

  it('drops datagrams that name no session, and keeps serving', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    // A Binding request for an unknown ufrag, DTLS and garbage: none reach a session.
    const stun = Buffer.alloc(32);
    stun.writeUInt16BE(0x0001, 0);
    stun.writeUInt16BE(12, 2);
    stun.writeUInt32BE(0x2112a442, 4);
    stun.writeUInt16BE(0x0006, 20);
    stun.writeUInt16BE(8, 22);
    stun.write('nope:abc', 24);
    for (const datagram of [stun, Buffer.from([22, 254, 253, 0]), Buffer.from('junk')]) socket.send(datagram, udpPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    socket.close();
    const result = await publishOpus(`${base}live/after`, 10, 15_000);
    expect(result.state).toBe('connected');
  }, 30_000);

  it('a port that cannot be bound is a clear error from listen()', async () => {
    const taken = createWhipService({ openPublisher: () => { throw new Error('unused'); }, udpPort });
    await expect(taken.listen()).rejects.toThrow(new RegExp(`cannot bind the WebRTC UDP port ${udpPort}: .*EADDRINUSE`));
    await taken.close();
  });
});
