/**
 * Real encoders over RTMP into the gateway, read back by the published @moq/lite client over
 * WebSocket: catalog, frame counts, GOP-aligned groups, timestamps, valid AVCC.
 *
 * Timestamps on the wire are hang's presentation timestamps (draft-lcurley-moq-hang §legacy),
 * carried in decode order; with B-frames they reorder within a small window, so the checks
 * are: group starts strictly increasing, and the decode timeline (the sorted PTS) evenly spaced
 * with no duplicates or backward jumps beyond the reorder window.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';
import { collectHangFrames as collect, type ReceivedFrame } from '../helpers/collect-hang-frames.ts';
import { parseCatalog } from '../../src/media/hang/catalog.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';
import { h264NalType } from '../../src/media/h264.ts';
const tools = haveTools('ffmpeg', 'gst-launch-1.0');
const path = (value: string) => value as Moq.Path.Valid;

let gw: Awaited<ReturnType<typeof startGateway>>;
const children: ChildProcess[] = [];
const connections: Moq.Connection.Established[] = [];

beforeAll(async () => {
  for (const level of ['debug', 'log', 'info', 'warn'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  gw = await startGateway({ reconnectGrace: 5000 });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const c of connections) c.close();
  await gw?.stop();
});

function run(command: string, args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => {
    if (code !== 0 && code !== null && process.env.TEST_LOG_LEVEL) console.error(stderr);
  });
  return { child, exited };
}

function ffmpegPush(url: string, seconds: number): ReturnType<typeof run> {
  return run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-profile:v', 'high', '-bf', '2', '-g', '30', '-preset', 'veryfast',
    '-c:a', 'aac', '-b:a', '96k', '-f', 'flv', url,
  ]);
}

async function subscribeWhenReady(name: string) {
  await until(() => gw.gateway.origin.get(name)?.getTrack('video') !== undefined && gw.gateway.origin.get(name)?.getTrack('audio') !== undefined, `${name} tracks`, 15_000);
  const connection = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'connect');
  connections.push(connection);
  const broadcast = connection.consume(path(name));
  return { connection, broadcast };
}

const FRAME_INTERVAL_US = 1_000_000 / 30;

function expectValidVideo(frames: ReceivedFrame[]): void {
  const groups = new Map<number, ReceivedFrame[]>();
  for (const f of frames) groups.set(f.group, [...(groups.get(f.group) ?? []), f]);
  // Every group starts with an IDR and every payload is well-formed AVCC.
  for (const [, list] of groups) {
    const types = splitLengthPrefixed(list[0]!.payload).map(h264NalType);
    expect(types).toContain(5);
  }
  for (const f of frames) {
    const nalus = splitLengthPrefixed(f.payload);
    expect(nalus.length).toBeGreaterThan(0);
    for (const nalu of nalus) expect(h264NalType(nalu)).toBeGreaterThan(0);
  }
  // Group starts strictly increase; presentation times advance on the 30 fps grid (33.3 ms). A
  // live encoder on a loaded machine may skip a frame or stamp one late (GStreamer's live
  // sources take the clock): that is in the media, so the grid is judged by the typical step
  // (the median) and every step must move forward, by less than a second (a live source starved
  // of CPU skips frames: a 390 ms step from GStreamer's videotestsrc was seen on a loaded machine).
  const starts = [...groups.values()].map((list) => list[0]!.timestamp);
  for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThan(starts[i - 1]!);
  const sorted = frames.map((f) => f.timestamp).sort((a, b) => a - b);
  const steps = sorted.slice(1).map((t, i) => t - sorted[i]!);
  for (const step of steps) {
    expect(step, 'presentation times are distinct').toBeGreaterThan(FRAME_INTERVAL_US / 2);
    expect(step, `step ${step} µs`).toBeLessThan(1_000_000);
  }
  const median = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]!;
  expect(Math.abs(median - FRAME_INTERVAL_US), `median step ${median} µs is off the frame grid`).toBeLessThan(1_500);
  // In decode order no frame goes back further than the B-frame reorder window (2 frames).
  let maxSeen = 0;
  for (const f of frames) {
    expect(f.timestamp).toBeGreaterThanOrEqual(maxSeen - 3 * 33_334);
    maxSeen = Math.max(maxSeen, f.timestamp);
  }
}

describe.skipIf(!tools)('RTMP in, moq-lite out', () => {
  it('ffmpeg H.264 High with B-frames + AAC: catalog, every frame, GOP groups, valid AVCC', async () => {
    const name = 'live/ffmpeg';
    const push = ffmpegPush(`${gw.rtmpUrl}/live/ffmpeg?token=abc`, 3);
    const { broadcast } = await subscribeWhenReady(name);

    const catalogTrack = broadcast.subscribe('catalog.json', 100);
    const catalogGroup = await within(catalogTrack.nextGroupOrdered(), 'catalog group');
    const catalog = parseCatalog((await within(catalogGroup!.readFrame(), 'catalog frame'))!);
    const video = catalog.get('video');
    const audio = catalog.get('audio');
    expect(video?.kind).toBe('video');
    expect(video?.codec).toMatch(/^avc1\.64/);
    expect(video?.description?.[0]).toBe(1); // avcC configurationVersion
    expect(video).toMatchObject({ codedWidth: 320, codedHeight: 240 });
    expect(audio).toMatchObject({ kind: 'audio', codec: 'mp4a.40.2', sampleRate: 48000 });

    const ended = push.exited.then(() => new Promise((r) => setTimeout(r, 1500)));
    const [videoFrames, audioFrames] = await within(
      Promise.all([collect(broadcast.subscribe('video', 60), ended), collect(broadcast.subscribe('audio', 80), ended)]),
      'frames',
      20_000,
    );
    expect(await push.exited).toBe(0);
    expect(videoFrames).toHaveLength(90);
    expect(new Set(videoFrames.map((f) => f.group)).size).toBe(3);
    expectValidVideo(videoFrames);
    // 3 s of 48 kHz AAC in 1024-sample frames.
    expect(audioFrames.length).toBeGreaterThanOrEqual(139);
    expect(audioFrames.length).toBeLessThanOrEqual(143);
    for (let i = 1; i < audioFrames.length; i++) expect(audioFrames[i]!.timestamp).toBeGreaterThan(audioFrames[i - 1]!.timestamp);
  });

  it('GStreamer rtmp2sink publishes too', async () => {
    const name = 'live/gst';
    // Connected before the encoder starts and subscribed as soon as video exists: a subscriber
    // starts at the latest group, so one that came later than the first GOP (1 s) under load
    // would miss 30 frames of the 90 this test counts.
    const connection = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'connect');
    connections.push(connection);
    const gst = run('gst-launch-1.0', [
      '-q',
      'videotestsrc', 'is-live=true', 'num-buffers=90', '!', 'video/x-raw,width=320,height=240,framerate=30/1', '!',
      'x264enc', 'key-int-max=30', 'tune=zerolatency', 'speed-preset=veryfast', '!', 'h264parse', '!', 'flvmux', 'name=m', 'streamable=true', '!',
      'rtmp2sink', `location=${gw.rtmpUrl}/live/gst`,
      'audiotestsrc', 'is-live=true', 'num-buffers=140', '!', 'audioconvert', '!', 'voaacenc', '!', 'aacparse', '!', 'm.',
    ]);
    await until(() => gw.gateway.origin.get(name)?.getTrack('video') !== undefined, `${name} video track`, 15_000);
    const video = connection.consume(path(name)).subscribe('video', 60);
    const ended = gst.exited.then(() => new Promise((r) => setTimeout(r, 1500)));
    const frames = await within(collect(video, ended), 'gst frames', 20_000);
    expect(frames.length).toBeGreaterThanOrEqual(88);
    expectValidVideo(frames);
  });

  it('an encoder reconnecting within the grace period keeps the same subscriber going', async () => {
    const name = 'live/reconnect';
    const first = ffmpegPush(`${gw.rtmpUrl}/live/reconnect`, 30);
    const { broadcast } = await subscribeWhenReady(name);
    const track = broadcast.subscribe('video', 60);
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const collecting = collect(track, stopped);

    await new Promise((r) => setTimeout(r, 2500));
    first.child.kill('SIGKILL');
    await first.exited;
    await new Promise((r) => setTimeout(r, 1000));
    const second = ffmpegPush(`${gw.rtmpUrl}/live/reconnect`, 3);
    expect(await within(second.exited, 'second push', 20_000)).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    stop();
    const frames = await collecting;

    const groups = [...new Set(frames.map((f) => f.group))];
    // Frames from both encoders reached the one subscription (~2.5 s + 3 s of video).
    expect(frames.length).toBeGreaterThan(120);
    expect(groups.length).toBeGreaterThanOrEqual(5);
    const starts = groups.map((g) => frames.find((f) => f.group === g)!.timestamp);
    for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThan(starts[i - 1]!);
    for (const g of groups) {
      const firstFrame = frames.find((f) => f.group === g)!;
      expect(splitLengthPrefixed(firstFrame.payload).map(h264NalType)).toContain(5);
    }
  });
});
