import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { pushTestPattern, startGateway, type GatewayProcess, type TestPatternHandle } from '../helpers/gateway-process.ts';
import { haveTools } from '../helpers/tools.ts';

/**
 * Shaka Player 5.2.12's MoQ player (the experimental build, `application/msf`) against the real
 * gateway process over WebTransport (issue 24 point 5): ffmpeg pushes H.264 + AAC over RTMP, Shaka
 * subscribes to the MSF catalog and the LOC tracks over MoQT draft 14 and draft 16, and the test
 * judges what the <video> element did: its clock ran, frames were decoded, audio was buffered and
 * the player raised no error.
 */

const BROADCAST = 'live/shaka';
// SHAKA_DEBUG=1 loads the debug build, whose log (at level SHAKA_DEBUG) reaches the console lines.
const SHAKA_DEBUG = Number(process.env.SHAKA_DEBUG ?? 0);
const SHAKA = fileURLToPath(new URL(`../../node_modules/shaka-player/dist/shaka-player.experimental${SHAKA_DEBUG ? '.debug' : ''}.js`, import.meta.url));

const PAGE = `<!doctype html><meta charset="utf-8"><video id="video" muted autoplay playsinline></video>
<script>window.shakaLogLevel = ${SHAKA_DEBUG};</script><script src="/shaka.js"></script><script>
window.errors = [];
const describe = (error) => error && error.code !== undefined ? 'shaka error ' + error.code + ' ' + JSON.stringify(error.data) : String(error && (error.stack || error));
if (window.shakaLogLevel) shaka.log.setLevel(window.shakaLogLevel);
window.startShaka = async (server, origin, namespaces, version) => {
  shaka.polyfill.installAll();
  const video = document.getElementById('video');
  const player = new shaka.Player();
  window.player = player;
  player.addEventListener('error', (event) => window.errors.push(describe(event.detail)));
  await player.attach(video);
  player.configure({ manifest: { msf: { fingerprintUri: origin + '/certificate.sha256', namespaces, version } } });
  // Not awaited: load() settles only once the stream has started, and the test watches for that.
  player.load(server, null, 'application/msf').catch((error) => window.errors.push('load: ' + describe(error)));
};
window.sample = () => {
  const video = document.getElementById('video');
  const quality = video.getVideoPlaybackQuality();
  const audio = window.player && window.player.getVariantTracks().find((t) => t.active);
  return {
    currentTime: video.currentTime,
    readyState: video.readyState,
    paused: video.paused,
    frames: quality.totalVideoFrames,
    dropped: quality.droppedVideoFrames,
    width: video.videoWidth,
    height: video.videoHeight,
    audioBuffered: window.player ? window.player.getBufferedInfo().audio.map((r) => [r.start, r.end]) : [],
    videoBuffered: window.player ? window.player.getBufferedInfo().video.map((r) => [r.start, r.end]) : [],
    audioCodec: audio ? audio.audioCodec : null,
    videoCodec: audio ? audio.videoCodec : null,
    errors: window.errors,
  };
};
</script>`;

interface Sample {
  currentTime: number;
  readyState: number;
  paused: boolean;
  frames: number;
  dropped: number;
  width: number;
  height: number;
  audioBuffered: Array<[number, number]>;
  videoBuffered: Array<[number, number]>;
  audioCodec: string | null;
  videoCodec: string | null;
  errors: string[];
}

