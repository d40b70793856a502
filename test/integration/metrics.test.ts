/**
 * /metrics is valid Prometheus text exposition and its counters move when media flows
 * (ffmpeg over RTMP in, a @moq/lite or an IETF moqt-16 @moq/net viewer out).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { freePort } from '../helpers/gateway-process.ts';
import { haveTools } from '../helpers/tools.ts';
import { connectNet } from '../helpers/gateway-ietf-net.ts';
const tools = haveTools('ffmpeg');

/** Sample lines per the text format: name{labels} value. Comments must be HELP/TYPE. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.eE+-]+|[Nn]a[Nn]|[+-]Inf)$/.exec(line);
    expect(m, `bad sample line: ${line}`).not.toBeNull();
    samples.set(m![1]!, Number(m![2]));
  }
  return samples;
}

let gw: Awaited<ReturnType<typeof startGateway>>;
beforeAll(async () => {
  for (const level of ['debug', 'log', 'info', 'warn'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  gw = await startGateway();
});
afterAll(async () => gw?.stop());

const scrape = async () => parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());

describe.skipIf(!tools)('metrics', () => {
  it('parses as Prometheus text and counters move when frames flow', async () => {
    const before = await scrape();
    expect(before.get('moq_gateway_broadcasts')).toBe(0);

    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=3', '-c:v', 'libx264', '-g', '30', '-f', 'flv', `${gw.rtmpUrl}/live/metrics`]);
    try {
      await until(() => gw.gateway.origin.get('live/metrics')?.getTrack('video') !== undefined, 'broadcast', 15_000);
      const viewer = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'connect');
      const track = viewer.consume('live/metrics' as Moq.Path.Valid).subscribe('video', 60);
      const group = await within(track.nextGroupOrdered(), 'first group', 10_000);
      await within(group!.readFrame(), 'first frame');
      await new Promise((r) => setTimeout(r, 500));

      const during = await scrape();
      expect(during.get('moq_gateway_broadcasts')).toBe(1);
      expect(during.get('moq_gateway_ingest_frames_total{protocol="rtmp"}')).toBeGreaterThan(0);
      expect(during.get('moq_gateway_egress_bytes_total{protocol="moq-lite"}')).toBeGreaterThan(0);
      expect(during.get('moq_gateway_sessions{protocol="moq-lite",transport="websocket/qmux-02"}') ?? during.get('moq_gateway_sessions{protocol="moq-lite",transport="websocket/qmux-00"}')).toBe(1);
      expect(during.get('moq_gateway_relay_latency_seconds_count{protocol="moq-lite"}')).toBeGreaterThan(0);

      await new Promise((r) => setTimeout(r, 500));
      const later = await scrape();
      expect(later.get('moq_gateway_ingest_frames_total{protocol="rtmp"}')).toBeGreaterThan(during.get('moq_gateway_ingest_frames_total{protocol="rtmp"}')!);
      viewer.close();
    } finally {
      ffmpeg.kill('SIGKILL');
    }
  });
});

describe.skipIf(!tools)('metrics of IETF sessions', () => {
  it('an IETF (moqt) viewer is counted: its session, and the bytes and groups it was sent', async () => {
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=4', '-c:v', 'libx264', '-g', '15', '-f', 'flv', `${gw.rtmpUrl}/live/ietf-metrics`]);
    let viewer: Awaited<ReturnType<typeof connectNet>> | undefined;
    try {
      await until(() => gw.gateway.origin.get('live/ietf-metrics')?.getTrack('video') !== undefined, 'broadcast', 15_000);
      const before = await scrape();
      expect(before.get('moq_gateway_egress_bytes_total{protocol="moqt"}') ?? 0).toBe(0);
      const Net = await import('@moq/net');
      viewer = await connectNet(Net, new URL(`${gw.httpUrl}/`), 'draft-16');
      // @moq/net's .d.ts files do not resolve under NodeNext: the parts used, spelled out.
      const track = viewer.connection.consume(Net.Path.from('live/ietf-metrics')).subscribe('video') as {
        recvGroup(): Promise<{ readFrame(): Promise<{ payload: Uint8Array } | undefined> } | undefined>;
      };
      const group = await within(track.recvGroup(), 'first group', 10_000);
      const frame = await within(group!.readFrame(), 'first frame');
      expect(frame!.payload.byteLength).toBeGreaterThan(0);

      const sessions = (s: Map<string, number>) => [...s].filter(([name]) => name.startsWith('moq_gateway_sessions{protocol="moqt"')).reduce((sum, [, v]) => sum + v, 0);
      let during = await scrape();
      await until(async () => {
        during = await scrape();
        return (during.get('moq_gateway_egress_groups_total{protocol="moqt"}') ?? 0) > 0;
      }, 'a whole group sent to the IETF viewer', 10_000);
      expect(sessions(during)).toBe(1);
      expect(during.get('moq_gateway_egress_bytes_total{protocol="moqt"}')).toBeGreaterThanOrEqual(frame!.payload.byteLength);
      viewer.connection.close();
      await until(async () => sessions(await scrape()) === 0, 'the IETF session gone from the gauge', 5_000);
      // What the closed session counted stays in the counters.
      const after = await scrape();
      expect(after.get('moq_gateway_egress_bytes_total{protocol="moqt"}')).toBeGreaterThanOrEqual(during.get('moq_gateway_egress_bytes_total{protocol="moqt"}')!);
    } finally {
      viewer?.session.close();
      ffmpeg.kill('SIGKILL');
    }
  });
});

describe.skipIf(!tools)('metrics access', () => {
  it('--metrics-token: a scrape needs the Bearer token; labels never carry a stream key or token', async () => {
    const secured = await startGateway({ metricsToken: 'scrape-secret-0123456789' });
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30:duration=3', '-c:v', 'libx264', '-g', '30', '-f', 'flv', `${secured.rtmpUrl}/live/labels?jwt=stream-credential-5678`]);
    try {
      const url = `${secured.httpUrl}/metrics`;
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await fetch(url, { headers: { authorization: 'Bearer scrape-secret-012345678' } })).status).toBe(401);
      await until(() => secured.gateway.origin.get('live/labels')?.getTrack('video') !== undefined, 'broadcast', 15_000);
      const ok = await fetch(url, { headers: { authorization: 'Bearer scrape-secret-0123456789' } });
      expect(ok.status).toBe(200);
      const text = await ok.text();
      expect(parseExposition(text).get('moq_gateway_broadcasts')).toBe(1);
      expect(text).not.toContain('stream-credential-5678');
      expect(text).not.toContain('scrape-secret');
    } finally {
      ffmpeg.kill('SIGKILL');
      await secured.stop();
    }
  });

  it('--metrics-listen: /metrics moves to its own listener and is gone from the main port', async () => {
    const port = await freePort();
    const separate = await startGateway({ metricsListen: `127.0.0.1:${port}` });
    try {
      expect((await fetch(`${separate.httpUrl}/metrics`)).status).toBe(404);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(parseExposition(await res.text()).get('moq_gateway_broadcasts')).toBe(0);
      expect((await fetch(`http://127.0.0.1:${port}/api/info`)).status).toBe(404);
    } finally {
      await separate.stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
