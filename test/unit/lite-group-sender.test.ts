/**
 * The push GroupSender against a fake PushSendStream: byte-exact stream contents, one write per
 * frame (the relay's shared bytes, by reference), no frame lost across a pause, whole groups
 * reset when the session's budget overflows, and the client's STOP_SENDING ending one group.
 */
import { describe, expect, it } from 'vitest';
import { emptyCounters, type SessionContext } from '../../src/moq/lite/context.ts';
import { frameOnWire } from '../../src/moq/lite/group.ts';
import { GroupSender } from '../../src/moq/lite/group-sender.ts';
import { SILENT_LOGGER } from '../../src/moq/lite/options.ts';
import { SendBudget } from '../../src/moq/send-budget.ts';
import { Group, RelayError, RelayErrorCode } from '../../src/relay/index.ts';
import type { PushSendStream } from '../../src/transport/push-stream.ts';
import { WritablePushStream } from '../../src/transport/writable-push-stream.ts';

/** Holds every write until the test lets the "network" take bytes. */
class FakePushStream implements PushSendStream {
  readonly writes: Uint8Array[] = [];
  queuedBytes = 0;
  finished = false;
  resetCode: number | undefined;
  stopped = false;
  onProgress: (() => void) | undefined;
  onStopped: ((code: number | undefined) => void) | undefined;
  constructor(public sendOrder: number) {}
  get ended(): boolean {
    return this.finished || this.resetCode !== undefined || this.stopped;
  }
  write(bytes: Uint8Array): void {
    if (this.ended) throw new Error('write after end');
    this.writes.push(bytes);
    this.queuedBytes += bytes.byteLength;
  }
  finish(): void {
    this.finished = true;
  }
  reset(code: number): void {
    this.resetCode = code;
    this.queuedBytes = 0;
  }
  /** The network took `bytes` (all by default). */
  drain(bytes = this.queuedBytes): void {
    this.queuedBytes -= bytes;
    this.onProgress?.();
  }
  stop(code: number): void {
    this.stopped = true;
    this.queuedBytes = 0;
    this.onStopped?.(code);
  }
  contents(): number[] {
    return this.writes.flatMap((bytes) => [...bytes]);
  }
}

function setup(limitBytes = 1 << 20) {
  const streams: FakePushStream[] = [];
  const latencies: number[] = [];
  const transport = {
    openPushStream: async (sendOrder: number) => {
      const stream = new FakePushStream(sendOrder);
      streams.push(stream);
      return stream;
    },
  };
  const ctx = {
    transport,
    budget: new SendBudget(limitBytes),
    counters: emptyCounters(),
    logger: SILENT_LOGGER,
    observeLatency: (ms: number) => latencies.push(ms),
  } as unknown as SessionContext;
  return { ctx, streams, latencies };
}

