import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RtmpIngest, type RtmpIngestOptions, type RtmpPublishRequest } from '../../adapters/ingest/rtmp/index.ts';
import type { MediaFrame, MediaSink, TrackInfo } from '../../src/media/frame.ts';
import { buildHvcC } from '../../src/media/h265.ts';
import { fromHex } from '../../src/media/hex.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';

// ---------------------------------------------------------------------------------------------
// Harness: a recording sink, the ingest under test, child processes that are always killed.

class RecordingSink implements MediaSink {
  readonly tracks = new Map<string, TrackInfo>();
  readonly setTrackCount = new Map<string, number>();
  readonly frames = new Map<string, MediaFrame[]>();
  closeReason: string | undefined;
  readonly closed: Promise<string | undefined>;
  private resolveClosed!: (reason: string | undefined) => void;

  constructor(readonly request: RtmpPublishRequest) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  setTrack(name: string, info: TrackInfo): void {
    this.tracks.set(name, info);
    this.setTrackCount.set(name, (this.setTrackCount.get(name) ?? 0) + 1);
  }

  writeFrame(name: string, frame: MediaFrame): void {
    if (!this.tracks.has(name)) throw new Error(`frame for undeclared track ${name}`);
    const list = this.frames.get(name) ?? [];
    list.push(frame);
    this.frames.set(name, list);
  }

  removeTrack(name: string): void {
    this.tracks.delete(name);
  }

  close(reason?: string): void {
    this.closeReason = reason;
    this.resolveClosed(reason);
  }

  framesOf(name: string): MediaFrame[] {
    return this.frames.get(name) ?? [];
  }
}

const children = new Set<ChildProcess>();
const ingests = new Set<RtmpIngest>();
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all([...ingests].map((ingest) => ingest.close()));
  ingests.clear();
});

interface Harness {
  ingest: RtmpIngest;
  port: number;
  tlsPort: number | undefined;
  sinks: RecordingSink[];
  /** Resolves with the sink of the next (or an already opened) publish of `broadcast`. */
  sinkFor(broadcast: string): Promise<RecordingSink>;
}

async function startIngest(options: Partial<RtmpIngestOptions> = {}, refuse?: (request: RtmpPublishRequest) => void): Promise<Harness> {
  const sinks: RecordingSink[] = [];
  const waiters: { broadcast: string; resolve: (sink: RecordingSink) => void }[] = [];
  const ingest = new RtmpIngest({
    host: '127.0.0.1',
    port: 0,
    ...options,
    openPublisher: (request) => {
      refuse?.(request);
      const sink = new RecordingSink(request);
      sinks.push(sink);
      for (const waiter of waiters.filter((w) => w.broadcast === request.broadcast)) waiter.resolve(sink);
      return sink;
    },
  });
  ingests.add(ingest);
  const { port, tlsPort } = await ingest.listen();
  return {
    ingest,
    port,
    tlsPort,
    sinks,
    sinkFor: (broadcast) => {
      const existing = sinks.find((s) => s.request.broadcast === broadcast);
      return existing ? Promise.resolve(existing) : new Promise((resolve) => waiters.push({ broadcast, resolve }));
    },
  };
}

interface Exit {
  code: number | null;
  stderr: string;
}

function run(command: string, args: string[], timeoutMs = 45_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} timed out: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stderr });
    });
  });
}

function has(binary: string, probe: string[] = ['-version']): boolean {
  try {
    execFileSync(binary, probe, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const hasFfmpeg = has('ffmpeg');
const hasGstRtmp = has('gst-inspect-1.0', ['rtmp2sink']) && has('gst-inspect-1.0', ['x264enc']);
const gstAacEncoder = ['voaacenc', 'avenc_aac'].find((e) => hasGstRtmp && has('gst-inspect-1.0', [e]));

function ffmpegPush(url: string, extra: { realtime?: boolean; seconds?: number } = {}): Promise<Exit> {
  return run('ffmpeg', [
    '-hide_banner',
    '-loglevel', 'error',
    ...(extra.realtime ? ['-re'] : []),
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(extra.seconds ?? 3),
    '-c:v', 'libx264', '-profile:v', 'high', '-bf', '2', '-g', '30',
    '-c:a', 'aac',
    '-f', 'flv', url,
  ]);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))]);
}

