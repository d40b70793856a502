/**
 * The report writer: bench/results/<section>.json → latest.md (tables), latest.json (the
 * fan-out comparison table, machine-readable) and the charts. `npm run bench -- --report`
 * rebuilds them from the JSON files alone.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCharts, type Series, svgChart } from './lib/charts.ts';
import { command, log, machine, P99_TARGET_MS, readResult, RESULTS } from './lib/context.ts';
import type { MachineInfo } from './lib/machine.ts';
import type { SelfTimeEntry } from './lib/profile.ts';
import { REPO_ROOT } from './lib/servers.ts';
import { Histogram, round } from './lib/stats.ts';
import type { FanoutRow } from './sections/fanout.ts';
import type { HlsFormatRow } from './sections/hls-formats.ts';
import type { IngestRow } from './sections/ingest.ts';
import type { LatencyRow } from './sections/latency.ts';

function fmtMs(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v >= 100 ? String(Math.round(v)) : String(round(v, 1));
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${round(a / b, 2)}×` : '–';
}


interface FanoutResult {
  rows: FanoutRow[];
  largestPassing: Record<string, number>;
  criteria: string;
  pinning?: string;
  steps?: number[];
  windowS?: number;
  series?: Array<{ key: string; label: string }>;
  skipped?: Array<{ series: string; reason: string }>;
  quic: { available: boolean; reason: string };
}

/** One line per series and N: the issue's comparison (ours vs bare ws vs node-media-server). */
export interface ComparisonRow {
  series: string;
  n: number;
  cpuSecondsPerGbit: number;
  cpuVsBareWs?: number;
  rssPerViewerKiB: number;
  p50: number;
  p99: number;
  p99VsNms?: number;
  fullRateShare: number;
  loadToServerCpu: number;
  /** Machine CPU outside the bench (other tenants), % of one core: the noise indicator. */
  otherCpuPct: number;
  pass: boolean;
}

export function comparison(fan: FanoutResult): ComparisonRow[] {
  const at = (series: string, n: number) => fan.rows.find((r) => r.series === series && r.subscribers === n);
  return fan.rows.map((r) => {
    const bare = at('bare-ws', r.subscribers);
    const nms = at('nms', r.subscribers);
    return {
      series: r.series,
      n: r.subscribers,
      cpuSecondsPerGbit: r.cpuSecondsPerGbit,
      cpuVsBareWs: bare && r.series !== 'bare-ws' && r.cpuSecondsPerGbit > 0 && bare.cpuSecondsPerGbit > 0 ? round(r.cpuSecondsPerGbit / bare.cpuSecondsPerGbit, 2) : undefined,
      rssPerViewerKiB: r.rssPerViewerKiB,
      p50: r.latency.p50,
      p99: r.latency.p99,
      p99VsNms: nms && r.series !== 'nms' && r.latency.p99 > 0 && nms.latency.p99 > 0 ? round(r.latency.p99 / nms.latency.p99, 2) : undefined,
      fullRateShare: r.fullRateShare,
      loadToServerCpu: r.loadToServerCpu,
      otherCpuPct: r.otherCpuPct,
      pass: r.pass,
    };
  });
}

const x = (v: number | undefined | null) => (typeof v !== 'number' || !Number.isFinite(v) ? '–' : `${v}×`);
/** A figure that may be missing (JSON turns NaN and Infinity into null). */
const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '–');

