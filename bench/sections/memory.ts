/** Memory section: RSS per idle subscriber, per broadcast, and a soak with churn (must be flat). */
import { type ConnectSpec, WorkerPool } from '../lib/fanout.ts';
import { type HlsWatch, firstMediaPlaylist, watchLowLatencyHls } from '../lib/hls.ts';
import { fetchMetrics, metricSum } from '../lib/machine.ts';
import type { H264Source } from '../lib/media.ts';
import { freePort, rssBytes, sleep, withTimeout } from '../lib/proc.ts';
import { type RunningPublisher, startLitePublisher, startRtmpPublisher } from '../lib/publishers.ts';
import { type GatewayServer, startGatewayServer } from '../lib/servers.ts';
import { percentile, round, slope } from '../lib/stats.ts';
import { GATEWAY_ARGS, QUICK, SOAK_S, log, mb, writeResult } from '../lib/context.ts';

async function sampleRss(pid: number, ms = 3000): Promise<number> {
  const samples: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    samples.push(rssBytes(pid));
    await sleep(250);
  }
  return percentile(samples, 0.5);
}

/** V8 heap used + external memory (Buffers/ArrayBuffers: where media lives). */
async function jsMemory(gw: GatewayServer): Promise<{ heap: number; external: number }> {
  const text = await fetchMetrics(gw.httpUrl);
  return { heap: metricSum(text, 'moq_gateway_nodejs_heap_size_used_bytes'), external: metricSum(text, 'moq_gateway_nodejs_external_memory_bytes') };
}

/**
 * A gateway whose live memory can be measured: it runs with the inspector on a loopback port,
 * and memoryAfterGc() asks it (Chrome DevTools protocol) for a full GC
 * (HeapProfiler.collectGarbage), then for process.memoryUsage(). Nothing is allocated in the
 * gateway for it (a heap snapshot would inflate RSS).
 */
type MeasurableGateway = GatewayServer & { inspect: (method: string, params?: object) => Promise<Record<string, unknown>> };

