/**
 * @moq/publish 0.2.17 (the published browser publisher) in headless Chromium with a fake camera
 * and microphone publishes to the real gateway process over MoQ. Its H.264 is Annex B with no
 * catalog `description` (parameter sets in-band, the WebCodecs convention hang follows). The
 * HLS output must play: hls.js advances `video.currentTime` with decoded frames, and ffprobe
 * decodes the video media playlist's init segment + segments as H.264 frames.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build, stop as stopEsbuild } from 'esbuild';
import * as Moq from '@moq/lite';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeLegacyFrame } from '../../src/media/hang/container.ts';
import { within } from '../helpers/gateway.ts';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.ts';
import { attributes, parseMediaPlaylist } from '../helpers/hls-playlist-parser.ts';
import { haveTools } from '../helpers/tools.ts';

const BROADCAST = 'live/annexb';
/** A measured figure: in the test report and on the console. */
const note = (ctx: { annotate(message: string): unknown }, message: string) => {
  void ctx.annotate(message);
  console.log(`[moq-publish-hls] ${message}`);
};
/** hls.js ErrorDetails that report stalls and skipped holes (BUFFER_STALLED_ERROR, BUFFER_NUDGE_ON_STALL, BUFFER_SEEK_OVER_HOLE). */
const NON_FATAL_STALLS = new Set(['bufferStalledError', 'bufferNudgeOnStall', 'bufferSeekOverHole']);
const run = promisify(execFile);
/**
 * ffmpeg's null output in the input's time base: a camera's irregular frame times rounded to
 * its nominal frame rate can collide, which the null muxer reports as an error of its own.
 */
const NULL_OUTPUT = ['-enc_time_base:v', '-1', '-f', 'null', '-'];
const require = createRequire(import.meta.url);

/** The publisher: <moq-publish> with the camera source, as the package's README shows it. */
const PUBLISH_PAGE = `<!doctype html><meta charset="utf-8">
<script type="module" src="/publish.js"></script>
<moq-publish id="pub" source="camera"><video muted autoplay></video></moq-publish>`;

/** hls.js on the gateway's multivariant playlist, recording its errors. */
const PLAY_PAGE = `<!doctype html><meta charset="utf-8"><video id="v" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
  const video = document.getElementById('v');
  const state = (window.__hls = { errors: [], playing: false, levels: [] });
  const hls = new Hls({ lowLatencyMode: true });
  const ranges = (r) => Array.from({ length: r.length }, (_, i) => r.start(i).toFixed(3) + '-' + r.end(i).toFixed(3)).join(' ');
  state.buffered = {};
  hls.on(Hls.Events.BUFFER_APPENDED, (_e, d) => { for (const [type, r] of Object.entries(d.timeRanges || {})) state.buffered[type] = ranges(r); });
  hls.on(Hls.Events.ERROR, (_e, d) => state.errors.push({ type: d.type, details: d.details, fatal: d.fatal, reason: String(d.reason || d.error || ''), buffered: { ...state.buffered } }));
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => { state.levels = d.levels.map((l) => ({ codecs: l.codecSet, videoCodec: l.videoCodec, width: l.width })); });
  video.addEventListener('playing', () => { state.playing = true; });
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(video);
  video.play().catch(() => {});
</script>`;

interface PageServer {
  base: string;
  close(): Promise<void>;
}

/** The two pages, the bundled publisher and hls.js on loopback. */
async function startPageServer(): Promise<PageServer> {
  const bundle = await build({
    stdin: { contents: `import '@moq/publish/element';`, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    target: 'chrome120',
  });
  const files: Record<string, [string, string | Buffer]> = {
    '/publish.html': ['text/html; charset=utf-8', PUBLISH_PAGE],
    '/play.html': ['text/html; charset=utf-8', PLAY_PAGE],
    '/publish.js': ['text/javascript', bundle.outputFiles[0]!.text],
    '/hls.min.js': ['text/javascript', readFileSync(require.resolve('hls.js/dist/hls.min.js'))],
  };
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopEsbuild();
    },
  };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