function fanoutSection(fan: FanoutResult, out: string[]): void {
  const labels = new Map((fan.series ?? []).map((s) => [s.key, s.label]));
  const label = (key: string) => labels.get(key) ?? key;
  out.push('## Fan-out: the gateway beside a bare `ws` server and node-media-server', '');
  out.push(
    `One 2.5 Mbps 30 fps H.264 broadcast (keyframes ~120 KB, other frames ~9 KB) → N viewers, a fresh server per point, ${fan.windowS ?? '?'} s windows. ` +
      'Gateway: RTMP in → moq-lite-04 over WebSocket (QMux) or raw QUIC. bare ws: `bench/baselines/bare-ws.ts` gets the same access units over one WebSocket and sends each message to every viewer (the socket work alone). node-media-server: RTMP in → RTMP players. ' +
      `Viewers: the lean load generator (\`bench/loadgen/\`), which parses only frame boundaries and the send-time stamp. ${fan.pinning ?? ''}. ${fan.criteria}.`,
    '',
  );
  for (const s of fan.skipped ?? []) out.push(`- skipped ${s.series}: ${s.reason}`);
  if (fan.skipped?.length) out.push('');
  out.push('**Largest N at full rate with p99 < 100 ms** (of the steps run: ' + (fan.steps ?? []).join(', ') + '):', '');
  out.push('| Series | largest N |', '| --- | ---: |');
  for (const [key, n] of Object.entries(fan.largestPassing)) out.push(`| ${label(key)} | ${n || 'none'} |`);
  out.push('');
  out.push('| Series | N | server CPU-s / delivered Gbit | ÷ bare ws | RSS / viewer KiB | p50 ms | p99 ms | p99 ÷ nms | full rate | load CPU ÷ server CPU | other CPU % | |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const c of comparison(fan)) {
    out.push(`| ${label(c.series)} | ${c.n} | ${num(c.cpuSecondsPerGbit)} | ${x(c.cpuVsBareWs)} | ${c.rssPerViewerKiB} | ${fmtMs(c.p50)} | ${fmtMs(c.p99)} | ${x(c.p99VsNms)} | ${(c.fullRateShare * 100).toFixed(1)}% | ${c.loadToServerCpu} | ${c.otherCpuPct} | ${c.pass ? 'pass' : '**degraded**'} |`);
  }
  out.push(
    '',
    'CPU-s / Gbit: the server\'s CPU time (all its processes) over the window ÷ media bits delivered to the N viewers in it. RSS / viewer: (server RSS with N viewers − with the publisher only) ÷ N. ' +
      '"load CPU ÷ server CPU": what the load processes spent per viewer against what the server spent (target ≤ 0.33 for the gateway series). ' +
      '"other CPU": machine busy time outside the bench (other tenants), in % of one core; with it far above 0 on a 2-core machine, latency figures measure the neighbours too.',
    '',
    'Details:',
    '',
  );
  out.push('| Series | N | fps min / mean | p99 ms | max ms | keyframe p99 ms | probe p99 ms | server CPU % | server RSS MiB | load CPU % | other CPU % |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of fan.rows) {
    out.push(`| ${r.series} | ${r.subscribers}${r.failed ? ` (${r.failed} failed)` : ''} | ${r.fps.min} / ${r.fps.mean} | ${fmtMs(r.latency.p99)} | ${fmtMs(r.latency.max)} | ${fmtMs(r.keyframeLatency?.p99)} | ${fmtMs(r.probeLatency?.p99)} | ${r.serverCpuPct} | ${r.serverRssMiB} | ${r.workerCpuPct} | ${r.otherCpuPct} |`);
  }
  out.push('', '![fan-out](fanout.png)', '');
}

