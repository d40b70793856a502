/**
 * AAC configurations through RTMP into HLS (issue: HE-AAC broke HLS): ffmpeg publishes mono,
 * stereo and 5.1 AAC-LC and `-profile:a aac_he` (whose native encoder writes object type 5 over
 * AAC-LC data). ffprobe and ffmpeg read every audio rendition without an error, with the rate and
 * channels published, and hls.js in Chromium plays each with audio. The HE-AAC v1/v2 init
 * segments (explicit and implicit signalling) are read by ffprobe at their output rate.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCmafTrack } from '../../adapters/egress/hls/cmaf-track.ts';
import { buildAudioSpecificConfig } from '../../src/media/aac.ts';
import { fromHex } from '../../src/media/hex.ts';
import { startGateway, until } from '../helpers/gateway.ts';
import { CHROMIUM_PATH, launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { haveTools } from '../helpers/tools.ts';

const run = promisify(execFile);
const SOURCES = [
  { name: 'mono', args: ['-ar', '44100', '-ac', '1', '-c:a', 'aac'], rate: 44100, channels: 1 },
  { name: 'stereo', args: ['-ar', '48000', '-ac', '2', '-c:a', 'aac'], rate: 48000, channels: 2 },
  { name: 'surround', args: ['-ar', '48000', '-ac', '6', '-c:a', 'aac', '-b:a', '256k'], rate: 48000, channels: 6 },
  { name: 'he', args: ['-ar', '44100', '-ac', '1', '-c:a', 'aac', '-profile:a', 'aac_he'], rate: 44100, channels: 1 },
];

const PAGE = `<!doctype html><meta charset="utf-8"><video id="v" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
  const video = document.getElementById('v');
  window.__errors = [];
  const hls = new Hls({ lowLatencyMode: true });
  hls.on(Hls.Events.ERROR, (_e, d) => window.__errors.push(d.type + ':' + d.details + (d.fatal ? ' (fatal)' : '')));
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(video);
  video.play().catch(() => {});
</script>`;

const tools = haveTools('ffmpeg', 'ffprobe') && haveTools(CHROMIUM_PATH);
const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

describe.runIf(tools)('AAC profiles from RTMP in HLS', () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let browser: TestBrowser;

  beforeAll(async () => {
    gw = await startGateway();
    stops.push(gw.stop);
    for (const source of SOURCES) {
      const child = spawn(
        'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-re',
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=160x120:rate=30:duration=30',
          '-f',
          'lavfi',
          '-i',
          'sine=frequency=440:sample_rate=48000:duration=30',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-g',
          '30',
          '-bf',
          '0',
          ...source.args,
          '-f',
          'flv',
          `${gw.rtmpUrl}/live/${source.name}`,
        ],
        { stdio: 'ignore', detached: true },
      );
      stops.push(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {}
      });
    }
    browser = await launchBrowser({ origin: gw.httpUrl });
    stops.push(() => browser.close());
    for (const { name } of SOURCES) await until(() => gw.gateway.origin.get(`live/${name}`)?.getTrack('audio') !== undefined, `live/${name} audio`, 15_000);
  }, 30_000);

  it('ffprobe and ffmpeg read every audio rendition with its rate and channels, without an error', async () => {
    // Two segments' worth of media (2 s GOPs are cut at 1 s keyframes) before probing.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await Promise.all(
      SOURCES.map(async (source) => {
        const url = `${gw.httpUrl}/hls/live/${source.name}/audio/media.m3u8`;
        const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,profile,sample_rate,channels', '-of', 'json', url], {
          timeout: 30_000,
        });
        expect(probe.stderr, source.name).toBe('');
        const stream = (JSON.parse(probe.stdout) as { streams: { codec_name: string; profile: string; sample_rate: string; channels: number }[] }).streams[0]!;
        expect(stream, source.name).toMatchObject({ codec_name: 'aac', profile: 'LC', sample_rate: String(source.rate), channels: source.channels });
        // (-v error: reading a live playlist, ffmpeg warns of the init segment it re-reads)
        const decode = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', url, '-t', '2', '-f', 'null', '-'], { timeout: 30_000 });
        expect(decode.stderr, source.name).toBe('');
      }),
    );
    // The repaired HE-AAC source is announced as what it is: AAC-LC.
    const master = await (await fetch(`${gw.httpUrl}/hls/live/he/index.m3u8`)).text();
    expect(master).toContain('mp4a.40.2');
    const api = (await (await fetch(`${gw.httpUrl}/api/broadcasts`)).json()) as { broadcasts: { path: string; tracks: { kind: string; codec: string }[] }[] };
    expect(api.broadcasts.find((b) => b.path === 'live/he')?.tracks.find((t) => t.kind === 'audio')?.codec).toBe('mp4a.40.2');
  }, 60_000);

  it('hls.js plays each with audio', async () => {
    const hlsJs = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
    const results = await Promise.all(
      SOURCES.map(async (source) => {
        const page = await browser.newPage();
        // Serve the page from the gateway's origin, so HLS requests are same-origin.
        await page.route(`${gw.httpUrl}/play.html*`, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
        await page.route(`${gw.httpUrl}/hls.min.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: hlsJs }));
        await page.goto(`${gw.httpUrl}/play.html?src=${encodeURIComponent(`${gw.httpUrl}/hls/live/${source.name}/index.m3u8`)}`);
        const read = () =>
          page.evaluate(() => {
            const video = document.getElementById('v') as HTMLVideoElement & { webkitAudioDecodedByteCount: number };
            return { t: video.currentTime, audio: video.webkitAudioDecodedByteCount, errors: (window as unknown as { __errors: string[] }).__errors };
          });
        await page.waitForFunction(() => (document.getElementById('v') as HTMLVideoElement).currentTime > 0, undefined, { timeout: 20_000 });
        const before = await read();
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const after = await read();
        await page.close();
        return {
          name: source.name,
          advanced: after.t - before.t,
          audio: after.audio - before.audio,
          // Fatal errors and media errors count; a non-fatal network timeout under load (hls.js
          // retries it), stall reports and a jump over a small gap (bufferSeekOverHole) do not.
          errors: after.errors.filter(
            (e) => e.includes('fatal') || (e.startsWith('mediaError:') && !e.includes(':bufferStalled') && !e.includes(':bufferNudge') && !e.includes(':bufferSeekOverHole')),
          ),
        };
      }),
    );
    console.log(`[hls-aac] ${JSON.stringify(results)}`);
    for (const r of results) {
      expect(r.errors, r.name).toEqual([]);
      expect(r.advanced, r.name).toBeGreaterThan(2);
      expect(r.audio, r.name).toBeGreaterThan(0);
    }
  }, 60_000);

  it('HE-AAC v1 and v2 init segments, explicit and implicit, read at their output rate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'he-aac-'));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    const cases = [
      { name: 'explicit-sbr', codec: 'mp4a.40.5', asc: buildAudioSpecificConfig(5, 48000, 2), rate: 48000, channels: 2 },
      { name: 'explicit-ps', codec: 'mp4a.40.29', asc: buildAudioSpecificConfig(29, 44100, 2), rate: 44100, channels: 2 },
      // AAC-LC 22.05 kHz stereo, then sync extension 0x2b7: SBR at 44.1 kHz (14496-3 1.6.6.2).
      { name: 'implicit-sbr', codec: 'mp4a.40.2', asc: fromHex('139056e5a0'), rate: 44100, channels: 2 },
      // AAC-LC 24 kHz mono, implicit SBR at 48 kHz and PS: stereo out.
      { name: 'implicit-ps', codec: 'mp4a.40.2', asc: fromHex('130856e59d4880'), rate: 48000, channels: 2 },
    ];
    for (const c of cases) {
      const result = describeCmafTrack({ kind: 'audio', codec: c.codec, description: c.asc, sampleRate: c.rate, numberOfChannels: c.channels });
      if (result.kind !== 'ready') throw new Error(`${c.name}: ${JSON.stringify(result)}`);
      expect(result.track.codecs, c.name).toBe(c.codec);
      const file = join(dir, `${c.name}.mp4`);
      writeFileSync(file, result.track.init);
      const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels', '-of', 'json', file], { timeout: 10_000 });
      expect(probe.stderr, c.name).toBe('');
      expect((JSON.parse(probe.stdout) as { streams: unknown[] }).streams[0], c.name).toMatchObject({
        codec_name: 'aac',
        sample_rate: String(c.rate),
        channels: c.channels,
      });
    }
  });
});
