/**
 * Bench publishers, each stamping every frame with its send time (lib/stamp.ts):
 * - RTMP: the cached H.264 source looped in real time, an SEI user-data NAL first in every frame;
 * - moq-lite: @moq/lite over WebSocket, synthetic frames (stamp + filler) in one group per GOP.
 */
import { WebSocket } from 'ws';
import { RtmpPublisher } from './rtmp.ts';
import { toAvcc, type H264Source } from './media.ts';
import { now, stampBytes, stampSei } from './stamp.ts';

/** Calls `tick(i)` at `fps` from now on, drift-corrected, until stop(). */
export function pace(fps: number, tick: (i: number) => void): { stop(): void } {
  const interval = 1000 / fps;
  const start = performance.now();
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = () => {
    if (stopped) return;
    const now = performance.now();
    // Catch up at most a few frames after a stall (a real encoder would not burst more).
    let burst = 0;
    while (start + i * interval <= now + 0.5 && burst < 3) {
      tick(i++);
      burst++;
    }
    if (start + i * interval <= now) i = Math.ceil((now - start) / interval);
    timer = setTimeout(loop, Math.max(0, start + i * interval - performance.now()));
  };
  loop();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export interface RunningPublisher {
  framesSent: number;
  bytesSent: number;
  /** Frames skipped because the connection was backed up. */
  framesSkipped: number;
  stop(): Promise<void>;
  closed: Promise<void>;
}

/** Publishes the H.264 source over RTMP in real time, looping; every frame carries a stamp SEI. */
export async function startRtmpPublisher(url: string, source: H264Source, opts: { fps?: number; onSent?: (sequence: number, at: number) => void } = {}): Promise<RunningPublisher> {
  const fps = opts.fps ?? source.fps;
  const pub = await RtmpPublisher.connect(url);
  pub.metadata({ width: source.width, height: source.height, framerate: fps, videocodecid: 7, videodatarate: source.bitrateKbps, encoder: 'moq-gateway bench' });
  pub.avcConfig(source.avcC);
  const state: RunningPublisher = {
    framesSent: 0,
    bytesSent: 0,
    framesSkipped: 0,
    closed: pub.closed,
    stop: async () => {
      ticker.stop();
      pub.close();
      await Promise.race([pub.closed, new Promise((r) => setTimeout(r, 1000))]);
    },
  };
  let waitingForKey = false;
  const frameMs = 1000 / fps;
  const ticker = pace(fps, (i) => {
    const unit = source.units[i % source.units.length]!;
    // A congested socket (> 2 s of media queued): skip to the next keyframe, like an encoder would.
    if (pub.writableLength > (source.bitrateKbps * 1000 * 2) / 8) waitingForKey = true;
    if (waitingForKey && !unit.keyframe) {
      state.framesSkipped++;
      return;
    }
    waitingForKey = false;
    const at = now();
    const avcc = toAvcc([stampSei(i, at), ...unit.nalus]);
    pub.avcFrame(Math.round(i * frameMs), unit.keyframe, avcc);
    opts.onSent?.(i, at);
    state.framesSent++;
    state.bytesSent += avcc.length;
  });
  return state;
}

export interface LitePublisherOptions {
  fps?: number;
  /** Frames per group (GOP). */
  gop?: number;
  /** Payload size of a keyframe / other frames (defaults give ~2.5 Mbps at 30 fps). */
  keyframeBytes?: number;
  frameBytes?: number;
  track?: string;
  onSent?: (sequence: number, at: number) => void;
  /** Accept subscriptions but never write a frame (idle-subscriber memory). */
  silent?: boolean;
}

/** A @moq/lite publisher over WebSocket with synthetic stamped frames. */
export async function startLitePublisher(url: string, broadcast: string, opts: LitePublisherOptions = {}): Promise<RunningPublisher & { requested: Promise<void> }> {
  const Moq = await import('@moq/lite');
  const fps = opts.fps ?? 30;
  const gop = opts.gop ?? fps;
  const keyframeBytes = opts.keyframeBytes ?? 60_000;
  const frameBytes = opts.frameBytes ?? 8_700;
  const trackName = opts.track ?? 'video';
  const connection = await withTimeoutRace(Moq.Connection.connect(new URL(url)), 10_000, '@moq/lite connect');
  const bc = new Moq.Broadcast();
  connection.publish(Moq.Path.from(broadcast), bc);
  const filler = (n: number) => Buffer.alloc(n, 0x5a);
  const key = filler(keyframeBytes);
  const delta = filler(frameBytes);
  const tracks: Array<{ track: InstanceType<typeof Moq.Track>; group: InstanceType<typeof Moq.Group> | undefined }> = [];
  let resolveRequested!: () => void;
  const requested = new Promise<void>((r) => (resolveRequested = r));
  void (async () => {
    for (;;) {
      const request = await bc.requested();
      if (!request) return;
      if (request.track.name !== trackName) {
        request.track.close(new Error('no such track'));
        continue;
      }
      tracks.push({ track: request.track, group: undefined });
      resolveRequested();
    }
  })();
  const state = {
    framesSent: 0,
    bytesSent: 0,
    framesSkipped: 0,
    requested,
    closed: connection.closed.then(() => undefined),
    stop: async () => {
      ticker.stop();
      for (const t of tracks) {
        t.group?.close();
        t.track.close();
      }
      bc.close();
      connection.close();
    },
  };
  const ticker = pace(opts.silent ? 1 : fps, (i) => {
    if (opts.silent) return;
    const keyframe = i % gop === 0;
    const body = keyframe ? key : delta;
    // The relay cancels a track when its last viewer leaves: forget closed tracks.
    for (let k = tracks.length - 1; k >= 0; k--) if (tracks[k]!.track.state.closed.peek()) tracks.splice(k, 1);
    const at = now();
    const frame = Buffer.concat([stampBytes(i, at), body]);
    for (const t of tracks) {
      try {
        if (keyframe || !t.group) {
          t.group?.close();
          t.group = t.track.appendGroup();
        }
        t.group.writeFrame(frame);
      } catch {
        t.group = undefined; // closed under us; a new group at the next frame
      }
    }
    if (tracks.length) opts.onSent?.(i, at);
    if (tracks.length) {
      state.framesSent++;
      state.bytesSent += frame.length;
    }
  });
  return state;
}

function withTimeoutRace<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The same stamped access units as startRtmpPublisher, one WebSocket message each, to the
 * bare-ws baseline: same media, same pacing, no RTMP.
 */
export async function startWsFramePublisher(url: string, source: H264Source, opts: { fps?: number; onSent?: (sequence: number, at: number) => void } = {}): Promise<RunningPublisher> {
  const fps = opts.fps ?? source.fps;
  const socket = new WebSocket(url, { perMessageDeflate: false });
  await withTimeoutRace(new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  }), 10_000, 'bare-ws publisher connect');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const state: RunningPublisher = {
    framesSent: 0,
    bytesSent: 0,
    framesSkipped: 0,
    closed,
    stop: async () => {
      ticker.stop();
      socket.close();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
    },
  };
  const ticker = pace(fps, (i) => {
    const unit = source.units[i % source.units.length]!;
    const at = now();
    const avcc = toAvcc([stampSei(i, at), ...unit.nalus]);
    socket.send(avcc, { binary: true });
    opts.onSent?.(i, at);
    state.framesSent++;
    state.bytesSent += avcc.length;
  });
  return state;
}