const frame = (size: number, fill: number) => new Uint8Array(size).fill(fill);
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('GroupSender (push)', () => {
  it('writes the header, the cached frames, then each new frame in the turn it arrives, then FIN', async () => {
    const { ctx, streams, latencies } = setup();
    const group = new Group(9);
    const cached = [frame(3, 1), frame(200, 2)];
    for (const f of cached) group.writeFrame(f);
    const sender = new GroupSender(ctx, 7, group, 42);
    const running = sender.run();
    await turn();
    const stream = streams[0]!;
    expect(stream.sendOrder).toBe(42);
    expect(stream.writes).toHaveLength(3);
    const late = frame(5, 3);
    group.writeFrame(late);
    expect(stream.writes).toHaveLength(4); // synchronously, from the relay's writeFrame
    group.close();
    expect(stream.finished).toBe(true);
    // Stream type 0, GROUP message (length 2: subscribe id 7, sequence 9), then size + payload per frame.
    expect(stream.contents()).toEqual([0, 2, 7, 9, 3, 1, 1, 1, 0x40, 200, ...cached[1]!, 5, 3, 3, 3, 3, 3]);
    // Each frame is the relay's one shared copy, not a per-viewer one.
    expect(stream.writes.slice(1)).toEqual([...cached, late].map(frameOnWire));
    expect(stream.writes[1]).toBe(frameOnWire(cached[0]!));
    expect(latencies).toHaveLength(3);
    stream.drain();
    await running;
    expect(ctx.counters.groupsSent).toBe(1);
    expect(ctx.counters.bytesSent).toBe(stream.contents().length);
    expect(ctx.budget.queuedBytes).toBe(0);
  });

  it('pauses at its cursor when it is the least important and loses no frame on resume', async () => {
    const { ctx, streams } = setup(250);
    const group = new Group(0);
    const frames = Array.from({ length: 6 }, (_, i) => frame(100, i + 1));
    group.writeFrame(frames[0]!);
    const running = new GroupSender(ctx, 1, group, 5).run();
    await turn();
    const stream = streams[0]!;
    for (const f of frames.slice(1)) group.writeFrame(f);
    group.close();
    // Header (4 bytes) and two frames (101 bytes each) fit in 250.
    expect(stream.writes).toHaveLength(3);
    expect(ctx.budget.peakQueuedBytes).toBeLessThanOrEqual(250);
    while (!stream.finished) {
      stream.drain();
      await turn();
    }
    expect(stream.writes.slice(1)).toEqual(frames.map(frameOnWire));
    expect(ctx.budget.peakQueuedBytes).toBeLessThanOrEqual(250);
    stream.drain();
    await running;
    expect(ctx.counters.groupsSent).toBe(1);
    expect(ctx.budget.droppedGroups).toBe(0);
  });

  it('resets an older group to make room for a newer one and releases its bytes at once', async () => {
    const { ctx, streams } = setup(300);
    const older = new Group(1);
    const newer = new Group(2);
    older.writeFrame(frame(200, 1));
    const olderRun = new GroupSender(ctx, 1, older, 1).run();
    const newerRun = new GroupSender(ctx, 1, newer, 2).run();
    await turn();
    const [olderStream, newerStream] = streams as [FakePushStream, FakePushStream];
    expect(ctx.budget.queuedBytes).toBe(4 + 202 + 4);
    newer.writeFrame(frame(150, 2));
    expect(olderStream.resetCode).toBe(RelayErrorCode.tooFarBehind);
    expect(ctx.budget.droppedGroups).toBe(1);
    expect(ctx.budget.queuedBytes).toBe(4 + 152);
    expect(newerStream.writes).toHaveLength(2);
    await olderRun;
    // The older group's bytes never left: not counted as sent.
    expect(ctx.counters.bytesSent).toBe(4 + 152);
    older.writeFrame(frame(1, 9)); // its listener is gone
    expect(olderStream.writes).toHaveLength(2);
    newer.close();
    newerStream.drain();
    await newerRun;
    expect(ctx.counters.groupsSent).toBe(1);
  });

  it('STOP_SENDING from the client ends just that group; SUBSCRIBE_UPDATE re-ranks the stream', async () => {
    const { ctx, streams } = setup();
    const group = new Group(3);
    const stopped = new GroupSender(ctx, 1, group, 1);
    const other = new GroupSender(ctx, 2, group, 1);
    const stoppedRun = stopped.run();
    const otherRun = other.run();
    await turn();
    streams[0]!.stop(0x7);
    await stoppedRun;
    expect(streams[0]!.resetCode).toBeUndefined();
    other.setRank(99);
    expect(streams[1]!.sendOrder).toBe(99);
    group.writeFrame(frame(2, 1));
    group.close();
    expect(streams[0]!.writes).toHaveLength(1);
    expect(streams[1]!.writes).toHaveLength(2);
    streams[1]!.drain();
    await otherRun;
    expect(ctx.counters.groupsSent).toBe(1);
  });

  it('resets with the relay error code when the publisher aborts the group', async () => {
    const { ctx, streams } = setup();
    const group = new Group(0);
    const running = new GroupSender(ctx, 1, group, 1).run();
    await turn();
    group.abort(new RelayError('publisher gone', RelayErrorCode.publisherGone));
    await running;
    expect(streams[0]!.resetCode).toBe(RelayErrorCode.publisherGone);
    expect(ctx.counters.groupsSent).toBe(0);
  });

  it('a sender cancelled before its stream opened resets it as cancelled', async () => {
    const { ctx, streams } = setup();
    const sender = new GroupSender(ctx, 1, new Group(0), 1);
    const running = sender.run();
    sender.cancel('unsubscribed');
    await running;
    expect(streams[0]!.resetCode).toBe(RelayErrorCode.cancelled);
    expect(streams[0]!.writes).toHaveLength(0);
  });
});

