/**
 * HLS formats section: what one broadcast costs the gateway per HLS flavour, for the same RTMP
 * input — no HLS viewer, the fMP4/LL-HLS rendition (index.m3u8, every rendition watched with
 * blocking reloads), and the MPEG-TS rendition (legacy.m3u8, polled like a classic player) — and
 * the bytes per media-second and mean segment size each one serves.
 */
import { type HlsWatch, firstMediaPlaylist, watchClassicHls, watchLowLatencyHls } from '../lib/hls.ts';
import { fetchMetrics, metricSum } from '../lib/machine.ts';
import { ensureIngestFlv } from '../lib/media.ts';
import { CpuMeter, collectOutput, sleep, track, waitFor } from '../lib/proc.ts';
import { startGatewayServer } from '../lib/servers.ts';
import { round } from '../lib/stats.ts';
import { GATEWAY_ARGS, WINDOW_S, log, writeResult } from '../lib/context.ts';

type Flavour = 'none' | 'fmp4' | 'mpegts';

export interface HlsFormatRow {
  flavour: Flavour;
  cpuPct: number;
  /** CPU over the no-viewer point's, in CPU-ms per media-second. */
  marginalCpuMsPerMediaSecond?: number;
  /** Summed over the flavour's media playlists (fMP4: video + audio; TS: one muxed playlist). */
  kbytesPerMediaSecond?: number;
  meanSegmentKiB?: number;
  segmentsMeasured?: number;
  requests: number;
  errors: number;
}

interface SegmentSizes {
  bytes: number;
  seconds: number;
  segments: number;
}

/** Downloads the complete segments a media playlist lists now and sums their sizes and EXTINF. */
async function segmentSizes(mediaPlaylistUrl: string): Promise<SegmentSizes> {
  const text = await fetch(mediaPlaylistUrl).then((r) => r.text());
  const out: SegmentSizes = { bytes: 0, seconds: 0, segments: 0 };
  let duration: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith('#') && duration !== undefined) {
      const body = await fetch(new URL(line, mediaPlaylistUrl)).then((r) => (r.ok ? r.arrayBuffer() : undefined));
      if (body) {
        out.bytes += body.byteLength;
        out.seconds += duration;
        out.segments++;
      }
      duration = undefined;
    }
  }
  return out;
}

async function mediaPlaylists(multivariantUrl: string): Promise<string[]> {
  const first = await firstMediaPlaylist(multivariantUrl);
  const text = await fetch(multivariantUrl).then((r) => r.text());
  const renditions = [...text.matchAll(/#EXT-X-MEDIA:[^\n]*URI="([^"]+)"/g)].map((m) => new URL(m[1]!, multivariantUrl).href);
  return [first, ...renditions];
}

async function point(flavour: Flavour, file: string): Promise<HlsFormatRow> {
  const gw = await startGatewayServer({ args: GATEWAY_ARGS });
  const ffmpeg = track('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', gw.rtmpUrl('live/hls')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ffmpegLogs = collectOutput(ffmpeg.child, 20);
  const watches: HlsWatch[] = [];
  let playlists: string[] = [];
  try {
    const base = `${gw.httpUrl}/hls/live/hls`;
    // Not the playlist: asking for it would start the packager the no-viewer point leaves off.
    await waitFor(async () => metricSum(await fetchMetrics(gw.httpUrl), 'moq_gateway_broadcasts') >= 1, 'broadcast live', 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; ffmpeg: ${ffmpegLogs().join(' ')}`);
    });
    if (flavour === 'fmp4') {
      playlists = await mediaPlaylists(`${base}/index.m3u8`);
      for (const url of playlists) watches.push(watchLowLatencyHls(url, () => Number.POSITIVE_INFINITY));
    } else if (flavour === 'mpegts') {
      playlists = await mediaPlaylists(`${base}/legacy.m3u8`);
      for (const url of playlists) watches.push(watchClassicHls(url, () => Number.POSITIVE_INFINITY, { pollMs: 1000 }));
    }
    await sleep(4000);
    const cpu = new CpuMeter(() => [gw.pid]);
    cpu.start();
    await sleep(WINDOW_S * 1000);
    const c = cpu.read();
    const row: HlsFormatRow = {
      flavour,
      cpuPct: round(c.percentOfCore, 1),
      requests: watches.reduce((a, w) => a + w.requests, 0),
      errors: watches.reduce((a, w) => a + w.errors, 0),
    };
    if (playlists.length) {
      const sizes = await Promise.all(playlists.map(segmentSizes));
      const perPlaylist = sizes.filter((s) => s.seconds > 0);
      row.kbytesPerMediaSecond = round(perPlaylist.reduce((a, s) => a + s.bytes / s.seconds, 0) / 1000, 1);
      // One segment's worth of media across the flavour's playlists (fMP4 video + audio = one TS).
      row.meanSegmentKiB = round(perPlaylist.reduce((a, s) => a + s.bytes / s.segments, 0) / 1024, 1);
      row.segmentsMeasured = Math.min(...perPlaylist.map((s) => s.segments));
    }
    return row;
  } finally {
    await Promise.all(watches.map((w) => w.stop()));
    await ffmpeg.stop(2000);
    await gw.stop();
  }
}

export async function runHlsFormats(): Promise<void> {
  const input = '1280x720 30 fps H.264 High 2.5 Mbps CBR (2 s GOP) + AAC 128 kb/s, FLV looped by ffmpeg';
  log(`\n== hls: one RTMP broadcast (${input}); CPU with no HLS viewer, fMP4/LL-HLS watched, MPEG-TS watched; ${WINDOW_S} s windows`);
  const file = ensureIngestFlv({ kbps: 2500 });
  const rows: HlsFormatRow[] = [];
  for (const flavour of ['none', 'fmp4', 'mpegts'] as const) {
    const row = await point(flavour, file);
    const idle = rows[0]?.cpuPct;
    if (idle !== undefined) row.marginalCpuMsPerMediaSecond = round(Math.max(0, (row.cpuPct - idle) * 10), 2);
    log(`  ${flavour.padEnd(6)}: ${row.cpuPct}% of a core${row.marginalCpuMsPerMediaSecond !== undefined ? ` (+${row.marginalCpuMsPerMediaSecond} CPU-ms per media-second)` : ''}${row.kbytesPerMediaSecond !== undefined ? `, ${row.kbytesPerMediaSecond} kB per media-second, mean segment ${row.meanSegmentKiB} KiB over ${row.segmentsMeasured} segments` : ''}${row.requests ? `, ${row.requests} requests, ${row.errors} errors` : ''}`);
    rows.push(row);
  }
  writeResult('hls', { windowS: WINDOW_S, input, rows });
}
