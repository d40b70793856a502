/**
 * WHIP from GStreamer's webrtcbin (1.22, Debian), the WebRTC stack of GStreamer-based encoders:
 * test/helpers/webrtcbin-whip.py publishes H.264 + Opus with bundle-policy max-bundle (audio
 * offered as `m=audio 0 … a=bundle-only`, RFC 8843 §6) and balanced. Both tracks must be in the
 * catalog, frame timestamps must advance at the media rate although this GStreamer's sender
 * reports run at twice the rate, and HLS must play (ffprobe decodes video and audio).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { haveRunnable, haveTools } from '../helpers/tools.ts';
import { collectHangFrames as collect, type ReceivedFrame } from '../helpers/collect-hang-frames.ts';
import { parseCatalog } from '../../src/media/hang/catalog.ts';

const CLIENT = fileURLToPath(new URL('../helpers/webrtcbin-whip.py', import.meta.url));
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-gi lives
const MEDIA_SECONDS = 12;
const VIDEO_FRAME_US = 1_000_000 / 30;
const OPUS_FRAME_US = 20_000;

const tools = haveTools('ffprobe') && haveRunnable('GStreamer webrtcbin for Python (python3-gi, gstreamer1.0-nice)', PYTHON, [CLIENT, '--check']);

let gw: Awaited<ReturnType<typeof startGateway>>;
const clients: ChildProcess[] = [];
const connections: Moq.Connection.Established[] = [];

beforeAll(async () => {
  for (const level of ['debug', 'log', 'info', 'warn'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  gw = await startGateway({ reconnectGrace: 0 });
});

/** The client runs in its own process group: every GStreamer thread goes with it. */
function stopClients(): void {
  for (const child of clients.splice(0)) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

afterEach(() => {
  for (const c of connections.splice(0)) c.close();
  stopClients();
});

afterAll(async () => {
  stopClients();
  await gw?.stop();
});

function publish(name: string, bundlePolicy: string): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(PYTHON, [CLIENT, `${gw.httpUrl}/whip/${name}`, '--bundle-policy', bundlePolicy, '--seconds', String(MEDIA_SECONDS)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  clients.push(child);
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** The frames' timestamps span what their count says (a live 30 fps / 20 ms source), ±10 %. */
function expectMediaRate(frames: ReceivedFrame[], frameUs: number, what: string): void {
  expect(frames.length, `${what} frames`).toBeGreaterThan(100);
  for (let i = 1; i < frames.length; i++) expect(frames[i]!.timestamp, `${what} timestamps increase`).toBeGreaterThan(frames[i - 1]!.timestamp);
  const spanUs = frames.at(-1)!.timestamp - frames[0]!.timestamp;
  const mediaUs = (frames.length - 1) * frameUs;
  expect(spanUs / mediaUs, `${what}: ${frames.length} frames span ${(spanUs / 1e6).toFixed(2)} s`).toBeGreaterThan(0.9);
  expect(spanUs / mediaUs, `${what}: ${frames.length} frames span ${(spanUs / 1e6).toFixed(2)} s`).toBeLessThan(1.1);
  // No run of frames squeezed together: each step is a real frame interval, not +1 µs.
  const steps = frames.slice(1).map((f, i) => f.timestamp - frames[i]!.timestamp);
  const median = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]!;
  expect(Math.abs(median - frameUs), `${what} median step ${median} µs`).toBeLessThan(frameUs * 0.2);
}

async function ffprobeFrames(url: string): Promise<{ video: number; audio: number; codecs: string[] }> {
  const { stdout } = await promisify(execFile)(
    'ffprobe',
    ['-v', 'error', '-read_intervals', '%+3', '-show_entries', 'stream=codec_name:frame=media_type', '-of', 'json', url],
    { timeout: 30_000, maxBuffer: 16 << 20 },
  );
  const parsed = JSON.parse(stdout) as { streams: { codec_name: string }[]; frames: { media_type: string }[] };
  return {
    video: parsed.frames.filter((f) => f.media_type === 'video').length,
    audio: parsed.frames.filter((f) => f.media_type === 'audio').length,
    codecs: parsed.streams.map((s) => s.codec_name).sort(),
  };
}

describe.skipIf(!tools)('WHIP from GStreamer webrtcbin', () => {
  for (const policy of ['max-bundle', 'balanced']) {
    it(`bundle-policy=${policy}: audio and video, timestamps at the media rate, HLS plays`, async () => {
      const name = `live/webrtcbin-${policy}`;
      const client = publish(name, policy);
      const failed = client.exited.then((code) => {
        throw new Error(`webrtcbin client exited (${code}) before its tracks were published:\n${client.output()}`);
      });
      const tracksUp = until(() => gw.gateway.origin.get(name)?.getTrack('video') !== undefined && gw.gateway.origin.get(name)?.getTrack('audio') !== undefined, `${name} video and audio`, 20_000);
      await Promise.race([tracksUp, failed]);
      failed.catch(() => undefined);

      const connection = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'connect');
      connections.push(connection);
      const broadcast = connection.consume(name as Moq.Path.Valid);
      const catalogGroup = await within(broadcast.subscribe('catalog.json', 100).nextGroupOrdered(), 'catalog group');
      const catalog = parseCatalog((await within(catalogGroup!.readFrame(), 'catalog frame'))!);
      expect(catalog.get('video')).toMatchObject({ kind: 'video', codec: expect.stringMatching(/^avc1\./) });
      expect(catalog.get('audio')).toMatchObject({ kind: 'audio', codec: 'opus', sampleRate: 48000 });

      // HLS while the media flows: segments complete and ffprobe decodes both tracks.
      const probed = await within(
        (async () => {
          for (;;) {
            const result = await ffprobeFrames(`${gw.httpUrl}/hls/${name}/index.m3u8`).catch(() => undefined);
            if (result && result.video > 0 && result.audio > 0) return result;
            await new Promise((r) => setTimeout(r, 500));
          }
        })(),
        'ffprobe decodes HLS video and audio',
        MEDIA_SECONDS * 1000,
      );
      expect(probed.codecs).toEqual(['h264', 'opus']);

      // 5 s of frames from the current group on.
      const stop = new Promise((r) => setTimeout(r, 5000));
      const [video, audio] = await within(Promise.all([collect(broadcast.subscribe('video', 60), stop), collect(broadcast.subscribe('audio', 80), stop)]), 'frames', 15_000);
      expectMediaRate(video, VIDEO_FRAME_US, 'video');
      expectMediaRate(audio, OPUS_FRAME_US, 'audio');
    }, 60_000);
  }
});