describe('WritablePushStream', () => {
  it('counts a write as queued until the WHATWG stream took it, then reports progress', async () => {
    const chunks: number[][] = [];
    let release!: () => void;
    const sink = new WritableStream<Uint8Array>(
      {
        write: (chunk) =>
          new Promise<void>((resolve) => {
            chunks.push([...chunk]);
            release = resolve;
          }),
      },
      { highWaterMark: 1 },
    );
    const stream = new WritablePushStream(sink, 0);
    let progress = 0;
    stream.onProgress = () => progress++;
    stream.write(new Uint8Array([1, 2]));
    stream.write(new Uint8Array([3]));
    expect(stream.queuedBytes).toBe(3);
    await turn();
    release();
    await turn();
    expect(stream.queuedBytes).toBe(1);
    expect(progress).toBe(1);
    release();
    stream.finish();
    expect(stream.ended).toBe(true);
    await turn();
    expect(stream.queuedBytes).toBe(0);
    expect(chunks).toEqual([[1, 2], [3]]);
  });

  it('reports a peer stop with its code, and resets with ours', async () => {
    const stopped: Array<number | undefined> = [];
    const peer = new WritableStream<Uint8Array>({
      write: () => Promise.reject(Object.assign(new Error('stopped'), { streamErrorCode: 5 })),
    });
    const stream = new WritablePushStream(peer, 0);
    stream.onStopped = (code) => stopped.push(code);
    stream.write(new Uint8Array([1]));
    await turn();
    expect(stopped).toEqual([5]);
    expect(stream.ended).toBe(true);
    expect(stream.queuedBytes).toBe(0);

    const aborted: unknown[] = [];
    const own = new WritablePushStream(new WritableStream<Uint8Array>({ abort: (reason) => void aborted.push(reason) }), 0);
    own.onStopped = () => stopped.push(-1);
    own.reset(0x11);
    await turn();
    expect((aborted[0] as { streamErrorCode: number }).streamErrorCode).toBe(0x11);
    expect(stopped).toEqual([5]);
  });
  it('a sender dropped while its stream waits for the peer\'s stream credit ends at once and resets the stream when it opens', async () => {
    let grant!: (stream: FakePushStream) => void;
    const transport = { openPushStream: () => new Promise<FakePushStream>((resolve) => (grant = resolve)) };
    const ctx = { transport, budget: new SendBudget(1 << 20), counters: emptyCounters(), logger: SILENT_LOGGER } as unknown as SessionContext;
    const group = new Group(3);
    group.writeFrame(frame(1000, 1));
    const sender = new GroupSender(ctx, 0, group, 1);
    let ended = false;
    const running = sender.run().then(() => (ended = true));
    await turn();
    sender.drop('too many groups in flight');
    await running;
    expect(ended).toBe(true);
    // The credit comes much later: the stream is reset, nothing is written.
    const late = new FakePushStream(1);
    grant(late);
    await turn();
    expect(late.resetCode).toBe(RelayErrorCode.tooFarBehind);
    expect(late.writes).toEqual([]);
  }, 2000);
});