export async function writeReport(): Promise<void> {
  const lat = readResult<{ rows: LatencyRow[]; skipped: Array<{ path: string; reason: string }>; windowS: number; quic: { available: boolean; reason: string } }>('latency');
  const fan = readResult<FanoutResult>('fanout');
  const ing = readResult<{ rows: IngestRow[]; input: string; idleCpuPct: number }>('ingest');
  const hls = readResult<{ rows: HlsFormatRow[]; input: string; windowS: number }>('hls');
  const mem = readResult<{ idleSubscriber?: Record<string, number>; broadcast?: Record<string, number>; soak?: Record<string, unknown> & { samples: Array<{ t: number; rssMiB: number; heapMiB: number; externalMiB?: number }>; gcPoints?: Array<{ t: number; heapMiB: number; externalMiB: number }> } }>('memory');
  const prof = readResult<{ subscribers: number; seconds: number; top?: SelfTimeEntry[]; busyMs?: number; gcMs?: number; error?: string }>('profile');
  // Describe the run that measured (the JSON files), not this invocation (which may be --report).
  const meta = [lat, fan, ing, hls, mem, prof].find((r) => r !== undefined) as { machine?: MachineInfo; command?: string; finishedAt?: string } | undefined;
  const m: MachineInfo = meta?.machine ?? machine;
  const commands = [...new Set([lat, fan, ing, hls, mem, prof].map((r) => (r as { command?: string } | undefined)?.command).filter((c): c is string => !!c))];
  const out: string[] = [];
  out.push('# moq-gateway benchmark results', '');
  out.push(`Command: ${commands.map((c) => `\`${c}\``).join(', ') || `\`${command}\``} — finished ${meta?.finishedAt ?? new Date().toISOString()}`, '');
  out.push(`Machine: ${m.nproc} × ${m.cpuModel}, ${m.ramGiB} GiB RAM, ${m.kernel}, Node ${m.node}, ${m.ffmpeg}, ${m.nginx}; load average at start ${m.loadAverage.join(' / ')}. ` +
    'Everything (servers, publishers, subscriber processes) runs on this one machine over 127.0.0.1, so clients compete with the server for the same cores; "other" CPU is load from outside the bench.', '');

  if (lat) {
    out.push('## Added latency per frame', '');
    out.push('Send time is stamped into each frame just before the publisher writes it (moq-lite: in the payload; RTMP: an H.264 SEI user-data NAL), receive time is taken when the subscriber has the whole frame; same machine clock. ' +
      `${lat.windowS} s per path, one subscriber, 2.5 Mbps 30 fps (1 s GOP).`, '');
    out.push('| Path | Server | p50 ms | p99 ms | max ms | frames |', '| --- | --- | ---: | ---: | ---: | ---: |');
    for (const r of lat.rows) out.push(`| ${r.path}${r.note ? ` (${r.note})` : ''} | ${r.server} | ${fmtMs(r.latency.p50)} | ${fmtMs(r.latency.p99)} | ${fmtMs(r.latency.max)} | ${r.frames} |`);
    for (const s of lat.skipped ?? []) out.push(`| ${s.path} | – | skipped: ${s.reason} | | | |`);
    const ours = lat.rows.find((r) => r.server === 'moq-gateway' && r.path.includes('segment listed'));
    const theirs = lat.rows.find((r) => r.server !== 'moq-gateway' && r.path.includes('segment listed'));
    const part = lat.rows.find((r) => r.path.includes('part listed'));
    const ourRtmp = lat.rows.find((r) => r.path === 'RTMP pub → moq-lite sub (WebSocket)');
    const nmsRtmp = lat.rows.find((r) => r.server.startsWith('node-media-server'));
    out.push('');
    if (ours && theirs) out.push(`HLS, ours / nginx-rtmp: segment listed p50 ${ratio(ours.latency.p50, theirs.latency.p50)}, p99 ${ratio(ours.latency.p99, theirs.latency.p99)}` + (part ? `; LL-HLS part listed vs nginx segment p50 ${ratio(part.latency.p50, theirs.latency.p50)}` : '') + '.');
    if (ourRtmp && nmsRtmp) out.push(`RTMP in → live out, ours (moq-lite) / node-media-server (RTMP): p50 ${ratio(ourRtmp.latency.p50, nmsRtmp.latency.p50)}, p99 ${ratio(ourRtmp.latency.p99, nmsRtmp.latency.p99)}.`);
    out.push('', '![latency distribution](latency-distribution.png)', '');
  }

  if (fan?.rows) fanoutSection(fan, out);
  if (ing) {
    out.push('## Ingest cost', '');
    out.push(`${ing.input}. CPU-ms of the server per media-second of input (CPU time / publishers / wall time). "HLS watched": one LL-HLS client per rendition (video and audio) doing blocking reloads and fetching every part.`, '');
    out.push(`Idle gateway: ${ing.idleCpuPct}% of a core; "marginal" subtracts it.`, '');
    out.push('| Server | Publishers | HLS | CPU-ms / media-s | marginal | CPU % | ingest Mbps | RSS MiB | HLS requests |', '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of ing.rows) out.push(`| ${r.server} | ${r.publishers} | ${r.server === 'moq-gateway' ? (r.hlsWatched ? 'watched' : 'off') : 'always on'} | ${r.cpuMsPerMediaSecond} | ${r.marginalCpuMsPerMediaSecond ?? '–'} | ${r.cpuPct} | ${Number.isFinite(r.ingestMbps) ? r.ingestMbps : '–'} | ${r.rssMiB} | ${r.hlsRequests || '–'} |`);
    const peer = ing.rows.find((r) => r.server !== 'moq-gateway');
    const oursHls = ing.rows.find((r) => r.server === 'moq-gateway' && r.publishers === peer?.publishers && r.hlsWatched);
    const oursNo = ing.rows.find((r) => r.server === 'moq-gateway' && r.publishers === peer?.publishers && !r.hlsWatched);
    if (peer && oursHls && oursNo) out.push('', `At ${peer.publishers} publishers, ours / nginx-rtmp (HLS always written): ${ratio(oursNo.cpuMsPerMediaSecond, peer.cpuMsPerMediaSecond)} without HLS viewers, ${ratio(oursHls.cpuMsPerMediaSecond, peer.cpuMsPerMediaSecond)} with HLS watched.`);
    out.push('');
  }

  if (hls) {
    out.push('## HLS formats', '');
    out.push(`One RTMP broadcast (${hls.input}), ${hls.windowS} s windows. "fMP4": one LL-HLS client per rendition (video, audio) with blocking reloads fetching every part; "MPEG-TS": legacy.m3u8's media playlist polled every second, every segment fetched. Sizes are of the complete segments listed at the end of the window.`, '');
    out.push('| HLS | CPU % | marginal CPU-ms / media-s | kB / media-s | mean segment KiB | segments | requests |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of hls.rows) out.push(`| ${r.flavour === 'none' ? 'no viewer' : r.flavour === 'fmp4' ? 'fMP4 (LL-HLS)' : 'MPEG-TS (legacy)'} | ${r.cpuPct} | ${r.marginalCpuMsPerMediaSecond ?? '–'} | ${r.kbytesPerMediaSecond ?? '–'} | ${r.meanSegmentKiB ?? '–'} | ${r.segmentsMeasured ?? '–'} | ${r.requests || '–'} |`);
    const fmp4 = hls.rows.find((r) => r.flavour === 'fmp4');
    const ts = hls.rows.find((r) => r.flavour === 'mpegts');
    if (fmp4?.kbytesPerMediaSecond && ts?.kbytesPerMediaSecond) out.push('', `MPEG-TS / fMP4: bytes ${ratio(ts.kbytesPerMediaSecond, fmp4.kbytesPerMediaSecond)}, marginal CPU ${ratio(ts.marginalCpuMsPerMediaSecond ?? Number.NaN, fmp4.marginalCpuMsPerMediaSecond ?? Number.NaN)}.`);
    out.push('');
  }

  if (mem) {
    out.push('## Memory', '');
    out.push('| Measure | Value |', '| --- | ---: |');
    if (mem.idleSubscriber) out.push(`| Per idle moq-lite/WebSocket subscriber (${mem.idleSubscriber.subscribers} sessions subscribed to a silent broadcast): RSS / live heap + external after GC | ${mem.idleSubscriber.rssPerSubscriberKiB} KiB / ${mem.idleSubscriber.heapPlusExternalPerSubscriberKiB} KiB |`);
    if (mem.broadcast) out.push(`| Per 2.5 Mbps RTMP broadcast with its cache (${mem.broadcast.broadcasts} broadcasts; current + previous GOP ≤ ${mem.broadcast.expectedCacheKiB} KiB of media): live heap + external after GC / RSS | ${mem.broadcast.heapPlusExternalPerBroadcastKiB} KiB / ${mem.broadcast.rssPerBroadcastKiB} KiB (RSS moves with GC and allocator reuse) |`);
    if (mem.soak) {
      const s = mem.soak;
      out.push(`| Soak (${s.seconds} s; ${s.publisherJoins} publisher and ${s.viewerJoins} viewer joins): RSS baseline → peak → after everyone left | ${s.baselineRssMiB} → ${s.peakRssMiB} → ${s.afterEveryoneLeftRssMiB} MiB |`);
      out.push(`| Soak: live memory (heap used + external after a forced full GC) before → after everyone left | ${s.baselineLiveMiB} → ${s.afterEveryoneLeftLiveMiB} MiB |`);
      out.push(`| Soak after ${s.warmupS} s warm-up: RSS slope / live-memory slope (post-GC every ${Math.max(15, Number(s.seconds) / 10)} s) | ${s.rssSlopeMiBPerMin} / ${s.liveSlopeMiBPerMin} MiB/min: **${s.verdict}** |`);
    }
    out.push('', mem.soak ? '![soak](soak.png)' : '', '');
  }

  if (prof) {
    out.push('## CPU profile under fan-out', '');
    if (prof.top) {
      out.push(`\`node --cpu-prof\`, ${prof.subscribers} moq-lite/WebSocket subscribers, ${prof.seconds} s; ${prof.busyMs} ms busy, ${prof.gcMs} ms GC. Top self time:`, '');
      out.push('| % of busy | self ms | function | location |', '| ---: | ---: | --- | --- |');
      for (const e of prof.top.slice(0, 5)) out.push(`| ${e.percent} | ${e.selfMs} | \`${e.function}\` | ${e.location} |`);
    } else out.push(`No profile: ${prof.error}`);
    out.push('');
  }
  writeFileSync(join(RESULTS, 'latest.md'), out.join('\n'));
  writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify({ command: commands, machine: m, fanout: fan?.rows ? { pinning: fan.pinning, criteria: fan.criteria, largestPassing: fan.largestPassing, skipped: fan.skipped, table: comparison(fan) } : undefined }, null, 2)}\n`);

  // Charts
  const charts: Array<{ base: string; svg: string }> = [];
  if (lat) {
    const series: Series[] = lat.rows
      .filter((r) => r.frames > 0)
      .map((r) => {
        const h = Histogram.fromJSON(r.histogram);
        let seen = 0;
        const pts: Array<[number, number]> = [];
        for (const [edge, count] of h.buckets()) {
          seen += count;
          pts.push([Math.max(0.1, edge), seen / h.count]);
        }
        return { name: `${r.path.replace('(blocking reload)', '')} [${r.server.split(' ')[0]}]`, points: pts, dashed: r.server !== 'moq-gateway' };
      });
    charts.push({ base: join(RESULTS, 'latency-distribution'), svg: svgChart([{ title: 'Added latency per frame (CDF)', xLabel: 'latency, ms (log)', yLabel: 'share of frames', series, xLog: true, xMin: 0.2, xMax: 3000, yMin: 0, yMax: 1, width: 900 }], 'dashed = peers (nginx-rtmp, node-media-server); same machine, same input') });
  }
  if (fan?.rows) {
    const keys = [...new Set(fan.rows.map((r) => r.series))];
    const by = (key: string) => fan.rows.filter((r) => r.series === key).sort((a, b) => a.subscribers - b.subscribers);
    const dashed = (key: string) => key === 'nms' || key === 'bare-ws';
    const series = (pick: (r: FanoutRow) => number) => keys.map((k) => ({ name: k, points: by(k).map((r) => [r.subscribers, pick(r)] as [number, number]), dashed: dashed(k) }));
    charts.push({
      base: join(RESULTS, 'fanout'),
      svg: svgChart(
        [
          { title: 'p99 latency vs viewers', xLabel: 'viewers (log)', yLabel: 'p99 latency, ms', xLog: true, series: series((r) => r.latency.p99), hLine: { y: P99_TARGET_MS, label: '100 ms' } },
          { title: 'Server CPU-s per delivered Gbit', xLabel: 'viewers (log)', yLabel: 'CPU-s / Gbit', xLog: true, yMin: 0, series: series((r) => r.cpuSecondsPerGbit) },
          { title: 'Delivered frame rate (worst viewer)', xLabel: 'viewers (log)', yLabel: 'fps', xLog: true, yMin: 0, yMax: 32, series: series((r) => r.fps.min) },
        ],
        `2.5 Mbps 30 fps input; ${m.nproc} × ${m.cpuModel}; dashed = baselines (bare ws, node-media-server)`,
      ),
    });
  }
  if (mem?.soak?.samples?.length) {
    const s = mem.soak.samples;
    charts.push({
      base: join(RESULTS, 'soak'),
      svg: svgChart([{ title: `Gateway memory during a ${mem.soak.seconds} s soak with churn`, xLabel: 'seconds', yLabel: 'MiB', yMin: 0, series: [
        { name: 'RSS', points: s.map((x) => [x.t, x.rssMiB]) },
        { name: 'V8 heap used', points: s.map((x) => [x.t, x.heapMiB]) },
        { name: 'external (Buffers)', points: s.map((x) => [x.t, x.externalMiB ?? Number.NaN]) },
        { name: 'live heap + external after forced GC', points: (mem.soak.gcPoints ?? []).map((p) => [p.t, p.heapMiB + p.externalMiB] as [number, number]), dashed: true },
      ] }]),
    });
  }
  if (charts.length) {
    const r = await renderCharts(charts);
    if (r.note) log(`  ${r.note}`);
  }
  log(`\nwrote ${join(RESULTS, 'latest.md').replace(REPO_ROOT, '')} and charts`);
}
