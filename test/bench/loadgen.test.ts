/**
 * The bench's lean load generator against a real gateway: a @moq/lite publisher sends stamped
 * frames (bench/lib/publishers.ts), and a handful of lean viewers over WebSocket (QMux and the
 * legacy web-transport-ws framing) and raw QUIC count them and read their stamps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../bench/lib/fanout.ts';
import { GroupParser } from '../../bench/loadgen/group-parser.ts';
import { type RunningPublisher, startLitePublisher } from '../../bench/lib/publishers.ts';
import { type GatewayServer, startBareWsServer, startGatewayServer } from '../../bench/lib/servers.ts';
import { WebSocket } from 'ws';
import { findStamp, now, stampBytes } from '../../bench/lib/stamp.ts';
import { encodeVarint } from '../../bench/loadgen/qmux.ts';

describe('GroupParser', () => {
  it('finds every frame and its stamp however the bytes are split', () => {
    const frames = [Buffer.concat([stampBytes(0, 1000), Buffer.alloc(70_000, 1)]), Buffer.concat([stampBytes(1, 1033.3), Buffer.alloc(20, 2)]), Buffer.alloc(0), Buffer.concat([stampBytes(2, 1066.7), Buffer.alloc(300, 3)])];
    const header = Buffer.from([0x02, 0x05, 0x40, 0x07]); // GROUP body: subscribe id 2, sequence 0x0507
    const stream = Buffer.concat([encodeVarint(0), encodeVarint(header.byteLength), header, ...frames.flatMap((f) => [encodeVarint(f.byteLength), f])]);
    for (const step of [1, 3, 7, 1000, stream.byteLength]) {
      const seen: Array<{ size: number; seq?: number }> = [];
      const parser = new GroupParser((head, size) => seen.push({ size, seq: findStamp(head)?.sequence }));
      for (let i = 0; i < stream.byteLength; i += step) parser.push(stream.subarray(i, i + step));
      expect(seen).toEqual(frames.map((f, i) => ({ size: f.byteLength, seq: i === 2 ? undefined : Math.min(i, 2) })));
    }
  });
});

describe('lean load generator against the gateway', () => {
  let gw: GatewayServer;
  let pub: RunningPublisher;
  const sent: number[] = [];

  beforeAll(async () => {
    gw = await startGatewayServer({ args: ['--max-sessions-per-ip', '1000'] });
    pub = await startLitePublisher(`${gw.httpUrl}/`, 'bench/loadgen', { onSent: (_i, at) => sent.push(at), keyframeBytes: 50_000, frameBytes: 5000 });
  });
  afterAll(async () => {
    await pub?.stop();
    await gw?.stop();
  });

  it('counts every frame and reads its stamp over WebSocket (qmux-02, web-transport-ws) and raw QUIC', async () => {
    const hash = (await (await fetch(`${gw.httpUrl}/certificate.sha256`)).text()).trim().replace(/[^0-9a-f]/gi, '');
    const pool = await WorkerPool.start(2);
    try {
      const base = { url: `${gw.httpUrl}/`, broadcast: 'bench/loadgen', track: 'video' };
      await pool.connect({ protocol: 'lite-ws', ...base }, 4, 20_000);
      await pool.connect({ protocol: 'lite-ws', framing: 'webtransport', ...base }, 2, 20_000);
      await pool.connect({ protocol: 'lite-quic', ...base, url: `https://127.0.0.1:${gw.httpPort}/`, certificateSha256: hash }, 2, 20_000);
      expect(pool.firstError).toBeUndefined();
      expect(pool.connected).toBe(8);
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = now();
      const until = t0 + 3000;
      pool.measure(t0, until);
      await new Promise((r) => setTimeout(r, 3000 + 1000));
      const report = await pool.report();
      const expected = sent.filter((t) => t >= t0 && t < until).length;
      expect(expected).toBeGreaterThan(60); // 30 fps for 3 s
      expect(report.unstamped).toBe(0);
      expect(report.frames).toHaveLength(8);
      // Every viewer got every frame of the window (loopback, 8 viewers: no loss is allowed).
      for (const f of report.frames) expect(f).toBe(expected);
      const framesTotal = report.frames.reduce((a, b) => a + b, 0);
      expect(report.latency.count).toBe(framesTotal);
      // Stamps parsed: latencies are real receive − send times on one clock.
      expect(report.latency.min).toBeGreaterThanOrEqual(0);
      expect(report.latency.max).toBeLessThan(5000);
      // Bytes: 1 keyframe (50 kB + stamp) per 30 frames, 5 kB + stamp otherwise.
      for (const b of report.bytes) expect(b).toBeGreaterThan(expected * 5000);
    } finally {
      await pool.close();
    }
  });
});

describe('lean load generator against the bare ws baseline', () => {
  it('counts every message as one frame and reads its stamp', async () => {
    const bare = await startBareWsServer();
    const pool = await WorkerPool.start(1);
    const publisher = new WebSocket(bare.publishUrl);
    try {
      await new Promise((resolve, reject) => publisher.once('open', resolve).once('error', reject));
      await pool.connect({ protocol: 'bare-ws', url: bare.viewUrl, broadcast: '', track: '' }, 3, 20_000);
      expect(pool.connected).toBe(3);
      await new Promise((r) => setTimeout(r, 300));
      const t0 = now();
      pool.measure(t0, t0 + 100_000);
      // 40 frames, one of them larger than a TCP chunk (it must be reassembled).
      let sentBytes = 0;
      for (let i = 0; i < 40; i++) {
        const message = Buffer.concat([stampBytes(i), Buffer.alloc(i === 7 ? 300_000 : 2000, 7)]);
        sentBytes += message.byteLength;
        publisher.send(message);
      }
      await new Promise((r) => setTimeout(r, 1500));
      const report = await pool.report();
      expect(report.frames).toEqual([40, 40, 40]);
      expect(report.unstamped).toBe(0);
      expect(report.bytes).toEqual([sentBytes, sentBytes, sentBytes]);
    } finally {
      publisher.close();
      await pool.close();
      await bare.stop();
    }
  });
});

