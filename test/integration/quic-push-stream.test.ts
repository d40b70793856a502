/**
 * Push streams over our QUIC stack (raw QUIC and WebTransport over HTTP/3, where the stream
 * header must precede the data): synchronous writes kept by reference arrive byte-exact after
 * quiche's flow control held them back, `queuedBytes` / `onProgress` report the backlog,
 * RESET_STREAM carries our code and the client's STOP_SENDING reaches `onStopped` with its own.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canOpenPushStreams, type PushSendStream } from '../../src/transport/push-stream.ts';
import {
  WebTransportError,
  connectQuic,
  connectWebTransport,
  startQuicServer,
  type QuicServer,
  type WebTransportSession,
} from '../../src/transport/quic/index.ts';
import { createDevCertificate } from '../../src/transport/tls/index.ts';

const tls = createDevCertificate();
const hashes = [{ algorithm: 'sha-256', value: Buffer.from(tls.fingerprintHex, 'hex') }];
let server: QuicServer;
/** Server sides of sessions, in order of arrival. */
const sessions: WebTransportSession[] = [];
let arrived: (() => void) | undefined;

beforeAll(async () => {
  server = await startQuicServer({
    host: '127.0.0.1',
    port: 0,
    tls,
    onSession: (session) => {
      sessions.push(session);
      arrived?.();
    },
  });
});

afterAll(async () => {
  await server.close();
});

const kinds = [
  { name: 'raw QUIC', open: () => connectQuic(`https://127.0.0.1:${server.port}/`, { alpn: ['moq-lite-04'], serverCertificateHashes: hashes }) },
  { name: 'WebTransport', open: () => connectWebTransport(`https://127.0.0.1:${server.port}/push`, { protocols: ['moq-lite-04'], serverCertificateHashes: hashes }) },
] as const;

async function connect(open: () => Promise<WebTransportSession>) {
  const known = sessions.length;
  const client = await open();
  while (sessions.length === known) await new Promise<void>((resolve) => (arrived = resolve));
  const serverSide = sessions.at(-1)!;
  await serverSide.ready;
  if (!canOpenPushStreams(serverSide)) throw new Error('our QUIC sessions open push streams');
  return { client, opener: serverSide, uni: client.incomingUnidirectionalStreams.getReader() };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let result = await reader.read(); !result.done; result = await reader.read()) chunks.push(result.value);
  return Buffer.concat(chunks);
}

describe.each(kinds)('$name', ({ open }) => {
  it('queues what quiche cannot take, drains it on writability, byte-exact, then FIN', async () => {
    const { client, opener, uni } = await connect(open);
    const stream: PushSendStream = await opener.openPushStream(7);
    let progress = 0;
    stream.onProgress = () => progress++;
    // 4 MiB in one turn: far past the stream's flow-control window, so most of it waits here.
    const parts = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
    for (const part of parts) stream.write(part);
    expect(stream.queuedBytes).toBeGreaterThan(0);
    expect(stream.queuedBytes).toBeLessThan(4 * 1024 * 1024);
    stream.finish();
    expect(stream.ended).toBe(true);
    const received = await readAll((await uni.read()).value!);
    expect(received.equals(Buffer.concat(parts))).toBe(true);
    expect(stream.queuedBytes).toBe(0);
    expect(progress).toBeGreaterThan(0);
    client.close();
  });

  it('resets with our code and drops the backlog at once', async () => {
    const { client, opener, uni } = await connect(open);
    const stream = await opener.openPushStream(1);
    stream.write(Buffer.from('first'));
    const reader = (await uni.read()).value!.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('first');
    for (let i = 0; i < 64; i++) stream.write(randomBytes(64 * 1024));
    stream.reset(0x11);
    expect(stream.queuedBytes).toBe(0);
    const failure = await (async () => {
      for (;;) if ((await reader.read()).done) return undefined;
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WebTransportError);
    expect((failure as WebTransportError).streamErrorCode).toBe(0x11);
    client.close();
  });

  it("reports the client's STOP_SENDING code, and the session's end, to onStopped", async () => {
    const { client, opener, uni } = await connect(open);
    const stream = await opener.openPushStream(1);
    const stops: Array<number | undefined> = [];
    stream.onStopped = (code) => stops.push(code);
    stream.write(Buffer.from('hello'));
    const readable = (await uni.read()).value!;
    const reader = readable.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('hello');
    await reader.cancel(new WebTransportError('enough', { streamErrorCode: 7 }));
    // STOP_SENDING shows up when quiche reports the stream writable, or at the next write. Once
    // everything sent was acked quiche may collect the stopped stream before we see the code.
    await expect.poll(() => {
      if (stops.length === 0) stream.write(Buffer.from('more'));
      return stops.length;
    }).toBe(1);
    expect([7, undefined]).toContain(stops[0]);
    expect(stream.ended).toBe(true);

    const other = await opener.openPushStream(1);
    const otherStops: Array<number | undefined> = [];
    other.onStopped = (code) => otherStops.push(code);
    client.close();
    await expect.poll(() => otherStops).toEqual([undefined]);
    expect(other.ended).toBe(true);
  });
});
