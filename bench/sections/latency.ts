/** Latency section: added latency per frame on each path, one viewer each, plus the peers' paths. */
import { type ConnectSpec, WorkerPool, isLean } from '../lib/fanout.ts';
import { type HlsWatch, firstMediaPlaylist, watchClassicHls, watchLowLatencyHls } from '../lib/hls.ts';
import type { H264Source } from '../lib/media.ts';
import { sleep } from '../lib/proc.ts';
import { startLitePublisher, startRtmpPublisher } from '../lib/publishers.ts';
import { nginxAvailable, startGatewayServer, startNginx, startNodeMediaServer } from '../lib/servers.ts';
import { now } from '../lib/stamp.ts';
import type { Histogram, HistogramJson, LatencySummary } from '../lib/stats.ts';
import { GATEWAY_ARGS, WINDOW_S, log, writeResult } from '../lib/context.ts';
import { type Window, measureWindow, newSentLog, probeQuic } from '../lib/window.ts';

export interface LatencyRow {
  path: string;
  server: string;
  frames: number;
  latency: LatencySummary;
  histogram: HistogramJson;
  note?: string;
}

async function onePoolLatency(spec: ConnectSpec, serverPids: () => number[], sent: number[]): Promise<Window> {
  const pool = await WorkerPool.start(1, { lean: isLean(spec.protocol) });
  try {
    await pool.connect(spec, 1, 20_000);
    if (pool.connected !== 1) throw new Error(`subscriber did not connect: ${pool.firstError}`);
    await sleep(2000);
    return await measureWindow(pool, serverPids, sent);
  } finally {
    await pool.close();
  }
}

