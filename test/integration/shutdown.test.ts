/**
 * Graceful shutdown of the real CLI (a child process, what `npm start` runs) while it is busy:
 * ffmpeg publishing over RTMP, a @moq/lite viewer over WebSocket reading video, and an LL-HLS
 * client polling the media playlist with blocking reloads. On SIGTERM the process must exit
 * with code 0 within 5 s, the viewer's track must end (no hang), ffmpeg's connection must be
 * closed (ffmpeg exits), and the HLS client should see EXT-X-ENDLIST in the last playlist it got.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import { until, within } from '../helpers/gateway.ts';
import { pushTestPattern, startGateway, type GatewayProcess, type TestPatternHandle } from '../helpers/gateway-process.ts';
import { parseMediaPlaylist } from '../helpers/hls-playlist-parser.ts';
import { haveTools } from '../helpers/tools.ts';
const tools = haveTools('ffmpeg');
const NAME = 'live/x';

interface TrackWatch {
  frames: number;
  /** When the track ended (next group undefined or an error), ms since the epoch. */
  ended: Promise<number>;
  error: unknown;
}

/** Reads every frame of a track until it ends. */
function watchTrack(track: Moq.Track): TrackWatch {
  const watch: TrackWatch = { frames: 0, ended: Promise.resolve(0), error: undefined };
  watch.ended = (async () => {
    try {
      for (;;) {
        const group = await track.nextGroupOrdered();
        if (!group) break;
        while (await group.readFrame()) watch.frames++;
      }
    } catch (error) {
      watch.error = error;
    }
    return Date.now();
  })();
  return watch;
}

interface HlsPoller {
  /** Playlists received (text), oldest first. */
  playlists: string[];
  /** Failed requests after the first playlist (connection refused, 503 while shutting down). */
  failures: string[];
  stop(): Promise<void>;
}

/**
 * An LL-HLS client: plays the first video rendition of the multivariant playlist, asking for
 * the next part with a blocking reload (`_HLS_msn`/`_HLS_part`) each time, so a request is
 * always waiting in the gateway. Stops at EXT-X-ENDLIST, on request, or after 3 failures.
 */
