/**
 * HLS for a broadcast whose H.264 / H.265 is Annex B with no catalog `description` (parameter
 * sets in-band, the WebCodecs convention @moq/publish follows), from real elementary streams
 * (libx264 / libx265 with `-bsf:v h264_mp4toannexb` / `hevc_mp4toannexb`, one access unit per
 * frame, access unit delimiters stripped as WebCodecs emits none). The fMP4 renditions get an
 * avcC / hvcC built from the in-band parameter sets and length-prefixed samples; a resolution
 * change in the in-band SPS gives a new init segment with a discontinuity, and the MPEG-TS
 * rendition a discontinuity too; the catalog restating the new size later changes nothing. ffprobe and ffmpeg judge the output.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VideoTrackInfo } from '../../src/media/frame.ts';
import { HangBroadcastWriter } from '../../src/media/hang/publisher.ts';
import { splitAnnexB } from '../../src/media/nal.ts';
import { Origin } from '../../src/relay/index.ts';
import { parseMediaPlaylist, type ParsedMediaPlaylist } from '../helpers/hls-playlist-parser.ts';
import { startHlsTestServer, type HlsTestServer } from '../helpers/hls-test-server.ts';
import { haveTools } from '../helpers/tools.ts';
import { fixtureDir, type FixtureDir } from '../unit/media-fixtures.ts';

const FPS = 30;
/** ffmpeg's null output in the input's time base (not the nominal frame rate's). */
const NULL_OUTPUT = ['-enc_time_base:v', '-1', '-f', 'null', '-'];
const FRAME_US = 1_000_000 / FPS;
/** Frames per GOP (one relay group each). */
const GOP = 15;

interface AccessUnit {
  annexB: Uint8Array;
  keyframe: boolean;
}

interface Clip {
  units: AccessUnit[];
  width: number;
  height: number;
}

/**
 * Split an encoder's Annex B output into access units at its access unit delimiters
 * (H.264 7.3.2.4, type 9; H.265 7.3.2.5, type 35) and drop the delimiters.
 */
function accessUnits(stream: Uint8Array, codec: 'h264' | 'h265'): AccessUnit[] {
  const isAud = (at: number) => stream[at] === 0 && stream[at + 1] === 0 && stream[at + 2] === 0 && stream[at + 3] === 1 && (codec === 'h264' ? stream[at + 4] === 0x09 : stream[at + 4] === 0x46 && stream[at + 5] === 0x01);
  const starts: number[] = [];
  for (let i = 0; i + 6 <= stream.length; i++) if (isAud(i)) starts.push(i);
  const audLength = codec === 'h264' ? 6 : 7; // start code + header (+ pic type byte)
  return starts.map((start, k) => {
    const annexB = stream.subarray(start + audLength, starts[k + 1] ?? stream.length);
    const types = splitAnnexB(annexB).map((nalu) => (codec === 'h264' ? nalu[0]! & 0x1f : (nalu[0]! >>> 1) & 0x3f));
    const keyframe = codec === 'h264' ? types.includes(5) : types.some((t) => t >= 16 && t <= 21);
    return { annexB, keyframe };
  });
}