export async function runLatency(source: H264Source): Promise<void> {
  log(`\n== latency: ${WINDOW_S} s per path, one subscriber each`);
  const rows: LatencyRow[] = [];
  const skipped: Array<{ path: string; reason: string }> = [];
  const row = (path: string, server: string, h: Histogram, note?: string) => {
    rows.push({ path, server, frames: h.count, latency: h.summary(), histogram: h.toJSON(), note });
    const s = h.summary();
    log(`  ${(server === 'moq-gateway' ? path : `[${server}] ${path}`).padEnd(66)} p50 ${s.p50} ms  p99 ${s.p99} ms  max ${s.max} ms  (${s.count} frames)`);
  };

  const gw = await startGatewayServer({ args: GATEWAY_ARGS });
  let quic: Awaited<ReturnType<typeof probeQuic>> = { available: false, reason: 'not probed' };
  try {
    quic = await probeQuic(gw);
    const lite = newSentLog();
    const litePub = await startLitePublisher(`${gw.httpUrl}/`, 'bench/lite', { onSent: lite.onSent });
    try {
      const base = { url: `${gw.httpUrl}/`, broadcast: 'bench/lite', track: 'video' };
      const ws = await onePoolLatency({ protocol: 'lite-ws', ...base }, () => [gw.pid], lite.sent);
      row('moq-lite pub (WebSocket) → moq-lite sub (WebSocket)', 'moq-gateway', ws.latency);
      if (quic.available) {
        const q = await onePoolLatency({ protocol: 'lite-quic', ...base, url: `https://127.0.0.1:${gw.httpPort}/`, certificateSha256: quic.certificateSha256 }, () => [gw.pid], lite.sent);
        row('moq-lite pub (WebSocket) → moq-lite sub (raw QUIC)', 'moq-gateway', q.latency);
        try {
          const wt = await onePoolLatency({ protocol: 'lite-wt', ...base, url: `https://127.0.0.1:${gw.httpPort}/`, certificateSha256: quic.certificateSha256 }, () => [gw.pid], lite.sent);
          row('moq-lite pub (WebSocket) → moq-lite sub (WebTransport)', 'moq-gateway', wt.latency);
        } catch (error) {
          skipped.push({ path: 'moq-lite pub → moq-lite sub (WebTransport)', reason: (error as Error).message });
        }
      } else skipped.push({ path: 'moq-lite pub → moq-lite sub (raw QUIC / WebTransport)', reason: quic.reason });
      try {
        const ietf = await onePoolLatency({ protocol: 'ietf-ws', ...base }, () => [gw.pid], lite.sent);
        row('moq-lite pub (WebSocket) → IETF moqt-16 sub (@moq/net, WebSocket)', 'moq-gateway', ietf.latency);
      } catch (error) {
        skipped.push({ path: 'moq-lite pub → IETF moqt-16 sub', reason: (error as Error).message });
      }
    } finally {
      await litePub.stop();
    }

    const rtmp = newSentLog();
    const rtmpPub = await startRtmpPublisher(gw.rtmpUrl('live/latency'), source, { onSent: rtmp.onSent });
    try {
      await sleep(500);
      const w = await onePoolLatency({ protocol: 'lite-ws', url: `${gw.httpUrl}/`, broadcast: 'live/latency', track: 'video' }, () => [gw.pid], rtmp.sent);
      row('RTMP pub → moq-lite sub (WebSocket)', 'moq-gateway', w.latency);
      const media = await firstMediaPlaylist(`${gw.httpUrl}/hls/live/latency/index.m3u8`);
      const from = now() + 2000;
      const watch = watchLowLatencyHls(media, () => from);
      await sleep(2000 + Math.max(WINDOW_S, 8) * 1000);
      await watch.stop();
      row('RTMP pub → LL-HLS part listed (blocking reload)', 'moq-gateway', watch.part, 'PART-TARGET 0.3 s; time until the playlist lists the part holding the frame');
      row('RTMP pub → HLS segment listed', 'moq-gateway', watch.segment, '1 s segments (one GOP)');
    } finally {
      await rtmpPub.stop();
    }
  } finally {
    await gw.stop();
  }

  // The peers, same RTMP input.
  if (nginxAvailable()) {
    const nginx = await startNginx();
    try {
      const sent = newSentLog();
      const pub = await startRtmpPublisher(nginx.rtmpUrl('live/latency'), source, { onSent: sent.onSent });
      try {
        await sleep(500);
        const w = await onePoolLatency({ protocol: 'rtmp', url: nginx.rtmpUrl('live/latency'), broadcast: '', track: '' }, nginx.pids, sent.sent);
        row('RTMP pub → RTMP player', nginx.name, w.latency);
        const from = now() + 2000;
        const watch: HlsWatch = watchClassicHls(nginx.hlsUrl('latency'), () => from, { pollMs: 25 });
        await sleep(2000 + Math.max(WINDOW_S, 8) * 1000);
        await watch.stop();
        row('RTMP pub → HLS segment listed', nginx.name, watch.segment, 'hls_fragment 1s, playlist polled every 25 ms (no blocking reload)');
      } finally {
        await pub.stop();
      }
    } finally {
      await nginx.stop();
    }
  } else skipped.push({ path: 'nginx-rtmp', reason: 'nginx or libnginx-mod-rtmp not installed (bench/setup.sh)' });

  const nms = await startNodeMediaServer();
  try {
    const sent = newSentLog();
    const pub = await startRtmpPublisher(nms.rtmpUrl('live/latency'), source, { onSent: sent.onSent });
    try {
      await sleep(500);
      const w = await onePoolLatency({ protocol: 'rtmp', url: nms.rtmpUrl('live/latency'), broadcast: '', track: '' }, nms.pids, sent.sent);
      row('RTMP pub → RTMP player', nms.name, w.latency);
    } finally {
      await pub.stop();
    }
  } finally {
    await nms.stop();
  }
  for (const s of skipped) log(`  skipped: ${s.path}: ${s.reason}`);
  writeResult('latency', { windowS: WINDOW_S, quic, rows, skipped });
}