async function pollHls(base: string): Promise<HlsPoller> {
  const multivariant = await (await fetch(`${base}/index.m3u8`, { signal: AbortSignal.timeout(15_000) })).text();
  const lines = multivariant.split('\n');
  const streamInf = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
  expect(streamInf, multivariant).toBeGreaterThanOrEqual(0);
  const mediaUrl = new URL(lines[streamInf + 1]!, `${base}/index.m3u8`);
  const poller: HlsPoller = { playlists: [], failures: [], stop: async () => undefined };
  const controller = new AbortController();
  const running = (async () => {
    let query = '';
    while (!controller.signal.aborted && poller.failures.length < 3) {
      try {
        const res = await fetch(`${mediaUrl}${query}`, { signal: controller.signal });
        const text = await res.text();
        if (res.status !== 200) {
          poller.failures.push(`${res.status} ${text.trim()}`);
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        poller.playlists.push(text);
        const playlist = parseMediaPlaylist(text);
        if (playlist.endList) return;
        const last = playlist.segments.at(-1);
        if (!last) continue;
        // The next part after the last one listed (RFC 8216bis §6.2.5.2).
        const next = last.uri === undefined ? { msn: last.msn, part: last.parts.length } : { msn: last.msn + 1, part: 0 };
        const sep = mediaUrl.search ? '&' : '?';
        query = `${sep}_HLS_msn=${next.msn}&_HLS_part=${next.part}`;
      } catch (error) {
        if (controller.signal.aborted) return;
        poller.failures.push((error as Error).message);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  poller.stop = async () => {
    controller.abort();
    await running;
  };
  await until(() => poller.playlists.length > 0 || poller.failures.length > 0, 'first media playlist', 15_000);
  expect(poller.failures).toEqual([]);
  return poller;
}

describe.skipIf(!tools)('SIGTERM with a publisher, a MoQ viewer and an HLS client', () => {
  let gw: GatewayProcess;
  let ffmpeg: TestPatternHandle;
  let viewer: Moq.Connection.Established | undefined;
  let hls: HlsPoller | undefined;

  beforeAll(async () => {
    for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
    gw = await startGateway();
    ffmpeg = pushTestPattern({ rtmpUrl: gw.rtmpUrl(NAME) });
  });

  afterAll(async () => {
    await hls?.stop();
    viewer?.close();
    await ffmpeg?.stop();
    await gw?.stop();
  });

  it('exits 0 within 5 s; the viewer track ends, ffmpeg is disconnected, HLS ends', async (ctx) => {
    // What happened, in the report (and on stderr with TEST_LOG_LEVEL set).
    const note = (message: string) => {
      void ctx.annotate(message);
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[shutdown] ${message}\n`);
    };
    // Everything running: the broadcast is live and both kinds of viewer receive it.
    await until(
      async () => {
        const res = await fetch(`${gw.url}/api/broadcasts`).catch(() => undefined);
        const body = (await res?.json().catch(() => undefined)) as { broadcasts?: { path: string; tracks: { name: string }[] }[] } | undefined;
        return body?.broadcasts?.find((b) => b.path === NAME)?.tracks.some((t) => t.name === 'video') ?? false;
      },
      `${NAME} live`,
      20_000,
    );
    viewer = await within(Moq.Connection.connect(new URL(`${gw.url}/`)), 'viewer connect');
    const video = watchTrack(viewer.consume(NAME as Moq.Path.Valid).subscribe('video', 60));
    hls = await pollHls(`${gw.url}/hls/${NAME}`);
    await until(() => video.frames >= 30 && hls!.playlists.length >= 2, 'viewer and HLS client receiving', 15_000);
    expect(ffmpeg.process.exitCode).toBeNull();

    // SIGTERM.
    const signalledAt = Date.now();
    gw.stop().catch(() => undefined); // SIGTERM, then SIGKILL only if still running after 5 s
    const code = await within(gw.exited, 'gateway exit after SIGTERM', 6000);
    const exitMs = Date.now() - signalledAt;
    expect(code, gw.logs().slice(-20).join('\n')).toBe(0);
    expect(exitMs).toBeLessThan(5000);
    // cli.ts exits 0 anyway after 4.5 s: a shutdown that close() finished is well under that.
    expect(exitMs, 'Gateway.close() did not finish; the 4.5 s fallback exit fired').toBeLessThan(4000);
    note(`gateway exited ${exitMs} ms after SIGTERM`);
    expect(gw.logs().some((l) => /shutting down/.test(l))).toBe(true);

    // The viewer's track ended: no hang.
    const endedAt = await within(video.ended, 'viewer track end', 5000);
    note(`viewer track ended ${endedAt - signalledAt} ms after SIGTERM, ${video.error ? `with ${String(video.error)}` : 'cleanly'}`);
    // Graceful: the track ends without a transport error.
    expect(video.error).toBeUndefined();
    await within(viewer.closed.catch(() => undefined), 'viewer connection closed', 5000);

    // ffmpeg's RTMP connection was closed: it stops by itself.
    const ffmpegCode = await within(ffmpeg.exited, 'ffmpeg exits once its connection is closed', 10_000);
    expect(ffmpegCode).not.toBe(0);

    // HLS (best effort): the playlist the client got last should be an ended one.
    await within(hls.stop(), 'HLS client stops', 5000);
    const last = hls.playlists.at(-1)!;
    const endList = parseMediaPlaylist(last).endList;
    note(`HLS: ${hls.playlists.length} playlists, last ${endList ? 'has' : 'lacks'} EXT-X-ENDLIST; then ${hls.failures.join('; ') || 'no failures'}`);
      expect(endList).toBe(true);
      expect(hls.failures).toEqual([]);
  });
});
