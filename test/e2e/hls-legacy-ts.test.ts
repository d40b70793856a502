/**
 * The MPEG-TS HLS rendition (`legacy.m3u8`, HLS version 3) for old players, from an RTMP
 * broadcast: playlists without LL-HLS tags, segments that start with PAT/PMT and carry PCR,
 * continuous counters (tsreport) and timestamps across segments (ffprobe), decodable without a
 * message (ffmpeg), played by GStreamer 1.22's legacy `playbin` (hlsdemux) within 5 s on a
 * broadcast that has run for a while, and by hls.js in Chromium. With auth, `?jwt=` reaches
 * every URI.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import { TS_PACKET_SIZE } from '../../src/media/mpegts/packetizer.ts';
import { startGateway, until } from '../helpers/gateway.ts';
import { CHROMIUM_PATH, launchBrowser } from '../helpers/browser.ts';
import { haveTools } from '../helpers/tools.ts';

const run = promisify(execFile);
const SECRET = 'legacy-hls-test-secret-at-least-32-bytes';
const tools = haveTools('ffmpeg', 'ffprobe', 'gst-launch-1.0', 'tsreport') && haveTools(CHROMIUM_PATH);
const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

function push(rtmpUrl: string, seconds: number, size = '320x240'): ReturnType<typeof spawn> {
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
      `testsrc2=size=${size}:rate=30:duration=${seconds}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      'high',
      '-bf',
      '2',
      '-g',
      '30',
      '-c:a',
      'aac',
      '-f',
      'flv',
      rtmpUrl,
    ],
    { stdio: 'ignore', detached: true },
  );
  stops.push(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  });
  return child;
}

const text = async (url: string) => {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return response.text();
};
const segmentUris = (playlist: string) => playlist.split('\n').filter((l) => l.endsWith('.ts') || l.includes('.ts?'));

describe.runIf(tools)('HLS for legacy players: MPEG-TS segments', () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let dir: string;
  let token: string;
  let base: string;

  beforeAll(async () => {
    gw = await startGateway({ authKey: SECRET, authPublicPublish: ['live'] });
    token = await mintToken(await loadSigningKey(SECRET), { root: 'live', get: 'legacy' });
    stops.push(gw.stop);
    dir = mkdtempSync(join(tmpdir(), 'legacy-hls-'));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    push(`${gw.rtmpUrl}/live/legacy`, 90);
    await until(() => gw.gateway.origin.get('live/legacy')?.getTrack('audio') !== undefined, 'broadcast live', 15_000);
    base = `${gw.httpUrl}/hls/live/legacy`;
  }, 30_000);

  it('serves version-3 playlists whose segments are whole transport streams with PAT/PMT first, continuous over 15 s', async () => {
    expect((await fetch(`${base}/legacy.m3u8`)).status).toBe(401);
    const master = await text(`${base}/legacy.m3u8?jwt=${token}`);
    expect(master).toContain('#EXT-X-VERSION:3');
    expect(master).toMatch(/CODECS="avc1\.64[0-9a-f]{4},mp4a\.40\.2",RESOLUTION=320x240/);
    expect(master).toContain(`legacy-media.m3u8?jwt=${token}`);
    // Collect every segment for 15 s, as a player would.
    const fetched = new Map<string, Uint8Array>();
    const deadline = Date.now() + 15_000;
    let playlist = '';
    while (Date.now() < deadline) {
      playlist = await text(`${base}/legacy-media.m3u8?jwt=${token}`);
      for (const uri of segmentUris(playlist)) {
        expect(uri).toContain(`jwt=${token}`);
        if (!fetched.has(uri)) fetched.set(uri, new Uint8Array(await (await fetch(`${base}/${uri}`)).arrayBuffer()));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(playlist).toContain('#EXT-X-TARGETDURATION:');
    expect(playlist).toContain('#EXT-X-PROGRAM-DATE-TIME:');
    expect(playlist).not.toMatch(/EXT-X-PART|EXT-X-MAP|PRELOAD-HINT|SERVER-CONTROL/);
    expect(fetched.size).toBeGreaterThanOrEqual(10);
    const msns = [...fetched.keys()].map((uri) => Number(/-(\d+)\.ts/.exec(uri)![1]));
    for (let i = 1; i < msns.length; i++) expect(msns[i]).toBe(msns[i - 1]! + 1);

    for (const segment of fetched.values()) {
      expect(segment.length % TS_PACKET_SIZE).toBe(0);
      const pid = (at: number) => ((segment[at + 1]! & 0x1f) << 8) | segment[at + 2]!;
      expect([pid(0), pid(TS_PACKET_SIZE)]).toEqual([0, 0x1000]); // PAT, then PMT
      // The first video packet starts a keyframe: random_access_indicator and a PCR.
      const video = [...Array(segment.length / TS_PACKET_SIZE).keys()].map((i) => i * TS_PACKET_SIZE).find((at) => pid(at) === 0x100)!;
      expect(segment[video + 3]! & 0x20).toBe(0x20);
      expect(segment[video + 5]! & 0x50).toBe(0x50);
    }
    const file = join(dir, 'all.ts');
    writeFileSync(file, Buffer.concat([...fetched.values()]));
    // tsreport (tstools): the continuity counters of video and audio never jump, across segments.
    for (const pid of [0x100, 0x101]) {
      await run('tsreport', ['-cnt', String(pid), file], { cwd: dir, timeout: 30_000 });
      const counters = readFileSync(join(dir, 'continuity_counter.txt'), 'utf8').trim().split(/\s+/).map(Number);
      expect(counters.length).toBeGreaterThan(100);
      for (let i = 1; i < counters.length; i++) expect(counters[i], `PID ${pid} packet ${i}`).toBe((counters[i - 1]! + 1) % 16);
    }
    // Timestamps continue from segment to segment: no gap over one frame in either stream.
    const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,dts', '-of', 'json', file], {
      timeout: 30_000,
      maxBuffer: 64 << 20,
    });
    const byStream = new Map<number, number[]>();
    for (const p of (JSON.parse(probe.stdout) as { packets: { stream_index: number; dts: number }[] }).packets) {
      byStream.set(p.stream_index, [...(byStream.get(p.stream_index) ?? []), p.dts]);
    }
    expect(byStream.size).toBe(2);
    for (const [stream, dts] of byStream) {
      for (let i = 1; i < dts.length; i++) {
        expect(dts[i]! - dts[i - 1]!, `stream ${stream} at ${i}`).toBeGreaterThan(0);
        expect(dts[i]! - dts[i - 1]!, `stream ${stream} at ${i}`).toBeLessThan(4000); // 90 kHz: < 45 ms
      }
    }
    expect((await run('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name', '-of', 'csv=p=0', file])).stdout.trim()).toBe('mpegts');
    const decode = await run('ffmpeg', ['-v', 'warning', '-nostdin', '-i', file, '-f', 'null', '-'], { timeout: 60_000 });
    expect(decode.stderr).toBe('');
  }, 60_000);

  it('an encoder that reconnects with another resolution starts a discontinuity with the new stream', async () => {
    const first = push(`${gw.rtmpUrl}/live/switch`, 30);
    await until(() => gw.gateway.origin.get('live/switch')?.getTrack('video') !== undefined, 'first encoder live', 15_000);
    const url = `${gw.httpUrl}/hls/live/switch/legacy-media.m3u8?jwt=${await mintToken(await loadSigningKey(SECRET), { root: 'live', get: 'switch' })}`;
    await text(url); // starts the rendition
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // The encoder drops (a clean unpublish would end the broadcast) and is back within the
    // reconnect grace: the same broadcast, new parameters.
    process.kill(-first.pid!, 'SIGKILL');
    push(`${gw.rtmpUrl}/live/switch`, 10, '640x360');
    let playlist = '';
    await until(
      async () => {
        playlist = await text(url);
        const after = playlist.split('#EXT-X-DISCONTINUITY\n')[1];
        return after !== undefined && segmentUris(after).length >= 2;
      },
      'a discontinuity followed by two segments',
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${playlist}`);
    });
    const [before, after] = playlist.split('#EXT-X-DISCONTINUITY\n') as [string, string];
    const size = async (uri: string) => {
      const file = join(dir, `switch-${uri.split('?')[0]}`);
      writeFileSync(file, new Uint8Array(await (await fetch(`${gw.httpUrl}/hls/live/switch/${uri}`)).arrayBuffer()));
      return (await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file])).stdout
        .trim()
        .split('\n')[0];
    };
    expect(await size(segmentUris(before).at(-1)!)).toBe('320,240');
    expect(await size(segmentUris(after)[1]!)).toBe('640,360');
  }, 60_000);

  it("GStreamer 1.22's legacy playbin (hlsdemux) shows video and plays audio within 5 s", async () => {
    // The broadcast has been live (and its HLS watched) for over 20 s by now: the start must
    // not wait for the session's age, as legacy hlsdemux does with fMP4.
    const started = Date.now();
    const child = spawn(
      'gst-launch-1.0',
      [
        '-v',
        'playbin',
        `uri=${base}/legacy.m3u8?jwt=${token}`,
        'video-sink=fakesink name=vsink sync=true silent=false',
        'audio-sink=fakesink name=asink sync=true silent=false',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    stops.push(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    });
    const firsts: { video?: number; audio?: number } = {};
    child.stdout.setEncoding('utf8');
    let tail = '';
    child.stdout.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-2000);
      if (firsts.video === undefined && /vsink: last-message = chain/.test(chunk)) firsts.video = Date.now() - started;
      if (firsts.audio === undefined && /asink: last-message = chain/.test(chunk)) firsts.audio = Date.now() - started;
    });
    await until(() => firsts.video !== undefined && firsts.audio !== undefined, `playbin rendering (output: ${tail})`, 15_000).catch((error: Error) => {
      throw new Error(`${error.message}; ${tail}`);
    });
    process.kill(-child.pid!, 'SIGKILL');
    console.log(`[legacy-hls] playbin first video ${firsts.video} ms, first audio ${firsts.audio} ms`);
    expect(firsts.video!).toBeLessThan(5000);
    expect(firsts.audio!).toBeLessThan(5000);
  }, 30_000);

  it('hls.js in Chromium plays it with audio', async () => {
    const browser = await launchBrowser({ origin: gw.httpUrl });
    stops.push(() => browser.close());
    const page = await browser.newPage();
    const hlsJs = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
    const html = `<!doctype html><video id="v" muted autoplay></video><script src="/hls.min.js"></script><script>
      window.__errors = []; const hls = new Hls(); hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal || d.type === 'mediaError') window.__errors.push(d.details); });
      hls.loadSource(${JSON.stringify(`${base}/legacy.m3u8?jwt=${token}`)}); hls.attachMedia(document.getElementById('v')); document.getElementById('v').play().catch(() => {});</script>`;
    await page.route(`${gw.httpUrl}/play.html`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
    await page.route(`${gw.httpUrl}/hls.min.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: hlsJs }));
    await page.goto(`${gw.httpUrl}/play.html`);
    const read = () =>
      page.evaluate(() => {
        const v = document.getElementById('v') as HTMLVideoElement & { webkitAudioDecodedByteCount: number; webkitDecodedFrameCount: number };
        return {
          t: v.currentTime,
          audio: v.webkitAudioDecodedByteCount,
          frames: v.webkitDecodedFrameCount,
          errors: (window as unknown as { __errors: string[] }).__errors,
        };
      });
    await page.waitForFunction(() => (document.getElementById('v') as HTMLVideoElement).currentTime > 0, undefined, { timeout: 20_000 });
    const before = await read();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await read();
    expect(after.errors).toEqual([]);
    expect(after.t - before.t).toBeGreaterThan(2);
    expect(after.frames).toBeGreaterThan(before.frames);
    expect(after.audio).toBeGreaterThan(before.audio);
  }, 40_000);
});
