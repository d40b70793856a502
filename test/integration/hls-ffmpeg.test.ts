import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Origin } from '../../src/relay/index.ts';
import { publishWithFfmpeg, type FfmpegPublisher, type FfmpegPublishOptions } from '../helpers/ffmpeg-to-relay.ts';
import { startHlsTestServer, type HlsTestServer } from '../helpers/hls-test-server.ts';
import { parseMediaPlaylist } from '../helpers/hls-playlist-parser.ts';
import { haveTools } from '../helpers/tools.ts';

interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a tool without blocking the event loop (our own HTTP server answers it), bounded in time. */
function runTool(command: string, args: string[], timeoutMs = 30_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let server: HlsTestServer | undefined;
let publisher: FfmpegPublisher | undefined;

afterEach(async () => {
  publisher?.stop();
  await publisher?.done.catch(() => {});
  await server?.close();
  server = undefined;
  publisher = undefined;
});

/**
 * Publish with ffmpeg, watch over HLS from the first second (so packaging starts at the first
 * GOP) until the broadcast ends, and return the base URL of the ended, complete playlists.
 */
async function recordBroadcast(options: FfmpegPublishOptions): Promise<{ base: string; publisher: FfmpegPublisher }> {
  const origin = new Origin();
  publisher = publishWithFfmpeg(origin, 'live/ff', options);
  server = await startHlsTestServer(origin, { segmentWindow: 100 });
  const base = `${server.base}/hls/live/ff`;
  const deadline = Date.now() + (options.seconds + 15) * 1000;
  while (!origin.get('live/ff')) {
    if (Date.now() > deadline) throw new Error('broadcast never appeared');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect((await fetch(`${base}/index.m3u8`)).status).toBe(200);
  const tracks = [...(options.video === false ? [] : ['video']), ...(options.audio === false ? [] : ['audio'])];
  for (;;) {
    const ended = await Promise.all(tracks.map(async (t) => parseMediaPlaylist(await (await fetch(`${base}/${t}/media.m3u8`)).text()).endList));
    if (ended.every(Boolean)) break;
    if (Date.now() > deadline) throw new Error('playlists never ended');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await publisher.done;
  return { base, publisher };
}

describe.runIf(haveTools('ffmpeg', 'ffprobe'))('HLS read by ffmpeg/ffprobe', () => {
  it('H.264 (B-frames) + AAC: right durations, every frame, no decode errors, presentation order kept', async () => {
    const seconds = 8;
    const { base, publisher } = await recordBroadcast({ seconds, audio: 'aac', video: { bframes: 2, gop: 30 } });
    const published = publisher.samples.filter((s) => s.track === 'video');
    // The source really reorders: some frame shows before one decoded earlier.
    let reordered = 0;
    for (let i = 1, max = published[0]!.ptsUs; i < published.length; max = Math.max(max, published[i]!.ptsUs), i++) {
      if (published[i]!.ptsUs < max) reordered++;
    }
    expect(reordered).toBeGreaterThan(50);

    const probe = await runTool('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames,duration:format=duration', '-of', 'json', `${base}/index.m3u8`]);
    expect(probe.code).toBe(0);
    expect(probe.stderr).toBe('');
    const info = JSON.parse(probe.stdout) as { streams: { codec_name: string; nb_read_frames: string }[]; format: { duration: string } };
    const video = info.streams.find((s) => s.codec_name === 'h264')!;
    const audio = info.streams.find((s) => s.codec_name === 'aac')!;
    expect(video).toBeDefined();
    expect(audio).toBeDefined();
    // Packaging started in the first GOP: every published video frame comes out, decoded.
    expect(Number(video.nb_read_frames)).toBe(published.length);
    const audioPublished = publisher.samples.filter((s) => s.track === 'audio').length;
    // Audio before the first video keyframe (a few frames) is left out on purpose.
    expect(Number(audio.nb_read_frames)).toBeGreaterThan(audioPublished - 8);
    expect(Number(audio.nb_read_frames)).toBeLessThanOrEqual(audioPublished);
    expect(Number(info.format.duration)).toBeGreaterThan(seconds - 0.2);
    expect(Number(info.format.duration)).toBeLessThan(seconds + 0.2);

    // Playlist durations add up to the media.
    const videoPlaylist = parseMediaPlaylist(await (await fetch(`${base}/video/media.m3u8`)).text());
    const audioPlaylist = parseMediaPlaylist(await (await fetch(`${base}/audio/media.m3u8`)).text());
    const total = (p: typeof videoPlaylist) => p.segments.reduce((sum, s) => sum + (s.duration ?? 0), 0);
    expect(total(videoPlaylist)).toBeCloseTo(published.length / 30, 1);
    expect(Math.abs(total(audioPlaylist) - total(videoPlaylist))).toBeLessThan(0.1);

    // Full decode of both streams: no errors or warnings at all.
    const decode = await runTool('ffmpeg', ['-v', 'warning', '-nostdin', '-i', `${base}/index.m3u8`, '-map', '0', '-f', 'null', '-']);
    expect(decode.code).toBe(0);
    expect(decode.stderr).toBe('');

    // Presentation order: decoded frames come out with increasing PTS, and their spacing is
    // the source's presentation spacing (DTS was rebuilt, PTS kept).
    const frames = await runTool('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts', '-of', 'csv=p=0', `${base}/video/media.m3u8`]);
    // (the first frame's side data adds a line of its own: keep the numeric first fields)
    const pts = frames.stdout.split('\n').map((line) => line.split(',')[0]!).filter((v) => /^\d+$/.test(v)).map(Number);
    expect(pts).toHaveLength(published.length);
    for (let i = 1; i < pts.length; i++) expect(pts[i]!).toBeGreaterThan(pts[i - 1]!);
    const sourcePts = published.map((s) => s.ptsUs).sort((a, b) => a - b);
    const offsets = pts.map((p) => ((p - pts[0]!) / 90_000) * 1e6);
    const sourceOffsets = sourcePts.map((p) => p - sourcePts[0]!);
    for (let i = 0; i < offsets.length; i++) expect(Math.abs(offsets[i]! - sourceOffsets[i]!)).toBeLessThan(20);
  }, 60_000);

  // Codec records of less common profiles reach the init segment intact (avcC's chroma and
  // bit-depth extension; hvcC's Main 10 profile), and the output decodes.
  for (const source of [
    { name: 'H.264 High 4:4:4', video: { codec: 'h264', profile: 'high444', pixelFormat: 'yuv444p' }, codec: 'h264', profile: 'High 4:4:4 Predictive', pixFmt: 'yuv444p' },
    { name: 'H.264 High 10', video: { codec: 'h264', profile: 'high10', pixelFormat: 'yuv420p10le' }, codec: 'h264', profile: 'High 10', pixFmt: 'yuv420p10le' },
    { name: 'H.265 Main 10', video: { codec: 'h265', profile: 'main10', pixelFormat: 'yuv420p10le' }, codec: 'hevc', profile: 'Main 10', pixFmt: 'yuv420p10le' },
  ] as const) {
    it(`${source.name}: the init segment describes it and every frame decodes`, async () => {
      const { base, publisher } = await recordBroadcast({ seconds: 3, audio: false, video: { bframes: 2, gop: 30, ...source.video } });
      const probe = await runTool('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,profile,pix_fmt,width,height,nb_read_frames', '-of', 'json', `${base}/video/media.m3u8`]);
      expect(probe.stderr).toBe('');
      const stream = (JSON.parse(probe.stdout) as { streams: Record<string, unknown>[] }).streams[0]!;
      expect(stream).toMatchObject({ codec_name: source.codec, profile: source.profile, pix_fmt: source.pixFmt, width: 320, height: 240 });
      expect(Number(stream.nb_read_frames)).toBe(publisher.samples.length);
      const decode = await runTool('ffmpeg', ['-v', 'warning', '-nostdin', '-i', `${base}/index.m3u8`, '-map', '0', '-f', 'null', '-']);
      expect(decode.stderr).toBe('');
    }, 60_000);
  }

  it('audio-only broadcast: the audio playlist is a variant of its own, cut by time', async () => {
    const { base } = await recordBroadcast({ seconds: 3, audio: 'aac', video: false });
    const master = await (await fetch(`${base}/index.m3u8`)).text();
    expect(master).toContain('#EXT-X-STREAM-INF:BANDWIDTH=');
    expect(master).toContain('CODECS="mp4a.40.2"\naudio/media.m3u8');
    expect(master).not.toContain('EXT-X-MEDIA');
    const playlist = parseMediaPlaylist(await (await fetch(`${base}/audio/media.m3u8`)).text());
    expect(playlist.endList).toBe(true);
    for (const s of playlist.segments) expect(Math.round(s.duration!)).toBeLessThanOrEqual(playlist.targetDuration);
    const decode = await runTool('ffmpeg', ['-v', 'warning', '-nostdin', '-i', `${base}/index.m3u8`, '-map', '0', '-f', 'null', '-']);
    expect(decode.code).toBe(0);
    expect(decode.stderr).toBe('');
  }, 60_000);

  it('Opus audio is delivered in fMP4 (dOps) and decodes', async () => {
    const { base } = await recordBroadcast({ seconds: 4, audio: 'opus', video: { bframes: 0 } });
    const master = await (await fetch(`${base}/index.m3u8`)).text();
    expect(master).toContain('CODECS="avc1.64000d,opus"');
    const probe = await runTool('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames,sample_rate,channels', '-of', 'json', `${base}/audio/media.m3u8`]);
    expect(probe.code).toBe(0);
    const stream = (JSON.parse(probe.stdout) as { streams: { codec_name: string; nb_read_frames: string; sample_rate: string; channels: number }[] }).streams[0]!;
    expect(stream).toMatchObject({ codec_name: 'opus', sample_rate: '48000', channels: 2 });
    expect(Number(stream.nb_read_frames)).toBeGreaterThan(150); // 20 ms packets over ~4 s
    const decode = await runTool('ffmpeg', ['-v', 'warning', '-nostdin', '-i', `${base}/index.m3u8`, '-map', '0', '-f', 'null', '-']);
    expect(decode.code).toBe(0);
    expect(decode.stderr).toBe('');
  }, 60_000);
});