async function eventually(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function expectMonotonic(frames: MediaFrame[]): void {
  for (let i = 1; i < frames.length; i++) expect(frames[i]!.timestamp).toBeGreaterThanOrEqual(frames[i - 1]!.timestamp);
}

/** Every payload splits into well-formed H.264 NAL units with 4-byte lengths. */
function expectLengthPrefixedH264(frames: MediaFrame[]): void {
  for (const frame of frames) {
    const units = splitLengthPrefixed(frame.payload, 4);
    expect(units.length).toBeGreaterThan(0);
    for (const unit of units) expect(unit[0]! & 0x80).toBe(0); // forbidden_zero_bit
  }
}

/** Checks the 90-frame x264/AAC stream that `ffmpegPush` sends. */
function expectFfmpegStream(sink: RecordingSink): void {
  const video = sink.tracks.get('video');
  const audio = sink.tracks.get('audio');
  expect(video?.kind).toBe('video');
  expect(video?.codec).toMatch(/^avc1\.64/);
  expect(video?.description).toBeInstanceOf(Uint8Array);
  expect(video?.kind === 'video' && [video.codedWidth, video.codedHeight]).toEqual([320, 240]);
  expect(audio).toMatchObject({ kind: 'audio', codec: 'mp4a.40.2', sampleRate: 48000 });

  const frames = sink.framesOf('video');
  expect(frames).toHaveLength(90);
  for (const index of [0, 30, 60]) expect(frames[index]!.keyframe).toBe(true);
  expectMonotonic(frames);
  expect(frames.some((f) => f.compositionOffset > 0)).toBe(true);
  expectLengthPrefixedH264(frames);

  const audioFrames = sink.framesOf('audio');
  expect(Math.abs(audioFrames.length - (3 * 48000) / 1024)).toBeLessThanOrEqual(2);
  expect(audioFrames.every((f) => f.keyframe)).toBe(true);
  expectMonotonic(audioFrames);
}

// ---------------------------------------------------------------------------------------------
// A raw RTMP client, to send what no encoder would.

const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const amfString = (s: string): number[] => [2, (s.length >> 8) & 0xff, s.length & 0xff, ...Buffer.from(s)];
const amfNumber = (n: number): number[] => {
  const b = Buffer.alloc(9);
  b.writeDoubleBE(n, 1);
  return [...b];
};
const amfObject = (fields: Record<string, string>): number[] => [
  3,
  ...Object.entries(fields).flatMap(([k, v]) => [(k.length >> 8) & 0xff, k.length & 0xff, ...Buffer.from(k), ...amfString(v)]),
  0,
  0,
  9,
];

/** A type-0 chunk carrying the whole message (we announce a big chunk size first). */
function message(typeId: number, streamId: number, payload: number[], timestamp = 0): Buffer {
  const csid = typeId === 20 ? 3 : typeId === 1 ? 2 : typeId === 8 ? 4 : 6;
  return Buffer.from([csid, ...u24(timestamp), ...u24(payload.length), typeId, streamId & 0xff, 0, 0, 0, ...payload]);
}

class RawClient {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (data: Buffer) => (this.received = Buffer.concat([this.received, data])));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }

  /** C0+C1, wait for S0+S1+S2, then C2 (simple handshake, RTMP 1.0 5.2). */
  async handshake(): Promise<void> {
    const c1 = Buffer.concat([Buffer.alloc(8), randomBytes(1528)]);
    this.socket.write(Buffer.concat([Buffer.of(3), c1]));
    await this.waitFor(() => this.received.length >= 1 + 1536 * 2, 'S0S1S2');
    this.socket.write(this.received.subarray(1, 1537));
    this.received = this.received.subarray(3073);
  }

  async publish(app: string, stream: string): Promise<void> {
    await this.handshake();
    this.socket.write(message(1, 0, u32(65536)));
    this.socket.write(message(20, 0, [...amfString('connect'), ...amfNumber(1), ...amfObject({ app, tcUrl: `rtmp://127.0.0.1/${app}` })]));
    this.socket.write(message(20, 0, [...amfString('createStream'), ...amfNumber(2), 5]));
    this.socket.write(message(20, 1, [...amfString('publish'), ...amfNumber(3), 5, ...amfString(stream), ...amfString('live')]));
    await this.waitFor(() => this.received.includes('NetStream.Publish.Start'), 'Publish.Start');
  }

  write(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  async waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`raw client: timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves true if the server closed the socket within the time. */
  closedByServer(timeoutMs = 5000): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs))]);
  }
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!hasFfmpeg)('RTMP ingest with ffmpeg', () => {
  it('(a) ingests H.264 High with B-frames + AAC into the frame model', async () => {
    const h = await startIngest();
    const exit = await ffmpegPush(`rtmp://127.0.0.1:${h.port}/live/demo?secret=x`);
    expect(exit.code, exit.stderr).toBe(0);
    const sink = await h.sinkFor('live/demo');
    await withTimeout(sink.closed, 5000, 'sink close');
    expect(h.sinks).toHaveLength(1);
    expect(sink.request.broadcast).toBe('live/demo');
    expect(sink.request.query.get('secret')).toBe('x');
    expect(sink.request.remoteAddress).toBe('127.0.0.1');
    expectFfmpegStream(sink);
    expect(sink.setTrackCount.get('video')).toBe(1);
  });

  it('(c) malformed connections close alone while a good publish delivers every frame', async () => {
    const h = await startIngest();
    const good = ffmpegPush(`rtmp://127.0.0.1:${h.port}/live/good`, { realtime: true });
    const goodSink = await withTimeout(h.sinkFor('live/good'), 20_000, 'good publisher');

    // Bad handshake: not RTMP at all.
    const http = await RawClient.open(h.port);
    http.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(await http.closedByServer()).toBe(true);

    // Truncated chunk, then the client goes away.
    const truncated = await RawClient.open(h.port);
    await truncated.handshake();
    truncated.write([3, ...u24(0), ...u24(1000), 20, 0, 0, 0, 0, 1, 2, 3]);
    truncated.socket.end();
    await truncated.closed;

    // Garbage AMF command.
    const garbage = await RawClient.open(h.port);
    await garbage.handshake();
    garbage.write(message(20, 0, [0xff, 0x13, 0x37, 0x00, 0x42]));
    expect(await garbage.closedByServer()).toBe(true);

    // Oversized message header (16 MiB > the 8 MiB default) from a publishing client: its sink is closed.
    const oversized = await RawClient.open(h.port);
    await oversized.publish('live', 'raw');
    const rawSink = await h.sinkFor('live/raw');
    oversized.write([6, ...u24(0), ...u24(0xffffff), 9, 1, 0, 0, 0]);
    expect(await oversized.closedByServer()).toBe(true);
    expect(await withTimeout(rawSink.closed, 5000, 'raw sink close')).toMatch(/exceeds/);

    // SetChunkSize with the reserved top bit set (RTMP 1.0 §5.4.1: it MUST be 0) from a publishing
    // client: refused with a clear reason, not read as the 4096 the other 31 bits say.
    const reservedBit = await RawClient.open(h.port);
    await reservedBit.publish('live', 'msb');
    const msbSink = await h.sinkFor('live/msb');
    reservedBit.write(message(1, 0, u32(0x80001000)));
    expect(await reservedBit.closedByServer()).toBe(true);
    expect(await withTimeout(msbSink.closed, 5000, 'msb sink close')).toMatch(/SetChunkSize 0x80001000 has the reserved top bit set/);

    const exit = await good;
    expect(exit.code, exit.stderr).toBe(0);
    await withTimeout(goodSink.closed, 5000, 'good sink close');
    expectFfmpegStream(goodSink);

    // Still listening and healthy.
    const after = await RawClient.open(h.port);
    await after.publish('live', 'after');
    after.socket.end();
    await after.closed;
    await eventually(() => h.ingest.sessions === 0, 'all sessions to close');
  });

  it('(d) a second publish to a live name is refused and the first continues', async () => {
    const live = new Set<string>();
    const h = await startIngest({}, (request) => {
      if (live.has(request.broadcast)) throw new Error(`${request.broadcast} is already publishing`);
      live.add(request.broadcast);
    });
    const first = ffmpegPush(`rtmp://127.0.0.1:${h.port}/live/dup`, { realtime: true });
    const firstSink = await withTimeout(h.sinkFor('live/dup'), 20_000, 'first publisher');

    const second = await ffmpegPush(`rtmp://127.0.0.1:${h.port}/live/dup`, { seconds: 1 });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/already publishing/);
    expect(firstSink.closeReason).toBeUndefined();

    const exit = await first;
    expect(exit.code, exit.stderr).toBe(0);
    await withTimeout(firstSink.closed, 5000, 'first sink close');
    expectFfmpegStream(firstSink);
    expect(h.sinks).toHaveLength(1);
  });

  it('refuses empty stream names and RTMP playback', async () => {
    const h = await startIngest();
    const empty = await ffmpegPush(`rtmp://127.0.0.1:${h.port}/live/?k=v`, { seconds: 1 });
    expect(empty.code).not.toBe(0);
    const play = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', `rtmp://127.0.0.1:${h.port}/live/demo`, '-f', 'null', '-']);
    expect(play.code).not.toBe(0);
    expect(h.sinks).toHaveLength(0);
  });

  it.skipIf(!has('openssl', ['version']))('accepts RTMPS on the TLS port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtmps-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      const h = await startIngest({ tls: { port: 0, cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) } });
      expect(h.tlsPort).toBeGreaterThan(0);
      const exit = await ffmpegPush(`rtmps://127.0.0.1:${h.tlsPort}/live/secure`, { seconds: 1 });
      expect(exit.code, exit.stderr).toBe(0);
      const sink = await h.sinkFor('live/secure');
      await withTimeout(sink.closed, 5000, 'sink close');
      expect(sink.framesOf('video')).toHaveLength(30);
      // A client stuck before its TLS handshake must not hold up close().
      const stuck = await RawClient.open(h.tlsPort!);
      await withTimeout(h.ingest.close(), 3000, 'close() with a pending TLS handshake');
      expect(await stuck.closedByServer(3000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasGstRtmp)('RTMP ingest with GStreamer', () => {
  it('(b) ingests x264enc (+ AAC) from rtmp2sink', async () => {
    const h = await startIngest();
    const audio = gstAacEncoder ? ['audiotestsrc', 'num-buffers=86', '!', gstAacEncoder, '!', 'aacparse', '!', 'm.'] : [];
    const exit = await run('gst-launch-1.0', [
      '-q',
      'videotestsrc', 'num-buffers=60', '!', 'video/x-raw,width=320,height=240,framerate=30/1', '!',
      'x264enc', 'key-int-max=30', '!', 'h264parse', '!',
      'flvmux', 'name=m', 'streamable=true', '!', 'rtmp2sink', `location=rtmp://127.0.0.1:${h.port}/live/gst`,
      ...audio,
    ]);
    expect(exit.code, exit.stderr).toBe(0);
    const sink = await h.sinkFor('live/gst');
    await withTimeout(sink.closed, 5000, 'sink close');
    expect(sink.tracks.get('video')).toMatchObject({ kind: 'video', codedWidth: 320, codedHeight: 240 });
    expect(sink.tracks.get('video')?.codec).toMatch(/^avc1\./);
    const video = sink.framesOf('video');
    expect(video).toHaveLength(60);
    expect(video[0]!.keyframe).toBe(true);
    expect(video[30]!.keyframe).toBe(true);
    expectMonotonic(video);
    expectLengthPrefixedH264(video);
    // 30 fps: the last frame's DTS is ~59 frame durations (1967 ms) after the first.
    const spanMs = (video[59]!.timestamp - video[0]!.timestamp) / 1000;
    expect(spanMs).toBeGreaterThanOrEqual(1800);
    expect(spanMs).toBeLessThanOrEqual(2100);
    if (gstAacEncoder) {
      expect(sink.tracks.get('audio')).toMatchObject({ kind: 'audio', codec: 'mp4a.40.2' });
      const audioFrames = sink.framesOf('audio');
      expect(audioFrames.length).toBeGreaterThan(50);
      expectMonotonic(audioFrames);
    }
  });
});

describe('RTMP ingest with a raw client', () => {
  it('sends Acknowledgements on the window the client announces, and answers pings', async () => {
    const h = await startIngest();
    const client = await RawClient.open(h.port);
    await client.publish('live', 'acks');
    client.write(message(5, 0, u32(4096)));
    for (let i = 0; i < 4; i++) client.write(message(9, 1, [0x27, 1, 0, 0, 0, ...new Array<number>(2000).fill(0)], i * 33));
    // Acknowledgement: csid 2, type 3, 4-byte sequence number (RTMP 1.0, 5.4.3).
    const ackHeader = Buffer.from([2, 0, 0, 0, 0, 0, 4, 3, 0, 0, 0, 0]);
    await client.waitFor(() => client.received.includes(ackHeader), 'Acknowledgement');
    const at = client.received.indexOf(ackHeader);
    await client.waitFor(() => client.received.length >= at + 16, 'sequence number');
    expect(client.received.readUInt32BE(at + 12)).toBeGreaterThanOrEqual(4096);
    // User control PingRequest (6) -> PingResponse (7) with the same timestamp.
    client.write(message(4, 0, [0, 6, ...u32(0xdeadbeef)]));
    const pong = Buffer.from([0, 7, ...u32(0xdeadbeef)]);
    await client.waitFor(() => client.received.includes(pong), 'PingResponse');
  });

  it('ingests E-RTMP: hvc1 with SI24 CTS, a multitrack video1, and Opus', async () => {
    const h = await startIngest();
    const client = await RawClient.open(h.port);
    await client.publish('live', 'ertmp');
    const sink = await h.sinkFor('live/ertmp');
    const hvcc = [
      ...buildHvcC(
        [fromHex('40010c01ffff01600000030090000003000003003c959809')],
        [fromHex('42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10')],
        [fromHex('4401c172b46240')],
      ),
    ];
    const fourCc = (s: string): number[] => [...Buffer.from(s)];
    const idr = [0, 0, 0, 3, 0x26, 0x01, 0xaf];
    const trail = [0, 0, 0, 3, 0x02, 0x01, 0xd0];
    const opusHead = [...Buffer.from('OpusHead'), 1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0];
    client.write(message(9, 1, [0x90, ...fourCc('hvc1'), ...hvcc]));
    client.write(message(8, 1, [0x90, ...fourCc('Opus'), ...opusHead]));
    client.write(message(9, 1, [0x91, ...fourCc('hvc1'), ...u24(66), ...idr], 0));
    client.write(message(8, 1, [0x91, ...fourCc('Opus'), 0xfc, 0xff, 0xfe], 10));
    client.write(message(9, 1, [0xa1, ...fourCc('hvc1'), ...u24(0xffffdf), ...trail], 33)); // CTS -33
    client.write(message(9, 1, [0x96, 0x00, ...fourCc('hvc1'), 1, ...hvcc], 33)); // OneTrack, trackId 1
    client.write(message(9, 1, [0x96, 0x03, ...fourCc('hvc1'), 1, ...idr], 40)); // OneTrack, CodedFramesX
    await client.waitFor(() => sink.framesOf('video1').length === 1 && sink.framesOf('video').length === 2, 'frames');
    expect(sink.tracks.get('video')).toMatchObject({ kind: 'video', codec: 'hvc1.1.6.L60.90', codedWidth: 320, codedHeight: 240 });
    expect(sink.tracks.get('video1')).toMatchObject({ kind: 'video', codec: 'hvc1.1.6.L60.90' });
    expect(sink.tracks.get('audio')).toMatchObject({ kind: 'audio', codec: 'opus', sampleRate: 48000, numberOfChannels: 2 });
    expect(sink.framesOf('video').map((f) => [f.timestamp, f.compositionOffset, f.keyframe])).toEqual([
      [0, 66_000, true],
      [33_000, -33_000, false],
    ]);
    expect(sink.framesOf('video1')[0]).toMatchObject({ timestamp: 40_000, compositionOffset: 0, keyframe: true });
    expect(sink.framesOf('audio')).toEqual([{ timestamp: 10_000, compositionOffset: 0, keyframe: true, payload: Uint8Array.from([0xfc, 0xff, 0xfe]) }]);
  });
});

describe('RTMP ingest timeouts', () => {
  it('closes a connection that never completes the handshake, and one that never publishes', async () => {
    const h = await startIngest({ handshakeTimeoutMs: 300, idleTimeoutMs: 10_000 });
    const silent = await RawClient.open(h.port);
    expect(await silent.closedByServer(3000)).toBe(true);
    const lazy = await RawClient.open(h.port);
    await lazy.handshake();
    expect(await lazy.closedByServer(3000)).toBe(true);
    await eventually(() => h.ingest.sessions === 0, 'all sessions to close');
  });

  it('closes an idle publisher and closes its sink with the reason', async () => {
    const h = await startIngest({ idleTimeoutMs: 300 });
    const client = await RawClient.open(h.port);
    await client.publish('live', 'idle');
    const sink = await h.sinkFor('live/idle');
    expect(await client.closedByServer(3000)).toBe(true);
    expect(await withTimeout(sink.closed, 3000, 'sink close')).toMatch(/idle timeout/);
  });

  it('close() ends every session and its sink', async () => {
    const h = await startIngest();
    const client = await RawClient.open(h.port);
    await client.publish('live', 'bye');
    const sink = await h.sinkFor('live/bye');
    client.write(message(9, 1, [0x17, 2, 0, 0, 0]));
    await h.ingest.close();
    expect(await withTimeout(sink.closed, 3000, 'sink close')).toBe('server shutting down');
    expect(await client.closedByServer(3000)).toBe(true);
    await eventually(() => h.ingest.sessions === 0, 'all sessions to close');
  });
});