describe.skipIf(!haveTools('ffmpeg', 'chromium'))('Shaka Player (MSF over MoQT, WebTransport) plays an RTMP broadcast', () => {
  let gateway: GatewayProcess | undefined;
  let push: TestPatternHandle | undefined;
  let browser: TestBrowser | undefined;
  let web: http.Server | undefined;
  let pageUrl = '';

  beforeAll(async () => {
    const shakaJs = await readFile(SHAKA);
    web = http.createServer((request, response) => {
      if (request.url === '/shaka.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(shakaJs);
      else response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    });
    await new Promise<void>((resolve) => web!.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/`;
    gateway = await startGateway();
    push = pushTestPattern({ rtmpUrl: gateway.rtmpUrl(BROADCAST) });
    // Fake camera and microphone for the WHIP case (the publish page), loopback ICE allowed.
    browser = await launchBrowser({ extraArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'] });
  }, 60_000);

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await push?.stop();
      await gateway?.stop();
      web?.close();
    }
  }, 30_000);

  const diagnostics = (samples: Sample[]) =>
    [
      '--- samples ---',
      ...samples.map((s) => JSON.stringify(s)),
      '--- browser console ---',
      browser?.consoleText(60) ?? '',
      '--- gateway log (last 20 lines) ---',
      ...(gateway?.logs().slice(-20) ?? []),
      '--- ffmpeg ---',
      push?.stderr() || `(no errors; exit code ${push?.process.exitCode ?? 'running'})`,
    ].join('\n');

  /** `videoFrames`: whether decoded video must keep up with the clock (see the WHIP case). */
  async function play(annotate: (note: string) => void, version: 'draft-14' | 'draft-16', namespace = ['live', 'shaka'], audioCodec: RegExp = /^mp4a\.40/, videoFrames = true): Promise<Sample[]> {
    const page: Page = await browser!.newPage();
    const samples: Sample[] = [];
    try {
      await page.goto(pageUrl);
      const server = `https://127.0.0.1:${gateway!.httpPort}/`;
      await page.evaluate(([s, o, v, n]) => (window as unknown as { startShaka(...a: unknown[]): Promise<void> }).startShaka(s, o, n, v), [server, gateway!.url, version, namespace] as const);
      const sample = () => page.evaluate(() => (window as unknown as { sample(): Sample }).sample());
      // Playback has started once the clock moves; from then on it must run for 5 s of media.
      const deadline = Date.now() + 30_000;
      const loadedAt = Date.now();
      let first: Sample | undefined;
      let firstAt = 0;
      let last: Sample | undefined;
      while (Date.now() < deadline) {
        last = await sample();
        samples.push(last);
        if (last.errors.length > 0) break;
        if (!first && last.currentTime > 0 && (last.frames > 0 || !videoFrames)) {
          first = last;
          firstAt = Date.now();
        }
        if (first && last.currentTime - first.currentTime > 5.5) break;
        await page.waitForTimeout(500);
      }
      const why = diagnostics(samples);
      expect(last?.errors, why).toEqual([]);
      expect(first, `playback never started\n${why}`).toBeDefined();
      expect(last!.currentTime - first!.currentTime, why).toBeGreaterThan(5);
      if (videoFrames) expect(last!.frames - first!.frames, why).toBeGreaterThan(60);
      if (namespace[1] === 'shaka') expect([last!.width, last!.height], why).toEqual([320, 240]);
      else expect(last!.width, why).toBeGreaterThan(0);
      expect(last!.videoCodec, why).toMatch(/^avc3\./);
      expect(last!.audioCodec, why).toMatch(audioCodec);
      const audioSeconds = last!.audioBuffered.reduce((sum, [start, end]) => sum + (end - start), 0);
      expect(audioSeconds, why).toBeGreaterThan(0.5);
      const bufferedAudioEnd = Math.max(...last!.audioBuffered.map(([, end]) => end));
      expect(bufferedAudioEnd, `audio buffered past the playhead\n${why}`).toBeGreaterThan(last!.currentTime - 1);
      annotate(
        `${version} ${namespace.join('/')}: first frame ${((firstAt - loadedAt) / 1000).toFixed(1)} s after load(); ` +
          `clock +${(last!.currentTime - first!.currentTime).toFixed(2)} s in ${((Date.now() - firstAt) / 1000).toFixed(1)} s; ` +
          `${last!.frames - first!.frames} frames decoded (${last!.dropped} dropped); audio buffered ${audioSeconds.toFixed(2)} s (${last!.audioCodec})`,
      );
      return samples;
    } finally {
      if (SHAKA_DEBUG) await writeFile(`/tmp/shaka-${version}.log`, browser!.consoleLines.join('\n'));
      browser!.consoleLines.length = 0;
      await page.close();
    }
  }

  it('over draft 16', async (ctx) => {
    await play((note) => ctx.annotate(note), 'draft-16');
  }, 60_000);

  it('over draft 14', async (ctx) => {
    await play((note) => ctx.annotate(note), 'draft-14');
  }, 60_000);

  // Shaka decodes only the WHIP video's first frames (26 in 9 s here), not for want of anything
  // the gateway sends: Shaka gives every LOC video frame the catalog's fixed frame duration, while
  // Chromium's WebRTC encoder sends frames 100-300 ms apart in its first seconds, so MSE sees a
  // decode-time gap over twice the frame duration, waits for a random access point and drops
  // the P frames; WHIP key frames are rare. Asserted is what works: both tracks selected (the
  // video needs the measured frame rate in the MSF catalog) and the Opus audio playing.
  it('a WHIP broadcast from Chromium (H.264 + Opus) over draft 16: both tracks, Opus audio plays', async (ctx) => {
    const publisher = await browser!.newPage();
    try {
      await publisher.goto(`${gateway!.url}/publish/live/whip-shaka`);
      await publisher.selectOption('#codec', 'H264');
      await publisher.click('#start');
      await publisher.waitForSelector('#state[data-state="live"]', { timeout: 20_000 });
      await play((note) => ctx.annotate(note), 'draft-16', ['live', 'whip-shaka'], /^opus$/, false);
    } finally {
      await publisher.close();
    }
  }, 90_000);
});