async function startMeasurableGateway(): Promise<MeasurableGateway> {
  const inspectPort = await freePort();
  const gw = await startGatewayServer({ args: GATEWAY_ARGS, nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`] });
  const targets = (await fetch(`http://127.0.0.1:${inspectPort}/json/list`).then((r) => r.json())) as Array<{ webSocketDebuggerUrl: string }>;
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown> };
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? {});
  });
  const inspect = (method: string, params: object = {}) =>
    withTimeout(
      new Promise<Record<string, unknown>>((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
      30_000,
      `inspector ${method}`,
    );
  const stop = gw.stop;
  return {
    ...gw,
    inspect,
    stop: async () => {
      ws.close();
      await stop();
    },
  };
}

/** Full GC in the gateway, then its V8 heap used, external (Buffers) and RSS in bytes. */
async function memoryAfterGc(gw: MeasurableGateway): Promise<{ heap: number; external: number; rss: number }> {
  await gw.inspect('HeapProfiler.collectGarbage');
  const result = await gw.inspect('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  const usage = JSON.parse(String((result.result as { value?: string } | undefined)?.value ?? '{}')) as { heapUsed?: number; external?: number; rss?: number };
  return { heap: usage.heapUsed ?? Number.NaN, external: usage.external ?? Number.NaN, rss: usage.rss ?? rssBytes(gw.pid) };
}

/** A tiny seeded PRNG so soak schedules repeat. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runMemory(source: H264Source): Promise<void> {
  const idleN = QUICK ? 100 : 500;
  const broadcastsN = QUICK ? 5 : 20;
  log(`\n== memory: ${idleN} idle subscribers, ${broadcastsN} broadcasts, soak ${SOAK_S} s`);
  const result: Record<string, unknown> = {};

  // Idle subscribers: subscribed to a live broadcast whose publisher sends nothing.
  {
    const gw = await startMeasurableGateway();
    const pub = await startLitePublisher(`${gw.httpUrl}/`, 'bench/idle', { silent: true });
    const pool = await WorkerPool.start(2);
    try {
      const spec: ConnectSpec = { protocol: 'lite-ws', url: `${gw.httpUrl}/`, broadcast: 'bench/idle', track: 'video' };
      await pool.connect(spec, 10); // warm the code paths first
      await sleep(2000);
      // RSS too is read right after a full GC, so both sides are compacted alike.
      const jsBefore = await memoryAfterGc(gw);
      const before = jsBefore.rss;
      const connectedBefore = pool.connected;
      await pool.connect(spec, idleN);
      await sleep(3000);
      const jsAfter = await memoryAfterGc(gw);
      const after = jsAfter.rss;
      const added = pool.connected - connectedBefore;
      const perJs = (jsAfter.heap + jsAfter.external - jsBefore.heap - jsBefore.external) / added;
      result.idleSubscriber = {
        subscribers: added,
        rssBeforeMiB: mb(before),
        rssAfterMiB: mb(after),
        rssPerSubscriberKiB: round((after - before) / added / 1024, 1),
        note: 'RSS and heap + external both read right after a forced full GC',
        heapPlusExternalPerSubscriberKiB: round(perJs / 1024, 1),
      };
      log(`  idle subscriber: ${round((after - before) / added / 1024, 1)} KiB RSS, ${round(perJs / 1024, 1)} KiB heap+external after GC each (${added} sessions, RSS ${mb(before)} → ${mb(after)} MiB)`);
    } finally {
      await pool.close();
      await pub.stop();
      await gw.stop();
    }
  }

  // Broadcasts: RTMP publishers at 2.5 Mbps, each track caching its current and previous GOP.
  {
    const gw = await startMeasurableGateway();
    const pubs: RunningPublisher[] = [];
    try {
      // Warm up with two broadcasts (JIT, first GCs) before the baseline.
      pubs.push(await startRtmpPublisher(gw.rtmpUrl('live/mem0'), source));
      pubs.push(await startRtmpPublisher(gw.rtmpUrl('live/mem1'), source));
      await sleep(6000);
      const jsBefore = await memoryAfterGc(gw);
      const before = jsBefore.rss;
      for (let i = 2; i < broadcastsN + 2; i++) pubs.push(await startRtmpPublisher(gw.rtmpUrl(`live/mem${i}`), source));
      await sleep(4000); // > 2 GOPs
      const jsAfter = await memoryAfterGc(gw);
      const after = jsAfter.rss;
      const gopBytes = source.units.slice(0, source.fps).reduce((a, u) => a + u.bytes, 0);
      const perJs = (jsAfter.heap + jsAfter.external - jsBefore.heap - jsBefore.external) / broadcastsN;
      result.broadcast = {
        broadcasts: broadcastsN,
        bitrateKbps: source.bitrateKbps,
        rssBeforeMiB: mb(before),
        rssAfterMiB: mb(after),
        rssPerBroadcastKiB: round((after - before) / broadcastsN / 1024, 1),
        heapPlusExternalPerBroadcastKiB: round(perJs / 1024, 1),
        expectedCacheKiB: round((2 * gopBytes) / 1024, 1),
      };
      log(`  broadcast with cache: ${round((after - before) / broadcastsN / 1024, 1)} KiB RSS, ${round(perJs / 1024, 1)} KiB heap+external after GC each (2 GOPs of media = ${round((2 * gopBytes) / 1024, 1)} KiB)`);
    } finally {
      await Promise.all(pubs.map((p) => p.stop()));
      await gw.stop();
    }
  }

  // Soak: publishers (RTMP) and viewers (moq-lite over WebSocket, LL-HLS) joining and leaving.
  {
    const { connectLite } = await import('../../src/moq/lite/client.ts');
    const gw = await startMeasurableGateway();
    const random = prng(11);
    const warmupS = Math.max(45, SOAK_S / 4);
    const gcEveryS = Math.max(15, SOAK_S / 10);
    const gcPoints: Array<{ t: number; heapMiB: number; externalMiB: number; rssMiB: number; publishers: number; viewers: number; hls: number }> = [];
    const baselineGc = await memoryAfterGc(gw);
    const samples: Array<{ t: number; rssMiB: number; heapMiB: number; externalMiB: number; publishers: number; viewers: number; hls: number }> = [];
    const publishers = new Map<string, { pub: RunningPublisher; until: number }>();
    const viewers = new Set<{ close(): void; until: number }>();
    const hlsViewers = new Set<{ watch: HlsWatch; until: number }>();
    let joins = 0;
    let viewerJoins = 0;
    let errors = 0;
    const start = Date.now();
    const baseline = await sampleRss(gw.pid, 1000);
    try {
      let nextSample = 0;
      let nextGc = gcEveryS * 1000;
      let name = 0;
      while (Date.now() - start < SOAK_S * 1000) {
        const t = Date.now();
        for (const [key, p] of publishers) if (p.until < t) {
          publishers.delete(key);
          void p.pub.stop();
        }
        for (const v of viewers) if (v.until < t) {
          viewers.delete(v);
          v.close();
        }
        for (const h of hlsViewers) if (h.until < t) {
          hlsViewers.delete(h);
          void h.watch.stop();
        }
        if (publishers.size < 4 && random() < 0.5) {
          const key = `live/soak${name++ % 8}`;
          if (!publishers.has(key)) {
            try {
              const pub = await startRtmpPublisher(gw.rtmpUrl(key), source);
              publishers.set(key, { pub, until: t + 5000 + random() * 15_000 });
              joins++;
            } catch {
              errors++;
            }
          }
        }
        const live = [...publishers.keys()];
        for (let k = 0; k < 4 && viewers.size < 40 && live.length; k++) {
          const broadcast = live[Math.floor(random() * live.length)]!;
          try {
            const client = await connectLite(`${gw.httpUrl}/`);
            const sub = client.subscribe(broadcast, 'video', 60).subscribe();
            void (async () => {
              for (;;) {
                const g = await sub.nextGroup().catch(() => undefined);
                if (!g) return;
                const r = g.reader();
                while (await r.readFrame().catch(() => undefined));
              }
            })();
            viewers.add({ close: () => client.close(), until: t + 2000 + random() * 10_000 });
            viewerJoins++;
          } catch {
            errors++;
          }
        }
        if (hlsViewers.size < 2 && live.length && random() < 0.2) {
          const broadcast = live[Math.floor(random() * live.length)]!;
          firstMediaPlaylist(`${gw.httpUrl}/hls/${broadcast}/index.m3u8`, 5000).then(
            (url) => hlsViewers.add({ watch: watchLowLatencyHls(url, () => Number.POSITIVE_INFINITY), until: Date.now() + 5000 + random() * 10_000 }),
            () => errors++,
          );
        }
        if (t - start >= nextGc) {
          nextGc += gcEveryS * 1000;
          const gc = await memoryAfterGc(gw);
          gcPoints.push({ t: round((t - start) / 1000, 1), heapMiB: mb(gc.heap), externalMiB: mb(gc.external), rssMiB: mb(gc.rss), publishers: publishers.size, viewers: viewers.size, hls: hlsViewers.size });
        }
        if (t >= nextSample) {
          nextSample = t + 2000;
          const js = await jsMemory(gw);
          samples.push({ t: round((t - start) / 1000, 1), rssMiB: mb(rssBytes(gw.pid)), heapMiB: mb(js.heap), externalMiB: mb(js.external), publishers: publishers.size, viewers: viewers.size, hls: hlsViewers.size });
        }
        await sleep(500);
      }
    } finally {
      for (const p of publishers.values()) await p.pub.stop();
      for (const v of viewers) v.close();
      for (const h of hlsViewers) await h.watch.stop();
    }
    await sleep(6000); // past the reconnect grace (5 s): every broadcast gone
    const after = await sampleRss(gw.pid, 2000);
    await sleep(30_000); // HLS packaging outlives its last request by 30 s
    const afterGc = await memoryAfterGc(gw);
    await gw.stop();
    // Flatness after a warm-up (JIT, first GC cycles, HLS packaging sessions that outlive their
    // viewers by 30 s, segment windows filling), under the same capped churn: the trend of the
    // live heap + external memory (where media Buffers live) measured after forced full GCs, and
    // the trend of RSS, in MiB per minute.
    const steady = samples.filter((s) => s.t >= warmupS);
    const steadyGc = gcPoints.filter((p) => p.t >= warmupS);
    const rssSlope = slope(steady.map((s) => [s.t / 60, s.rssMiB]));
    const liveSlope = slope(steadyGc.map((p) => [p.t / 60, p.heapMiB + p.externalMiB]));
    const judged = SOAK_S >= 300 && steadyGc.length >= 3;
    const flat = rssSlope < 1 && liveSlope < 0.5;
    const verdict = !judged ? `indicative only (${SOAK_S} s soak; use --soak 600)` : flat ? 'flat' : 'NOT FLAT';
    result.soak = {
      seconds: SOAK_S,
      warmupS,
      publisherJoins: joins,
      viewerJoins,
      errors,
      baselineRssMiB: mb(baseline),
      peakRssMiB: Math.max(...samples.map((s) => s.rssMiB)),
      endRssMiB: samples.at(-1)?.rssMiB,
      afterEveryoneLeftRssMiB: mb(after),
      baselineLiveMiB: mb(baselineGc.heap + baselineGc.external),
      afterEveryoneLeftLiveMiB: mb(afterGc.heap + afterGc.external),
      rssSlopeMiBPerMin: round(rssSlope, 2),
      liveSlopeMiBPerMin: round(liveSlope, 2),
      flat: judged ? flat : null,
      verdict,
      criteria: 'after the warm-up (max(45 s, soak/4)), under the same capped churn: RSS slope < 1 MiB/min and live (heap used + external after a forced full GC) slope < 0.5 MiB/min; judged for soaks >= 300 s',
      gcPoints,
      samples,
    };
    log(`  soak ${SOAK_S} s: ${joins} publisher joins, ${viewerJoins} viewer joins; RSS ${mb(baseline)} → peak ${Math.max(...samples.map((s) => s.rssMiB))} → ${mb(after)} MiB after all left; live (post-GC) ${mb(baselineGc.heap + baselineGc.external)} → ${mb(afterGc.heap + afterGc.external)} MiB; after ${warmupS} s warm-up: RSS ${round(rssSlope, 2)} MiB/min, live ${round(liveSlope, 2)} MiB/min: ${verdict}`);
  }
  writeResult('memory', result);
}