let fx: FixtureDir;
function encode(name: string, codec: 'h264' | 'h265', width: number, height: number, encoderArgs: string[]): Clip {
  const input = ['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${FPS}`, '-t', '2'];
  const args =
    codec === 'h264'
      ? [...input, '-c:v', 'libx264', '-bf', '0', '-x264-params', `keyint=${GOP}:min-keyint=${GOP}:scenecut=0:aud=1`, ...encoderArgs, '-bsf:v', 'h264_mp4toannexb', '-f', 'h264']
      : [...input, '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', `keyint=${GOP}:min-keyint=${GOP}:scenecut=0:bframes=0:aud=1:log-level=error`, ...encoderArgs, '-bsf:v', 'hevc_mp4toannexb', '-f', 'hevc'];
  const units = accessUnits(fx.ffmpeg(args, `${name}.${codec}`), codec);
  // The splitter agrees with ffprobe's packets of the same file.
  const packets = fx.probe(`${name}.${codec}`, 'packet=flags').packets!;
  expect(units.length).toBe(packets.length);
  expect(units.map((u) => u.keyframe)).toEqual(packets.map((p) => String(p.flags).startsWith('K')));
  return { units, width, height };
}

let h264Small: Clip;
let h264Large: Clip;
let h265: Clip;
beforeAll(() => {
  fx = fixtureDir();
  h264Small = encode('small', 'h264', 320, 240, ['-profile:v', 'high']);
  h264Large = encode('large', 'h264', 640, 360, ['-profile:v', 'baseline']);
  h265 = encode('hevc', 'h265', 320, 240, []);
}, 60_000);
afterAll(() => fx?.remove());

let server: HlsTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Run a tool without blocking the event loop (our own HTTP server may answer it). */
function runTool(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function bytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Publish the clips one after the other into one track (timestamps continuing) with a catalog
 * entry that never changes and has no description, while the fMP4 and MPEG-TS renditions are
 * watched from the start; resolves once both playlists have ended.
 */
interface PublishOptions {
  /** A catalog update before this frame. */
  catalogUpdate?: { atFrame: number; info: VideoTrackInfo };
  /**
   * Between the clips, do what @moq/publish does when its encoder is reconfigured: end the
   * video track, publish a catalog without it, then a new track of the same name.
   */
  retrack?: VideoTrackInfo;
}

async function publishAndRecord(info: VideoTrackInfo, clips: Clip[], { catalogUpdate, retrack }: PublishOptions = {}): Promise<{ base: string; frames: number; fmp4: ParsedMediaPlaylist; legacy: string }> {
  const origin = new Origin();
  server = await startHlsTestServer(origin, { segmentWindow: 100 });
  const base = `${server.base}/hls/live/annexb`;
  const writer = new HangBroadcastWriter(origin, 'live/annexb', { protocol: 'annexb-test' });
  let subscribers = 0;
  writer.onKeyframeWanted = () => subscribers++;
  writer.setTrack('video', info);
  // Start both renditions (the fMP4 one, the MPEG-TS one) before the first frame, so they see
  // every group: each subscribes to the video track once.
  expect((await fetch(`${base}/index.m3u8`)).status).toBe(200);
  const legacyStarted = fetch(`${base}/legacy.m3u8`).then((r) => r.status, (error: Error) => error.message);
  const deadline = Date.now() + 10_000;
  while (subscribers < 2 && Date.now() < deadline) await sleep(10);
  expect(subscribers).toBe(2);
  let frames = 0;
  for (const [k, clip] of clips.entries()) {
    if (k > 0 && retrack) {
      writer.removeTrack('video');
      await sleep(20);
      const before = subscribers;
      writer.setTrack('video', retrack);
      // Both renditions subscribe to the new track (woken by the catalog that lists it again).
      const resubscribed = Date.now() + 5000;
      while (subscribers < before + 2 && Date.now() < resubscribed) await sleep(5);
      expect(subscribers - before).toBe(2);
    }
    for (const unit of clip.units) {
      // A start code first (x265 opens delta frames with a 3-byte one).
      expect([...unit.annexB.subarray(0, 3)]).toEqual([0, 0, unit.annexB[2] === 0 ? 0 : 1]);
      if (frames === catalogUpdate?.atFrame) writer.setTrack('video', catalogUpdate.info);
      writer.writeFrame('video', { timestamp: frames * FRAME_US, compositionOffset: 0, keyframe: unit.keyframe, payload: unit.annexB });
      frames++;
      // Four times real time: fast, and the packagers (subscribers like any viewer) keep up.
      await sleep(FRAME_US / 4000);
    }
  }
  writer.close();
  expect(await legacyStarted).toBe(200);
  const end = Date.now() + 20_000;
  for (;;) {
    const fmp4 = parseMediaPlaylist(new TextDecoder().decode(await bytes(`${base}/video/media.m3u8`)));
    const legacy = new TextDecoder().decode(await bytes(`${base}/legacy-media.m3u8`));
    if (fmp4.endList && legacy.includes('#EXT-X-ENDLIST')) return { base, frames, fmp4, legacy };
    if (Date.now() > end) throw new Error(`playlists never ended:\n${legacy}`);
    await sleep(200);
  }
}

interface ProbedFrame {
  width: number;
  height: number;
}

/** ffprobe's decoded frames of a file, and ffmpeg's decode with -xerror (stops at the first error). */
async function decode(file: string, codec: string): Promise<ProbedFrame[]> {
  const probe = await runTool('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name:frame=width,height', '-of', 'json', file]);
  expect(probe.stderr).toBe('');
  const parsed = JSON.parse(probe.stdout) as { streams: { codec_name: string }[]; frames: ProbedFrame[] };
  expect(parsed.streams[0]?.codec_name).toBe(codec);
  const decoded = await runTool('ffmpeg', ['-v', 'error', '-xerror', '-i', file, ...NULL_OUTPUT]);
  expect(decoded.stderr).toBe('');
  expect(decoded.code).toBe(0);
  return parsed.frames;
}

/** Frames per size, in order of appearance: `320x240:60 640x360:60`. */
const sizes = (frames: ProbedFrame[]) => {
  const runs: [string, number][] = [];
  for (const frame of frames) {
    const size = `${frame.width}x${frame.height}`;
    if (runs.at(-1)?.[0] === size) runs.at(-1)![1]++;
    else runs.push([size, 1]);
  }
  return runs.map(([size, n]) => `${size}:${n}`).join(' ');
};

describe.runIf(haveTools('ffmpeg', 'ffprobe'))('HLS from Annex B H.264 / H.265 without a description', () => {
  it('H.264: avcC from the in-band SPS/PPS; a new SPS (320x240 → 640x360) makes a new init segment and a discontinuity', async () => {
    // What @moq/publish's catalog says: the codec string and size of the first encoder config, no description.
    const info: VideoTrackInfo = { kind: 'video', codec: 'avc1.64000d', codedWidth: 320, codedHeight: 240, framerate: FPS };
    // As @moq/publish does after a resize, the catalog then restates the new size (one GOP
    // later here): that is no second change, no second init segment or discontinuity.
    const restated = { atFrame: h264Small.units.length + GOP, info: { ...info, codedWidth: 640, codedHeight: 360 } };
    expect(h264Large.units[GOP]!.keyframe).toBe(true);
    const { base, frames, fmp4, legacy } = await publishAndRecord(info, [h264Small, h264Large], { catalogUpdate: restated });

    // fMP4: two init segments, the second one behind a discontinuity at the resize.
    const maps = [...new Set(fmp4.segments.map((s) => s.map))];
    expect(maps).toHaveLength(2);
    const changeAt = fmp4.segments.findIndex((s) => s.map === maps[1]);
    expect(fmp4.segments[changeAt]!.discontinuity).toBe(true);
    expect(fmp4.segments.filter((s) => s.discontinuity)).toHaveLength(1);
    const runs: string[] = [];
    let total = 0;
    for (const [k, map] of maps.entries()) {
      const segments = fmp4.segments.filter((s) => s.map === map);
      const parts = [await bytes(new URL(map!, `${base}/video/media.m3u8`).href)];
      for (const segment of segments) parts.push(await bytes(new URL(segment.uri!, `${base}/video/media.m3u8`).href));
      const file = join(fx.dir, `fmp4-${k}.mp4`);
      writeFileSync(file, Buffer.concat(parts));
      const decoded = await decode(file, 'h264');
      runs.push(sizes(decoded));
      total += decoded.length;
    }
    expect(runs).toEqual([`320x240:${h264Small.units.length}`, `640x360:${h264Large.units.length}`]);
    expect(total).toBe(frames);
    const master = await (await fetch(`${base}/index.m3u8`)).text();
    // The CODECS attribute follows the avcC written (from the SPS), not the catalog's guess.
    expect(master).toMatch(/CODECS="avc1\.(64000d|42c01e|42001e)/);

    // MPEG-TS: every frame decodes, the resize is behind a discontinuity.
    const segmentUris = legacy.split('\n').filter((line) => line.endsWith('.ts'));
    expect(legacy.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    const ts = join(fx.dir, 'legacy.ts');
    writeFileSync(ts, Buffer.concat(await Promise.all(segmentUris.map((uri) => bytes(`${base}/${uri}`)))));
    expect(sizes(await decode(ts, 'h264'))).toBe(`320x240:${h264Small.units.length} 640x360:${h264Large.units.length}`);
  }, 60_000);

  it('H.264: the publisher ends the track, lists no video for a moment, then a new track at the new size (@moq/publish at a resize): the playlists go on', async () => {
    const info: VideoTrackInfo = { kind: 'video', codec: 'avc1.64000d', codedWidth: 320, codedHeight: 240, framerate: FPS };
    const { base, frames, fmp4, legacy } = await publishAndRecord(info, [h264Small, h264Large], { retrack: { ...info, codedWidth: 640, codedHeight: 360 } });
    const maps = [...new Set(fmp4.segments.map((s) => s.map))];
    expect(maps).toHaveLength(2);
    expect(fmp4.segments.filter((s) => s.discontinuity)).toHaveLength(1);
    let total = 0;
    for (const [k, map] of maps.entries()) {
      const parts = [await bytes(new URL(map!, `${base}/video/media.m3u8`).href)];
      for (const segment of fmp4.segments.filter((s) => s.map === map)) parts.push(await bytes(new URL(segment.uri!, `${base}/video/media.m3u8`).href));
      const file = join(fx.dir, `retrack-${k}.mp4`);
      writeFileSync(file, Buffer.concat(parts));
      const decoded = await decode(file, 'h264');
      expect(sizes(decoded)).toBe(k === 0 ? `320x240:${h264Small.units.length}` : `640x360:${h264Large.units.length}`);
      total += decoded.length;
    }
    expect(total).toBe(frames);
    const segmentUris = legacy.split('\n').filter((line) => line.endsWith('.ts'));
    expect(legacy.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    const ts = join(fx.dir, 'retrack.ts');
    writeFileSync(ts, Buffer.concat(await Promise.all(segmentUris.map((uri) => bytes(`${base}/${uri}`)))));
    expect(sizes(await decode(ts, 'h264'))).toBe(`320x240:${h264Small.units.length} 640x360:${h264Large.units.length}`);
  }, 60_000);

  it('H.265: hvcC from the in-band VPS/SPS/PPS, every frame decodes from fMP4 and MPEG-TS', async () => {
    const info: VideoTrackInfo = { kind: 'video', codec: 'hev1.1.6.L60.90', codedWidth: 320, codedHeight: 240, framerate: FPS };
    const { base, frames, fmp4, legacy } = await publishAndRecord(info, [h265]);
    expect(new Set(fmp4.segments.map((s) => s.map)).size).toBe(1);
    const parts = [await bytes(new URL(fmp4.segments[0]!.map!, `${base}/video/media.m3u8`).href)];
    for (const segment of fmp4.segments) parts.push(await bytes(new URL(segment.uri!, `${base}/video/media.m3u8`).href));
    const file = join(fx.dir, 'hevc.mp4');
    writeFileSync(file, Buffer.concat(parts));
    expect(sizes(await decode(file, 'hevc'))).toBe(`320x240:${frames}`);
    expect(await (await fetch(`${base}/index.m3u8`)).text()).toMatch(/CODECS="hvc1\.1\./);

    const segmentUris = legacy.split('\n').filter((line) => line.endsWith('.ts'));
    const ts = join(fx.dir, 'hevc.ts');
    writeFileSync(ts, Buffer.concat(await Promise.all(segmentUris.map((uri) => bytes(`${base}/${uri}`)))));
    expect(sizes(await decode(ts, 'hevc'))).toBe(`320x240:${frames}`);
  }, 60_000);
});
