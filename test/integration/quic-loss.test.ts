/**
 * Raw QUIC egress under loss (issue 15): a moq-lite viewer reaches the relay through a UDP path
 * with 2 % loss and 20 ms of delay each way (test/helpers/lossy-udp-proxy.ts; the kernel here has
 * no netem). A 2.3 Mbit/s track (30 fps, GOP 30) runs for 10 s. The viewer must get every frame of
 * every group it was not told to skip, byte-exact and in order. Latency is printed, not
 * asserted against the target (3 RTT + one frame interval at p99; RFC 9002 §6 detects a loss
 * after ~9/8 RTT or one PTO): timers on a loaded 2-core machine make that a flaky assertion, so
 * the test only guards against a stall (a frame held for seconds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broadcast, Origin, type Group } from '../../src/relay/index.ts';
import { serveLiteSession } from '../../src/moq/lite/index.ts';
import { connectLite } from '../../src/moq/lite/client.ts';
import { connectQuic, startQuicServer, type QuicServer } from '../../src/transport/quic/index.ts';
import { createDevCertificate } from '../../src/transport/tls/index.ts';
import { until, within } from '../helpers/gateway.ts';
import { startLossyUdpProxy, type LossyProxy } from '../helpers/lossy-udp-proxy.ts';

const ONE_WAY_MS = 20;
const RTT_MS = 2 * ONE_WAY_MS;
const FPS = 30;
const GOP = 30;
const GROUPS = 10;
const KEYFRAME_BYTES = 60_000;
const FRAME_BYTES = 8_000;

const tls = createDevCertificate();
const serverCertificateHashes = [{ algorithm: 'sha-256', value: Buffer.from(tls.fingerprintHex, 'hex') }];
const origin = new Origin();
let server: QuicServer;
let proxy: LossyProxy;

beforeAll(async () => {
  server = await startQuicServer({
    host: '127.0.0.1',
    port: 0,
    tls,
    onSession: (session, info) => void serveLiteSession(session, { protocol: info.protocol, origin, root: '' }),
  });
  proxy = await startLossyUdpProxy({ target: { host: '127.0.0.1', port: server.port }, loss: 0.02, delayMs: ONE_WAY_MS, seed: 7 });
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

/** Frame `index` of group `group`: its place in the first 8 bytes, then a pattern from both. */
function frameBytes(group: number, index: number): Uint8Array {
  const bytes = new Uint8Array(index === 0 ? KEYFRAME_BYTES : FRAME_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, group);
  view.setUint32(4, index);
  for (let i = 8; i < bytes.byteLength; i++) bytes[i] = (group * 31 + index * 7 + i) & 0xff;
  return bytes;
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

describe('raw QUIC viewer through 2 % loss and 20 ms delay', () => {
  it('gets every frame of every group it was not told to skip, and never stalls', async () => {
    const path = 'loss/test';
    const broadcast = new Broadcast(path);
    const source = broadcast.createTrack('video');
    origin.publish(broadcast);
    const url = `https://127.0.0.1:${proxy.port}/`;
    const client = await within(connectLite(url, { transport: await connectQuic(url, { alpn: ['moq-lite-04'], serverCertificateHashes }) }), 'connect', 10_000);
    const sentAt = new Map<string, number>();
    const received = new Map<number, { frames: Uint8Array[]; complete: boolean; reset?: string }>();
    const latencies: number[] = [];
    try {
      const track = client.subscribe(path, 'video', 60);
      const subscription = track.subscribe();
      const readers: Promise<void>[] = [];
      const readGroup = async (group: Group) => {
        const entry: { frames: Uint8Array[]; complete: boolean; reset?: string } = { frames: [], complete: false };
        received.set(group.sequence, entry);
        const reader = group.reader();
        try {
          for (let frame = await reader.readFrame(); frame; frame = await reader.readFrame()) {
            const at = sentAt.get(`${group.sequence}/${entry.frames.length}`);
            if (at !== undefined) latencies.push(performance.now() - at);
            entry.frames.push(frame);
          }
          entry.complete = true;
        } catch (error) {
          entry.reset = String(error);
        }
      };
      const reading = (async () => {
        for (let group = await subscription.nextGroup(); group; group = await subscription.nextGroup()) readers.push(readGroup(group));
      })();
      await until(() => source.subscriberCount === 1, 'served');

      // Publish in real time: GROUPS groups of GOP frames at FPS.
      const started = performance.now();
      const sequences: number[] = [];
      for (let g = 0; g < GROUPS; g++) {
        const group = source.appendGroup();
        sequences.push(group.sequence);
        for (let i = 0; i < GOP; i++) {
          const due = started + ((g * GOP + i) * 1000) / FPS;
          await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
          sentAt.set(`${group.sequence}/${i}`, performance.now());
          group.writeFrame(frameBytes(g, i));
        }
        group.close();
      }
      // Let the last losses recover, then end.
      await until(() => received.get(sequences.at(-1)!)?.complete === true || received.get(sequences.at(-1)!)?.reset !== undefined, 'last group', 10_000);
      subscription.close();
      await Promise.all(readers);
      await reading;

      // Every group the viewer got is whole and byte-exact unless it was reset (told to skip).
      let frames = 0;
      sequences.forEach((sequence, g) => {
        const entry = received.get(sequence);
        if (!entry || entry.reset) return;
        expect(entry.complete).toBe(true);
        expect(entry.frames).toHaveLength(GOP);
        for (const [i, frame] of entry.frames.entries()) expect(Buffer.from(frame).equals(Buffer.from(frameBytes(g, i)))).toBe(true);
        frames += entry.frames.length;
      });
      // At 2.3 Mbit/s on an idle path nothing needs skipping: losses are retransmitted, not dropped.
      expect(frames).toBe(GROUPS * GOP);
      expect(proxy.stats.dropped).toBeGreaterThan(0);
      const p99 = percentile(latencies, 0.99);
      console.log(`quic-loss: ${frames} frames, ${proxy.stats.dropped} of ${proxy.stats.dropped + proxy.stats.forwarded} datagrams dropped, latency p50 ${percentile(latencies, 0.5).toFixed(1)} ms p99 ${p99.toFixed(1)} ms max ${Math.max(...latencies).toFixed(1)} ms`);
      console.log(`quic-loss: target p99 < ${(3 * RTT_MS + 1000 / FPS).toFixed(0)} ms (3 RTT + one frame interval)`);
      expect(Math.max(...latencies)).toBeLessThan(3000);
    } finally {
      client.close();
      broadcast.close();
    }
  }, 60_000);
});
