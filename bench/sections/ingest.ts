/** Ingest section: CPU-ms per media-second for 1/10/50 ffmpeg RTMP publishers, with/without HLS viewers. */
import { type HlsWatch, firstMediaPlaylist, watchLowLatencyHls } from '../lib/hls.ts';
import { fetchMetrics, machineBusyMs, metricSum } from '../lib/machine.ts';
import { ensureIngestFlv } from '../lib/media.ts';
import { CpuMeter, type Tracked, collectOutput, rssBytes, sleep, track, waitFor } from '../lib/proc.ts';
import { nginxAvailable, startGatewayServer, startNginx } from '../lib/servers.ts';
import { round } from '../lib/stats.ts';
import { GATEWAY_ARGS, QUICK, WINDOW_S, log, mb, writeResult } from '../lib/context.ts';

export interface IngestRow {
  server: string;
  publishers: number;
  hlsWatched: boolean;
  cpuPct: number;
  cpuMsPerMediaSecond: number;
  /** Minus the idle gateway's CPU. */
  marginalCpuMsPerMediaSecond?: number;
  ingestMbps: number;
  rssMiB: number;
  hlsRequests: number;
  hlsErrors: number;
  otherCpuPct: number;
}

function startFfmpegPublishers(file: string, urls: string[]): Array<{ proc: Tracked; logs: () => string[] }> {
  return urls.map((url) => {
    const proc = track('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', url], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { proc, logs: collectOutput(proc.child, 20) };
  });
}