describe.runIf(haveTools('chromium', 'ffmpeg', 'ffprobe'))('@moq/publish (Annex B H.264, in-band parameter sets) → gateway → HLS', () => {
  let gateway: GatewayProcess | undefined;
  let pages: PageServer | undefined;
  let browser: TestBrowser | undefined;
  let publisher: Page | undefined;

  beforeAll(async () => {
    gateway = await startGateway();
    pages = await startPageServer();
    browser = await launchBrowser({
      origin: pages.base,
      extraArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    });
    await browser.context.grantPermissions(['camera', 'microphone'], { origin: pages.base });
    publisher = await browser.newPage();
    await publisher.goto(`${pages.base}/publish.html`);
    // Attributes after the element exists: url (the gateway's MoQ endpoint) then the name.
    await publisher.evaluate(
      ([url, name]) => {
        const element = document.getElementById('pub')!;
        element.setAttribute('url', url!);
        element.setAttribute('name', name!);
      },
      [`${gateway.url}/`, BROADCAST],
    );
  }, 60_000);

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await pages?.close();
      await gateway?.stop();
    }
  }, 30_000);

  const diagnostics = () =>
    ['--- browser console ---', browser?.consoleText() ?? '', '--- gateway log (last 40 lines) ---', ...(gateway?.logs().slice(-40) ?? [])].join('\n');

  /** The multivariant playlist once it lists a video rendition; its media playlist URL and codecs. */
  async function videoRendition(): Promise<{ url: string; codecs: string }> {
    const master = `${gateway!.url}/hls/${BROADCAST}/index.m3u8`;
    const deadline = Date.now() + 30_000;
    let last = '';
    while (Date.now() < deadline) {
      const response = await fetch(master, { signal: AbortSignal.timeout(10_000) }).catch((error: Error) => error);
      if (!(response instanceof Error)) {
        last = `${response.status} ${await response.text()}`;
        const lines = last.split('\n');
        const at = lines.findIndex((line) => line.startsWith('#EXT-X-STREAM-INF:'));
        if (response.ok && at >= 0) {
          const uri = lines[at + 1]!;
          return { url: new URL(uri, master).href, codecs: attributes(lines[at]!.slice('#EXT-X-STREAM-INF:'.length)).CODECS ?? '' };
        }
      } else last = response.message;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`no video rendition in ${master}: ${last}\n${diagnostics()}`);
  }

  it('the publisher sends what this is about: H.264 without a catalog description, Annex B keyframes with SPS/PPS', async (ctx) => {
    await videoRendition(); // the broadcast is up
    // @moq/lite 0.2.2 from Node (WebSocket): the same broadcast as any viewer gets it.
    const quiet = (['debug', 'log', 'info', 'warn', 'error'] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => undefined));
    const connection = await within(Moq.Connection.connect(new URL(`${gateway!.url}/`)), 'connect', 10_000);
    try {
      const broadcast = connection.consume(BROADCAST as Moq.Path.Valid);
      const catalogGroup = await within(broadcast.subscribe('catalog.json', 100).nextGroupOrdered(), 'catalog group', 10_000);
      const catalog = JSON.parse(new TextDecoder().decode((await within(catalogGroup!.readFrame(), 'catalog frame'))!)) as {
        video?: { renditions?: Record<string, { codec: string; description?: string }> };
      };
      const renditions = Object.entries(catalog.video?.renditions ?? {});
      note(ctx, `catalog video renditions: ${JSON.stringify(renditions)}`);
      expect(renditions.length).toBeGreaterThan(0);
      const [track, rendition] = renditions[0]!;
      expect(rendition.codec).toMatch(/^avc1\./);
      expect(rendition.description).toBeUndefined();
      const group = await within(broadcast.subscribe(track, 60).nextGroupOrdered(), 'video group', 10_000);
      const { payload } = decodeLegacyFrame((await within(group!.readFrame(), 'keyframe'))!);
      expect([...payload.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
      // Start codes before an SPS (type 7) and a PPS (type 8): parameter sets in-band.
      const types: number[] = [];
      for (let i = 0; i + 3 < payload.length; i++) if (payload[i] === 0 && payload[i + 1] === 0 && payload[i + 2] === 1) types.push(payload[i + 3]! & 0x1f);
      note(ctx, `keyframe NAL unit types: ${types.join(',')}`);
      expect(types).toContain(7);
      expect(types).toContain(8);
      expect(types).toContain(5);
    } finally {
      connection.close();
      // Its "connection closed" reports come a moment later.
      setTimeout(() => {
        for (const spy of quiet) spy.mockRestore();
      }, 500);
    }
  }, 60_000);

  /** hls.js on the gateway's multivariant playlist in a new page, once it plays. */
  async function openPlayer(): Promise<Page> {
    const page = await browser!.newPage();
    const src = `${gateway!.url}/hls/${BROADCAST}/index.m3u8`;
    await page.goto(`${pages!.base}/play.html?src=${encodeURIComponent(src)}`);
    await page
      .waitForFunction(() => (window as unknown as { __hls: { playing: boolean } }).__hls.playing, undefined, { timeout: 30_000 })
      .catch(async (error: Error) => {
        await page.close();
        throw new Error(`${error.message}\n${diagnostics()}`);
      });
    return page;
  }

  const readPlayer = (page: Page) =>
    page.evaluate(() => {
      const video = document.getElementById('v') as HTMLVideoElement & { webkitDecodedFrameCount: number };
      const state = (window as unknown as { __hls: { errors: { fatal: boolean; type: string; details: string }[]; buffered: Record<string, string> } }).__hls;
      return { t: video.currentTime, frames: video.webkitDecodedFrameCount, width: video.videoWidth, height: video.videoHeight, errors: state.errors, videoBuffered: state.buffered.video ?? '' };
    });

  /**
   * hls.js reports waiting for data and skipping a hole as non-fatal media errors: under load
   * the fake microphone's Opus has gaps of a frame or two (seen: 40 ms holes in the audio
   * SourceBuffer only). Anything else is a failure.
   */
  const playerErrors = (state: Awaited<ReturnType<typeof readPlayer>>) => state.errors.filter((e) => e.fatal || (e.type === 'mediaError' && !NON_FATAL_STALLS.has(e.details)));

  /** ffprobe and ffmpeg on the newest init segment + its last two complete segments. */
  async function probeVideoRendition(): Promise<{ codec_name: string; profile: string; width: number; height: number; nb_read_frames: string }> {
    const rendition = await videoRendition();
    // Two complete segments under one init segment: the playlist may list parts of an open one last.
    let complete: ReturnType<typeof parseMediaPlaylist>['segments'] = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const playlist = parseMediaPlaylist(new TextDecoder().decode(await fetchBytes(rendition.url)));
      const whole = playlist.segments.filter((s) => s.uri);
      complete = whole.filter((s) => s.map === whole.at(-1)?.map).slice(-2);
      if (complete.length >= 2 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(complete.length, diagnostics()).toBe(2);
    const map = complete[0]!.map;
    expect(map).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'moq-publish-hls-'));
    try {
      const parts = [await fetchBytes(new URL(map!, rendition.url).href)];
      for (const segment of complete) parts.push(await fetchBytes(new URL(segment.uri!, rendition.url).href));
      const file = join(dir, 'video.mp4');
      await writeFile(file, Buffer.concat(parts));
      const { stdout } = await run(
        'ffprobe',
        ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,profile,width,height,nb_read_frames', '-of', 'json', file],
        { timeout: 30_000 },
      );
      // Every frame decodes: ffmpeg stops at the first decoding error with -xerror.
      const decoded = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, ...NULL_OUTPUT], { timeout: 30_000 });
      expect(decoded.stderr).toBe('');
      return (JSON.parse(stdout) as { streams: Awaited<ReturnType<typeof probeVideoRendition>>[] }).streams[0]!;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('hls.js plays the video: currentTime advances with decoded frames', async (ctx) => {
    const rendition = await videoRendition();
    note(ctx, `CODECS="${rendition.codecs}"`);
    expect(rendition.codecs).toMatch(/avc1\.[0-9a-f]{6}/i);
    const page = await openPlayer();
    try {
      const before = await readPlayer(page);
      await page.waitForTimeout(5000);
      const after = await readPlayer(page);
      note(ctx, `hls.js: currentTime ${before.t.toFixed(2)} → ${after.t.toFixed(2)} s, decoded frames ${before.frames} → ${after.frames}, ${after.width}x${after.height}`);
      expect(playerErrors(after), diagnostics()).toEqual([]);
      // The video has no hole: one buffered range.
      expect(after.videoBuffered.split(' '), `video buffered ${after.videoBuffered}`).toHaveLength(1);
      expect(after.t - before.t).toBeGreaterThan(3);
      expect(after.frames - before.frames).toBeGreaterThan(30);
      expect(after.width).toBeGreaterThan(0);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('ffprobe decodes the video rendition (init segment + segments) as H.264 frames', async (ctx) => {
    const stream = await probeVideoRendition();
    note(ctx, `ffprobe: ${JSON.stringify(stream)}`);
    expect(stream.codec_name).toBe('h264');
    expect(stream.width).toBeGreaterThan(0);
    expect(Number(stream.nb_read_frames)).toBeGreaterThan(10);
  }, 60_000);

  it('the MPEG-TS rendition (legacy.m3u8) decodes as H.264 too', async (ctx) => {
    await videoRendition();
    const media = `${gateway!.url}/hls/${BROADCAST}/legacy-media.m3u8`;
    let uris: string[] = [];
    const deadline = Date.now() + 30_000;
    while (uris.length < 2 && Date.now() < deadline) {
      const response = await fetch(media, { signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
      if (response?.ok) uris = (await response.text()).split('\n').filter((line) => line.endsWith('.ts'));
      else await response?.body?.cancel();
      if (uris.length < 2) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(uris.length, diagnostics()).toBeGreaterThanOrEqual(2);
    const dir = await mkdtemp(join(tmpdir(), 'moq-publish-ts-'));
    try {
      const file = join(dir, 'legacy.ts');
      const segments = await Promise.all(uris.slice(-2).map((uri) => fetchBytes(new URL(uri, media).href)));
      await writeFile(file, Buffer.concat(segments));
      const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file], { timeout: 30_000 });
      const stream = (JSON.parse(stdout) as { streams: { codec_name: string; width: number; nb_read_frames: string }[] }).streams[0];
      note(ctx, `ffprobe legacy: ${JSON.stringify(stream)}`);
      expect(stream?.codec_name).toBe('h264');
      expect(stream!.width).toBeGreaterThan(0);
      expect(Number(stream!.nb_read_frames)).toBeGreaterThan(10);
      const decoded = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, ...NULL_OUTPUT], { timeout: 30_000 });
      expect(decoded.stderr).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a resize at the publisher (new in-band SPS): a new init segment after a discontinuity; hls.js goes on at the new size', async (ctx) => {
    await videoRendition(); // the broadcast is up
    const page = await openPlayer();
    try {
      const before = await readPlayer(page);
      const resizedAt = Date.now();
      // The camera track at 640x360: @moq/publish reconfigures its encoder (to 16-pixel multiples).
      await publisher!.evaluate(async () => {
        const element = document.getElementById('pub') as unknown as { broadcast: { video: { source: { peek(): MediaStreamTrack | undefined } } } };
        await element.broadcast.video.source.peek()!.applyConstraints({ width: 640, height: 360 });
      });
      await page
        .waitForFunction((width) => (document.getElementById('v') as HTMLVideoElement).videoWidth !== width, before.width, { timeout: 30_000 })
        .catch((error: Error) => {
          throw new Error(`${error.message}\n${diagnostics()}`);
        });
      const resized = await readPlayer(page);
      note(ctx, `the player showed the new size ${Date.now() - resizedAt} ms after applyConstraints`);
      await page.waitForTimeout(4000);
      const after = await readPlayer(page);
      note(ctx, `hls.js: ${before.width}x${before.height} → ${after.width}x${after.height}; after the resize currentTime ${resized.t.toFixed(2)} → ${after.t.toFixed(2)} s, decoded frames ${resized.frames} → ${after.frames}`);
      expect(playerErrors(after), diagnostics()).toEqual([]);
      expect(after.width).toBeLessThan(before.width);
      expect(after.t - resized.t).toBeGreaterThan(2.5);
      expect(after.frames - resized.frames).toBeGreaterThan(20);
    } finally {
      await page.close();
    }
    const rendition = await videoRendition();
    const playlist = parseMediaPlaylist(new TextDecoder().decode(await fetchBytes(rendition.url)));
    note(ctx, `media playlist: discontinuity sequence ${playlist.discontinuitySequence}, ${playlist.segments.filter((s) => s.discontinuity).length} listed`);
    expect(playlist.discontinuitySequence + playlist.segments.filter((s) => s.discontinuity).length).toBeGreaterThanOrEqual(1);
    // The MPEG-TS rendition goes on too, behind a discontinuity.
    const legacy = await (await fetch(`${gateway!.url}/hls/${BROADCAST}/legacy-media.m3u8`, { signal: AbortSignal.timeout(15_000) })).text();
    expect(legacy).not.toContain('#EXT-X-ENDLIST');
    expect(legacy).toMatch(/#EXT-X-DISCONTINUITY\n|#EXT-X-DISCONTINUITY-SEQUENCE:[1-9]/);
    const stream = await probeVideoRendition();
    note(ctx, `ffprobe after the resize: ${JSON.stringify(stream)}`);
    expect(stream).toMatchObject({ codec_name: 'h264', width: 640 });
    expect(Number(stream.nb_read_frames)).toBeGreaterThan(10);
  }, 90_000);
});
