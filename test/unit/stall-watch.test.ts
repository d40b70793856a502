/**
 * The shared viewer stall watch (src/moq/stall-watch.ts) and the IETF subgroup sender under the
 * session budget: a subscriber that takes nothing is reported once, with the reason; a stalled
 * IETF subscriber loses its least important group whole, its queued bytes released at once.
 */
import { describe, expect, it } from 'vitest';
import { dataCodec } from '../../src/moq/ietf/data/codecs.ts';
import { GroupSender } from '../../src/moq/ietf/egress/group-sender.ts';
import { passthrough } from '../../src/moq/ietf/media-bridge.ts';
import { SendBudget } from '../../src/moq/send-budget.ts';
import { type Stall, StallWatch } from '../../src/moq/stall-watch.ts';
import { Group } from '../../src/relay/index.ts';
import type { PushSendStream } from '../../src/transport/push-stream.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('StallWatch', () => {
  it('reports a source with bytes waiting and no progress once, after the timeout', async () => {
    let stalledMs = 0;
    const stalls: Stall[] = [];
    const watch = new StallWatch({ stalledMs: () => stalledMs, queuedBytes: 1234 }, 40, (stall) => stalls.push(stall));
    await sleep(60);
    expect(stalls).toEqual([]);
    stalledMs = 41_000;
    await sleep(60);
    expect(stalls).toEqual([{ reason: 'viewer stalled: no bytes taken for 41 s with 1234 bytes queued', stalledMs: 41_000, queuedBytes: 1234 }]);
    expect(watch.stall).toBe(stalls[0]);
    await sleep(60);
    expect(stalls).toHaveLength(1);
    watch.stop();
  });
});

/** A stream whose network never takes anything. */
class StuckStream implements PushSendStream {
  queuedBytes = 0;
  resetCode: number | undefined;
  ended = false;
  onProgress: (() => void) | undefined;
  onStopped: ((code: number | undefined) => void) | undefined;
  constructor(public sendOrder: number) {}
  write(bytes: Uint8Array): void {
    this.queuedBytes += bytes.byteLength;
  }
  finish(): void {
    this.ended = true;
  }
  reset(code: number): void {
    this.resetCode = code;
    this.ended = true;
    this.queuedBytes = 0;
  }
}

describe('IETF GroupSender under the session budget', () => {
  it('a stalled subscriber loses its least important group whole; the budget stays bounded', async () => {
    const streams: StuckStream[] = [];
    const transport = { openPushStream: async (sendOrder: number) => streams[streams.push(new StuckStream(sendOrder)) - 1]! };
    const budget = new SendBudget(10_000);
    const send = (group: Group, sendOrder: number) =>
      new GroupSender({
        transport: transport as never,
        data: dataCodec('draft-16'),
        trackAlias: 1,
        group,
        firstObject: 0,
        publisherPriority: 0,
        sendOrder,
        format: passthrough,
        cancel: new AbortController().signal,
        budget,
        onOpen: () => undefined,
      }).run();
    const older = new Group(1);
    const newer = new Group(2);
    const first = send(older, 1);
    await sleep(0);
    for (let i = 0; i < 4; i++) older.writeFrame(new Uint8Array(2000));
    expect(budget.queuedBytes).toBeGreaterThan(8000);
    const second = send(newer, 2);
    await sleep(0);
    newer.writeFrame(new Uint8Array(3000));
    // The older, less important group is reset with CANCELLED and its bytes released.
    expect(await first).toBe('dropped');
    expect(streams[0]!.resetCode).toBe(0x1);
    expect(budget.queuedBytes).toBeLessThanOrEqual(10_000);
    expect(budget.queuedBytes).toBe(streams[1]!.queuedBytes);
    expect(budget.droppedGroups).toBe(1);
    newer.close();
    expect(streams[1]!.ended).toBe(true);
    void second;
  });
});
