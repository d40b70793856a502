/**
 * Reset paths retain nothing (issue 24.1): a WHATWG send stream resets its transport stream as
 * soon as abort() is called, even while a write the peer never lets finish is in flight (WHATWG
 * defers the sink's abort() until that write settles), and the reasons used for resets carry no
 * captured stack (which would keep the frames that created them alive).
 */
import { describe, expect, it } from 'vitest';
import { streamError } from '../../src/moq/ietf/session/stream-error.ts';
import { QmuxSendStream, type SendStreamOwner } from '../../src/transport/qmux/send-stream.ts';
import { writableFor } from '../../src/transport/qmux/writable.ts';
import type { QuicStream } from '../../src/transport/quic/quic-stream.ts';
import { QuicSendStream } from '../../src/transport/quic/send-stream.ts';
import { WebTransportError } from '../../src/transport/quic/webtransport-error.ts';
import { StreamResetReason, withoutStack } from '../../src/wire/errors.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('abort() resets at once, with a write in flight', () => {
  it('QMux: the queue is dropped and RESET_STREAM sent before the stuck write settles', async () => {
    const resets: number[] = [];
    const owner: SendStreamOwner = { schedule: () => undefined, reset: (_stream, code) => void resets.push(code) };
    const stream = new QmuxSendStream(2, 0, 1 << 20, owner);
    const writer = writableFor(stream, () => new Error('gone')).getWriter();
    writer.closed.catch(() => undefined);
    // Over the 64 KiB high-water mark and never taken by the (stalled) socket: the write waits.
    const stuck = writer.write(new Uint8Array(100_000));
    stuck.catch(() => undefined);
    await tick();
    expect(stream.queuedBytes).toBe(100_000);
    const aborted = writer.abort(new StreamResetReason(7, 'too slow'));
    await tick();
    expect(resets).toEqual([7]);
    expect(stream.queuedBytes).toBe(0);
    await expect(stuck).rejects.toThrow('too slow');
    await aborted;
    expect(resets).toEqual([7]);
  });

  it('QUIC: RESET_STREAM with the mapped code before quiche ever takes the pending bytes', async () => {
    const resets: number[] = [];
    const fake = {
      id: 4,
      write: () => 0, // no flow-control credit: quiche takes nothing
      finish: () => undefined,
      reset: (code: number) => void resets.push(code),
      capacity: () => 0,
      setPriority: () => undefined,
      onWritable: undefined,
      onTerminated: undefined,
    } as unknown as QuicStream;
    const writable = new QuicSendStream(fake, { fromWireCode: (c) => c, toWireCode: (c) => c + 1000 });
    const writer = writable.getWriter();
    writer.closed.catch(() => undefined);
    const stuck = writer.write(new Uint8Array(10_000));
    stuck.catch(() => undefined);
    await tick();
    const aborted = writer.abort(streamError(3));
    await tick();
    expect(resets).toEqual([1003]);
    await expect(stuck).rejects.toMatchObject({ streamErrorCode: 3 });
    await aborted;
    expect(resets).toEqual([1003]);
  });
});

describe('reset reasons carry no stack', () => {
  const frames = (error: Error) => (error.stack ?? '').split('\n').filter((line) => line.trim().startsWith('at ')).length;
  it('StreamResetReason, streamError, WebTransportError, withoutStack', () => {
    expect(frames(new StreamResetReason(1, 'x'))).toBe(0);
    expect(frames(streamError(2))).toBe(0);
    expect(frames(new WebTransportError('session closed', { source: 'session' }))).toBe(0);
    expect(frames(withoutStack(() => new Error('y')))).toBe(0);
    // Stack capture is back on afterwards.
    expect(frames(new Error('z'))).toBeGreaterThan(0);
    expect(new StreamResetReason(5, 'm')).toMatchObject({ streamErrorCode: 5, message: 'm', name: 'StreamResetReason' });
  });
});