async function allRenditions(multivariantUrl: string): Promise<string[]> {
  const media = await firstMediaPlaylist(multivariantUrl);
  const text = await fetch(multivariantUrl).then((r) => r.text());
  const audio = [...text.matchAll(/#EXT-X-MEDIA:[^\n]*URI="([^"]+)"/g)].map((m) => new URL(m[1]!, multivariantUrl).href);
  return [media, ...audio];
}

async function ingestPoint(publishers: number, hls: boolean, file: string): Promise<IngestRow> {
  const gw = await startGatewayServer({ args: GATEWAY_ARGS });
  const ffmpegs = startFfmpegPublishers(file, Array.from({ length: publishers }, (_, i) => gw.rtmpUrl(`live/in${i}`)));
  const watches: HlsWatch[] = [];
  try {
    await waitFor(async () => metricSum(await fetchMetrics(gw.httpUrl), 'moq_gateway_broadcasts') >= publishers, `${publishers} broadcasts live`, 30_000 + publishers * 500);
    if (hls) {
      for (let i = 0; i < publishers; i++) {
        for (const url of await allRenditions(`${gw.httpUrl}/hls/live/in${i}/index.m3u8`)) watches.push(watchLowLatencyHls(url, () => Number.POSITIVE_INFINITY));
      }
    }
    await sleep(4000);
    const m0 = await fetchMetrics(gw.httpUrl);
    const cpu = new CpuMeter(() => [gw.pid]);
    cpu.start();
    const busy0 = machineBusyMs();
    const ff = new CpuMeter(() => ffmpegs.map((f) => f.proc.pid));
    ff.start();
    const self0 = process.cpuUsage();
    await sleep(WINDOW_S * 1000);
    const c = cpu.read();
    const busy = machineBusyMs() - busy0;
    const f = ff.read();
    const self = process.cpuUsage(self0);
    const m1 = await fetchMetrics(gw.httpUrl);
    const bytes = metricSum(m1, 'moq_gateway_ingest_bytes_total') - metricSum(m0, 'moq_gateway_ingest_bytes_total');
    const hlsRequests = watches.reduce((a, w) => a + w.requests, 0);
    const row: IngestRow = {
      server: 'moq-gateway',
      publishers,
      hlsWatched: hls,
      cpuPct: round(c.percentOfCore, 1),
      cpuMsPerMediaSecond: round(c.cpuMs / (publishers * (c.wallMs / 1000)), 2),
      ingestMbps: round((bytes * 8) / (c.wallMs / 1000) / 1e6, 1),
      rssMiB: mb(rssBytes(gw.pid)),
      hlsRequests,
      hlsErrors: watches.reduce((a, w) => a + w.errors, 0),
      otherCpuPct: round(Math.max(0, (100 * (busy - c.cpuMs - f.cpuMs - (self.user + self.system) / 1000)) / c.wallMs), 1),
    };
    log(`  ${String(publishers).padStart(2)} publishers, HLS ${hls ? 'watched' : 'off    '}: ${row.cpuMsPerMediaSecond} CPU-ms per media-second (${row.cpuPct}% of a core), ingest ${row.ingestMbps} Mbps, rss ${row.rssMiB} MiB, ffmpeg ${round(f.percentOfCore, 1)}%${hls ? `, ${hlsRequests} HLS requests, ${row.hlsErrors} errors` : ''}`);
    return row;
  } finally {
    await Promise.all(watches.map((w) => w.stop()));
    await Promise.all(ffmpegs.map((f) => f.proc.stop(2000)));
    await gw.stop();
  }
}

async function nginxIngestPoint(publishers: number, file: string): Promise<IngestRow | undefined> {
  if (!nginxAvailable()) return undefined;
  const nginx = await startNginx();
  const ffmpegs = startFfmpegPublishers(file, Array.from({ length: publishers }, (_, i) => nginx.rtmpUrl(`live/in${i}`)));
  try {
    await waitFor(async () => {
      for (let i = 0; i < publishers; i++) {
        const ok = await fetch(nginx.hlsUrl(`in${i}`)).then((r) => r.ok, () => false);
        if (!ok) return false;
      }
      return true;
    }, 'nginx HLS playlists', 30_000);
    await sleep(2000);
    const cpu = new CpuMeter(nginx.pids);
    cpu.start();
    await sleep(WINDOW_S * 1000);
    const c = cpu.read();
    const row: IngestRow = {
      server: nginx.name,
      publishers,
      hlsWatched: false,
      cpuPct: round(c.percentOfCore, 1),
      cpuMsPerMediaSecond: round(c.cpuMs / (publishers * (c.wallMs / 1000)), 2),
      ingestMbps: Number.NaN,
      rssMiB: mb(rssBytes(nginx.pid)),
      hlsRequests: 0,
      hlsErrors: 0,
      otherCpuPct: Number.NaN,
    };
    log(`  ${nginx.name}: ${publishers} publishers, HLS always written: ${row.cpuMsPerMediaSecond} CPU-ms per media-second (${row.cpuPct}%)`);
    return row;
  } finally {
    await Promise.all(ffmpegs.map((f) => f.proc.stop(2000)));
    await nginx.stop();
  }
}

/** CPU of an idle gateway (no publishers, no viewers): timers, and our /metrics polls. */
async function idleGatewayCpuPct(): Promise<number> {
  const gw = await startGatewayServer({ args: GATEWAY_ARGS });
  try {
    await sleep(3000);
    await fetchMetrics(gw.httpUrl);
    const cpu = new CpuMeter(() => [gw.pid]);
    cpu.start();
    await sleep(WINDOW_S * 1000);
    await fetchMetrics(gw.httpUrl);
    return round(cpu.read().percentOfCore, 2);
  } finally {
    await gw.stop();
  }
}

export async function runIngest(): Promise<void> {
  const counts = QUICK ? [1, 10] : [1, 10, 50];
  log(`\n== ingest: ${counts.join('/')} ffmpeg RTMP publishers (6 Mbps H.264 + AAC, -re -stream_loop -1 -c copy); ${WINDOW_S} s windows`);
  const file = ensureIngestFlv();
  const idleCpuPct = await idleGatewayCpuPct();
  log(`  idle gateway: ${idleCpuPct}% of a core`);
  const rows: IngestRow[] = [];
  for (const p of counts) {
    for (const hls of [false, true]) {
      const r = await ingestPoint(p, hls, file);
      r.marginalCpuMsPerMediaSecond = round(Math.max(0, ((r.cpuPct - idleCpuPct) * 10) / p), 2);
      rows.push(r);
    }
  }
  const peer = await nginxIngestPoint(10, file);
  if (peer) rows.push(peer);
  writeResult('ingest', { windowS: WINDOW_S, idleCpuPct, input: '1280x720 30 fps H.264 High ~5.9 Mbps CBR (2 s GOP) + AAC 128 kb/s, FLV looped by ffmpeg', rows });
}
