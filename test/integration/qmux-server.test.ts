/**
 * Our QMux server (src/transport/qmux/) against the real @moq/qmux 0.3.3 client over a `ws`
 * socket on 127.0.0.1, for every framing the gateway accepts: qmux-02, qmux-01, qmux-00 and the
 * older web-transport-ws (`webtransport`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import QmuxSession from '@moq/qmux';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PushSendStream } from '../../src/transport/push-stream.ts';
import type { QmuxServerSession } from '../../src/transport/qmux/session.ts';
import { WebSocketAcceptor } from '../../src/transport/websocket.ts';

let server: http.Server;
let acceptor: WebSocketAcceptor;
let port = 0;
const accepted: Array<(session: QmuxServerSession) => void> = [];

beforeAll(async () => {
  acceptor = new WebSocketAcceptor({
    onSession: (session) => accepted.shift()?.(session as unknown as QmuxServerSession),
  });
  server = http.createServer();
  server.on('upgrade', (req, socket, head) => acceptor.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  acceptor.close();
  await new Promise((resolve) => server.close(resolve));
});

interface Pair {
  client: QmuxSession;
  server: QmuxServerSession;
  socket: WebSocket;
}

async function connect(framing: string): Promise<Pair> {
  const serverSession = new Promise<QmuxServerSession>((resolve) => accepted.push(resolve));
  const protocol = framing === 'webtransport' ? 'webtransport' : `${framing}.moq-lite-04`;
  const socket = new WebSocket(`ws://127.0.0.1:${port}/`, [protocol], { perMessageDeflate: false });
  socket.on('error', () => {});
  const client = new QmuxSession(socket as unknown as ConstructorParameters<typeof QmuxSession>[0]);
  await client.ready;
  return { client, server: await serverSession, socket };
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + seed * 13 + (i >> 8)) & 0xff;
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = readable.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
  return concat(parts);
}

async function firstIncoming<T>(streams: ReadableStream<T>): Promise<T> {
  const reader = streams.getReader();
  const next = await reader.read();
  reader.releaseLock();
  if (next.done) throw new Error('no incoming stream');
  return next.value;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe.each(['qmux-02', 'qmux-01', 'qmux-00', 'webtransport'])('QMux server over %s', (framing) => {
  it('echoes a client bidirectional stream byte for byte', async () => {
    const { client, server } = await connect(framing);
    const payload = pattern(300_000, 1);
    void (async () => {
      const stream = await firstIncoming(server.incomingBidirectionalStreams);
      const writer = stream.writable.getWriter();
      const reader = stream.readable.getReader();
      for (let next = await reader.read(); !next.done; next = await reader.read()) await writer.write(next.value);
      await writer.close();
    })();
    const stream = await client.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    const echoed = readAll(stream.readable);
    for (let at = 0; at < payload.byteLength; at += 50_000) await writer.write(payload.slice(at, at + 50_000));
    await writer.close();
    expect(Buffer.compare(await echoed, payload)).toBe(0);
    client.close();
  });

  it('pushes server unidirectional streams byte for byte, beyond the client’s initial credit', async () => {
    const { client, server } = await connect(framing);
    // @moq/qmux grants 256 KiB per stream and 1 MiB per connection at first.
    const chunks = [pattern(10, 2), pattern(1_500_000, 3), pattern(40_000, 4)];
    const push = await server.openPushStream(0);
    for (const chunk of chunks) push.write(chunk);
    push.finish();
    expect(push.ended).toBe(true);
    const received = await readAll(await firstIncoming(client.incomingUnidirectionalStreams));
    expect(Buffer.compare(received, concat(chunks))).toBe(0);
    expect(push.queuedBytes).toBe(0);
    client.close();
  });

  it('carries many concurrent streams, more than the client’s stream limit at once', async () => {
    const { client, server } = await connect(framing);
    const count = 250;
    const reads: Promise<Uint8Array>[] = [];
    const incoming = client.incomingUnidirectionalStreams.getReader();
    const collector = (async () => {
      for (let i = 0; i < count; i++) {
        const next = await incoming.read();
        if (next.done) throw new Error('session ended');
        reads.push(readAll(next.value));
      }
    })();
    const opened: PushSendStream[] = [];
    for (let i = 0; i < count; i++) {
      const push = await server.openPushStream(0);
      push.write(Uint8Array.of(i & 0xff, i >> 8));
      push.write(pattern(1000 + i, i));
      push.finish();
      opened.push(push);
    }
    await collector;
    const bodies = await Promise.all(reads);
    const byIndex = new Map(bodies.map((body) => [body[0]! | (body[1]! << 8), body]));
    expect(byIndex.size).toBe(count);
    for (let i = 0; i < count; i++) expect(Buffer.compare(byIndex.get(i)!.subarray(2), pattern(1000 + i, i))).toBe(0);
    client.close();
  });

  it('sends the higher sendOrder first when both are queued', async () => {
    const { client, server } = await connect(framing);
    const low = await server.openPushStream(1);
    const high = await server.openPushStream(5);
    low.write(new Uint8Array(2_000_000).fill(0xaa));
    high.write(new Uint8Array(200_000).fill(0xbb));
    low.finish();
    high.finish();
    const incoming = client.incomingUnidirectionalStreams.getReader();
    const first = await incoming.read();
    const second = await incoming.read();
    const [a, b] = await Promise.all([readAll(first.value!), readAll(second.value!)]);
    // The low stream was opened first, but the high one reached the client first.
    expect(a.byteLength).toBe(200_000);
    expect(a.every((x) => x === 0xbb)).toBe(true);
    expect(b.byteLength).toBe(2_000_000);
    client.close();
  });

  it('resets and stops streams in both directions', async () => {
    const { client, server } = await connect(framing);
    // Server reset: the client's read fails with the code.
    const reset = await server.openPushStream(0);
    reset.write(pattern(1000, 5));
    const resetStream = (await firstIncoming(client.incomingUnidirectionalStreams)).getReader();
    expect((await resetStream.read()).value?.byteLength).toBeGreaterThan(0);
    reset.reset(7);
    expect(reset.ended).toBe(true);
    await expect(resetStream.read()).rejects.toMatchObject({ streamErrorCode: 7 });

    // Client STOP_SENDING: the push stream reports the code and drops its queue.
    const stopped = await server.openPushStream(0);
    const stoppedCode = new Promise<number | undefined>((resolve) => {
      stopped.onStopped = resolve;
    });
    stopped.write(pattern(100, 6));
    const stoppedReader = (await firstIncoming(client.incomingUnidirectionalStreams)).getReader();
    await stoppedReader.read();
    await stoppedReader.cancel(Object.assign(new Error('stop'), { streamErrorCode: 5 }));
    expect(await stoppedCode).toBe(5);
    expect(stopped.ended).toBe(true);
    stopped.write(pattern(100, 7));
    expect(stopped.queuedBytes).toBe(0);

    // Client reset: the server's read fails with the code.
    const clientReset = await client.createUnidirectionalStream();
    const resetWriter = clientReset.getWriter();
    await resetWriter.write(pattern(100, 8));
    const serverReader = (await firstIncoming(server.incomingUnidirectionalStreams)).getReader();
    expect((await serverReader.read()).value?.byteLength).toBe(100);
    await resetWriter.abort(Object.assign(new Error('reset'), { streamErrorCode: 9 }));
    await expect(serverReader.read()).rejects.toMatchObject({ streamErrorCode: 9 });

    // Server STOP_SENDING: the client's writer fails with the code.
    const clientStopped = await client.createUnidirectionalStream();
    const stoppedWriter = clientStopped.getWriter();
    await stoppedWriter.write(pattern(100, 9));
    const serverStopped = (await firstIncoming(server.incomingUnidirectionalStreams)).getReader();
    await serverStopped.read();
    await serverStopped.cancel(Object.assign(new Error('stop'), { streamErrorCode: 4 }));
    await expect(stoppedWriter.closed).rejects.toMatchObject({ streamErrorCode: 4 });
    client.close();
  });

  it('holds a fast client to what the application reads, then delivers every byte', async () => {
    const { client, server } = await connect(framing);
    // Far beyond the 256 KiB stream / 1 MiB connection credit (QMux) and the 1 MiB at which
    // web-transport-ws stops reading the socket: the client can only finish once we read.
    const payload = pattern(3_000_000, 11);
    const stream = await client.createUnidirectionalStream();
    const writer = stream.getWriter();
    const written = (async () => {
      for (let at = 0; at < payload.byteLength; at += 100_000) await writer.write(payload.slice(at, at + 100_000));
      await writer.close();
    })();
    const incoming = await firstIncoming(server.incomingUnidirectionalStreams);
    await turn();
    const [received] = await Promise.all([readAll(incoming), written]);
    expect(Buffer.compare(received, payload)).toBe(0);
    client.close();
  });

  it('closes only the session that sent a malformed frame', async () => {
    const good = await connect(framing);
    const bad = await connect(framing);
    // An unknown frame type in either framing (0x3e is neither a QMux nor a web-transport-ws type).
    bad.socket.send(Uint8Array.of(0x3e, 0x01, 0x02));
    await expect(bad.server.closed).rejects.toThrow(/frame type/);
    await expect(bad.client.closed).rejects.toBeDefined();
    // The other session still works.
    const push = await good.server.openPushStream(0);
    push.write(pattern(5000, 10));
    push.finish();
    const body = await readAll(await firstIncoming(good.client.incomingUnidirectionalStreams));
    expect(Buffer.compare(body, pattern(5000, 10))).toBe(0);
    good.client.close();
    await turn();
  });
});

describe.each(['qmux-02', 'qmux-01', 'qmux-00'])('QMux server flow control over %s', (framing) => {
  it('closes a session whose peer sends beyond the credit we granted', async () => {
    const { client, server, socket } = await connect(framing);
    // STREAM frames on client uni stream 2 (type 0x0e: OFF|LEN), 16 000 bytes each, past the
    // 256 KiB we granted per stream, without waiting for MAX_STREAM_DATA.
    const data = new Uint8Array(16_000);
    for (let offset = 0; offset <= 262_144; offset += data.byteLength) {
      const header = Buffer.from([0x0e, 0x02, 0x80 | (offset >>> 24), (offset >>> 16) & 0xff, (offset >>> 8) & 0xff, offset & 0xff, 0x40 | (data.byteLength >> 8), data.byteLength & 0xff]);
      socket.send(Buffer.concat([header, data]));
    }
    await expect(server.closed).rejects.toThrow(/flow control/);
    await expect(client.closed).rejects.toBeDefined();
  });
});
