/**
 * Protocol errors stay contained (RFC 9114 §8, draft-ietf-webtrans-http3): a malformed frame
 * or field section on a request stream resets that stream, a bad capsule or a reset CONNECT
 * stream ends that WebTransport session, unknown capsules are ignored (RFC 9297 §3.2), and
 * only control-stream errors close the connection. Other sessions keep working throughout.
 * The misbehaving client is built by hand on our QUIC layer.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCloseCapsule } from '../../src/transport/h3/capsules.ts';
import { FrameReader, FrameType, encodeFrame } from '../../src/transport/h3/frames.ts';
import { H3ErrorCode } from '../../src/transport/h3/h3-errors.ts';
import { LOCAL_SETTINGS } from '../../src/transport/h3/http3-connection.ts';
import { decodeFieldSection, encodeFieldSection, type FieldLine } from '../../src/transport/h3/qpack.ts';
import { encodeSettings } from '../../src/transport/h3/settings.ts';
import { encodeParts } from '../../src/wire/byte-writer.ts';
import { applicationCodeToHttp3 } from '../../src/transport/h3/webtransport-codes.ts';
import { dial } from '../../src/transport/quic/dial.ts';
import type { QuicConnection } from '../../src/transport/quic/quic-connection.ts';
import { StreamResetError, type ConnectionCloseInfo } from '../../src/transport/quic/quic-errors.ts';
import type { QuicStream } from '../../src/transport/quic/quic-stream.ts';
import {
  type WebTransportError,
  connectWebTransport,
  startQuicServer,
  type QuicServer,
  type WebTransportSession,
} from '../../src/transport/quic/index.ts';
import { createDevCertificate } from '../../src/transport/tls/index.ts';

const tls = createDevCertificate();
const hashes = [{ algorithm: 'sha-256', value: tls.fingerprintHex }];
let server: QuicServer;
let observer: WebTransportSession;
const serverSessions = new Map<string, { session: WebTransportSession; outcome: Promise<string> }>();
const dataStreamErrors: Array<number | null> = [];

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let result = await reader.read(); !result.done; result = await reader.read()) chunks.push(result.value);
  return Buffer.concat(chunks);
}

function echo(session: WebTransportSession): void {
  void (async () => {
    const reader = session.incomingBidirectionalStreams.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      next.value.readable.pipeTo(next.value.writable).catch((error: WebTransportError) => dataStreamErrors.push(error.streamErrorCode));
    }
  })().catch(() => {});
}

/** Proves a session still works: a bidi stream echoes random bytes. */
async function assertHealthy(session: WebTransportSession): Promise<void> {
  const data = randomBytes(20_000);
  const { readable, writable } = await session.createBidirectionalStream();
  const writer = writable.getWriter();
  const reading = readAll(readable);
  await writer.write(data);
  await writer.close();
  expect((await reading).equals(data)).toBe(true);
}

interface Collected {
  bytes: Buffer;
  fin: boolean;
  resetCode: number | undefined;
}

/** Records everything that arrives on a stream of the raw client. */
function collect(stream: QuicStream): Collected {
  const collected: Collected = { bytes: Buffer.alloc(0), fin: false, resetCode: undefined };
  stream.onReadable = () => {
    try {
      for (let chunk = stream.read(); chunk; chunk = stream.read()) {
        collected.bytes = Buffer.concat([collected.bytes, chunk.data]);
        if (chunk.fin) collected.fin = true;
      }
    } catch (error) {
      if (error instanceof StreamResetError) collected.resetCode = error.code;
    }
  };
  stream.onReadable();
  return collected;
}

/** The first HEADERS frame in collected bytes, decoded. */
function responseHeaders(collected: Collected): Map<string, string> | undefined {
  const frames = new FrameReader();
  frames.push(collected.bytes);
  for (let event = frames.next(); event; event = frames.next()) {
    if (event.kind === 'frame' && event.type === FrameType.Headers) return new Map(decodeFieldSection(event.payload));
  }
  return undefined;
}

/** A hand-driven HTTP/3 client that can send whatever bytes a test wants. */
class RawHttp3Client {
  closeInfo: ConnectionCloseInfo | undefined;
  private constructor(readonly connection: QuicConnection) {}

  static async open(): Promise<RawHttp3Client> {
    const connection = await dial(new URL(`https://127.0.0.1:${server.port}/`), { alpns: ['h3'], serverCertificateHashes: hashes });
    const client = new RawHttp3Client(connection);
    connection.handler = {
      onStream: (stream) => void collect(stream), // the server's control stream: drain it
      onDatagram: () => {},
      onClosed: (info) => (client.closeInfo = info),
    };
    connection.schedule();
    return client;
  }

  async openControlStream(extraFrames: Uint8Array = new Uint8Array(0)): Promise<QuicStream> {
    const control = await this.connection.openStreamWhenAllowed(false);
    control.write(encodeParts(0x00, encodeFrame(FrameType.Settings, encodeSettings(LOCAL_SETTINGS)), extraFrames));
    return control;
  }

  async request(bytes: Uint8Array): Promise<{ stream: QuicStream; response: Collected }> {
    const stream = await this.connection.openStreamWhenAllowed(true);
    const response = collect(stream);
    stream.write(bytes);
    return { stream, response };
  }

  /** Opens a WebTransport session by hand and waits for the 200. */
  async session(path: string): Promise<{ stream: QuicStream; response: Collected }> {
    const opened = await this.request(encodeFrame(FrameType.Headers, encodeFieldSection(connectRequest(path))));
    await expect.poll(() => responseHeaders(opened.response)?.get(':status')).toBe('200');
    return opened;
  }

  close(): void {
    this.connection.close(true, H3ErrorCode.NoError, '');
  }
}

function connectRequest(path: string, extra: FieldLine[] = []): FieldLine[] {
  return [[':method', 'CONNECT'], [':protocol', 'webtransport'], [':scheme', 'https'], [':authority', `127.0.0.1:${server.port}`], [':path', path], ...extra];
}

beforeAll(async () => {
  server = await startQuicServer({
    host: '127.0.0.1',
    port: 0,
    tls,
    onSession: (session, info) => {
      serverSessions.set(info.url.pathname, {
        session,
        outcome: session.closed.then(
          (close) => `closed ${close.closeCode}`,
          (error: Error) => `failed ${error.message}`,
        ),
      });
      echo(session);
    },
    onRequest: (request) => (request.path === '/hello' ? { status: 200, body: 'hi', headers: { 'content-type': 'text/plain' } } : { status: 404 }),
    authorize: (request) => (request.url.pathname === '/forbidden' ? 403 : undefined),
  });
  observer = await connectWebTransport(`https://127.0.0.1:${server.port}/observer`, { protocols: ['moq-lite-04'], serverCertificateHashes: hashes });
});

afterAll(async () => {
  observer.close();
  await server.close();
});

describe('errors on request streams', () => {
  it('bad QPACK resets only that request; the connection and other sessions go on', async () => {
    const client = await RawHttp3Client.open();
    await client.openControlStream();
    const dynamicReference = encodeFrame(FrameType.Headers, Uint8Array.from([0x01, 0x00, 0x80]));
    const { response } = await client.request(dynamicReference);
    await expect.poll(() => response.resetCode).toBe(H3ErrorCode.QpackDecompressionFailed);
    // Same connection: a well-formed session still gets established.
    await client.session('/after-bad-qpack');
    expect(client.closeInfo).toBeUndefined();
    await assertHealthy(observer);
    client.close();
  });

  it('malformed frames (DATA first, HTTP/2 frame types) reset only that request', async () => {
    const client = await RawHttp3Client.open();
    await client.openControlStream();
    const dataFirst = await client.request(encodeFrame(FrameType.Data, new Uint8Array(10)));
    const http2Frame = await client.request(encodeFrame(0x06, new Uint8Array(8)));
    const truncatedHeaders = await client.request(encodeFrame(FrameType.Headers, encodeFieldSection(connectRequest('/x'))).subarray(0, 6));
    truncatedHeaders.stream.finish();
    await expect.poll(() => dataFirst.response.resetCode).toBe(H3ErrorCode.FrameUnexpected);
    await expect.poll(() => http2Frame.response.resetCode).toBe(H3ErrorCode.FrameUnexpected);
    await expect.poll(() => truncatedHeaders.response.resetCode).toBe(H3ErrorCode.RequestIncomplete);
    await client.session('/after-bad-frames');
    expect(client.closeInfo).toBeUndefined();
    await assertHealthy(observer);
    client.close();
  });

  it('answers ordinary requests with the application response or 404, and honours authorize()', async () => {
    const client = await RawHttp3Client.open();
    await client.openControlStream();
    const get = (path: string) =>
      client.request(encodeFrame(FrameType.Headers, encodeFieldSection([[':method', 'GET'], [':scheme', 'https'], [':authority', 'x'], [':path', path]])));
    const hello = await get('/hello');
    const missing = await get('/missing');
    await expect.poll(() => responseHeaders(hello.response)?.get(':status')).toBe('200');
    await expect.poll(() => hello.response.fin).toBe(true);
    expect(hello.response.bytes.includes(Buffer.from('hi'))).toBe(true);
    await expect.poll(() => responseHeaders(missing.response)?.get(':status')).toBe('404');
    await expect(connectWebTransport(`https://127.0.0.1:${server.port}/forbidden`, { serverCertificateHashes: hashes })).rejects.toThrow(/403/);
    client.close();
  });
});

describe('errors inside WebTransport sessions', () => {
  it('a malformed capsule ends only its session; a sibling session on the same connection goes on', async () => {
    const client = await RawHttp3Client.open();
    await client.openControlStream();
    const first = await client.session('/capsule-victim');
    const second = await client.session('/capsule-sibling');
    // WT_CLOSE_SESSION shorter than its 4-byte code.
    first.stream.write(encodeFrame(FrameType.Data, encodeParts(0x2843, 2, Uint8Array.from([0, 0]))));
    await expect.poll(() => first.response.resetCode).toBe(H3ErrorCode.MessageError);
    expect(await serverSessions.get('/capsule-victim')!.outcome).toMatch(/^failed/);

    // The sibling: a WebTransport bidi stream (0x41, session ID) still echoes.
    const stream = await client.connection.openStreamWhenAllowed(true);
    const echoed = collect(stream);
    stream.write(encodeParts(0x41, second.stream.id, Buffer.from('still here')));
    stream.finish();
    await expect.poll(() => echoed.fin).toBe(true);
    expect(echoed.bytes.toString()).toBe('still here');
    expect(client.closeInfo).toBeUndefined();
    await assertHealthy(observer);
    client.close();
  });

  it('unknown capsules are ignored and a clean close capsule ends the session cleanly', async () => {
    const client = await RawHttp3Client.open();
    await client.openControlStream();
    const session = await client.session('/unknown-capsule');
    session.stream.write(encodeFrame(FrameType.Data, encodeParts(0x1234, 3, Uint8Array.from([1, 2, 3]))));
    session.stream.write(encodeFrame(0x21 + 0x1f * 7, new Uint8Array(5))); // reserved frame type
    const stream = await client.connection.openStreamWhenAllowed(true);
    const echoed = collect(stream);
    stream.write(encodeParts(0x41, session.stream.id, Buffer.from('ok')));
    stream.finish();
    await expect.poll(() => echoed.bytes.toString()).toBe('ok');
    session.stream.write(encodeFrame(FrameType.Data, encodeCloseCapsule(77, 'bye')));
    session.stream.finish();
    expect(await serverSessions.get('/unknown-capsule')!.outcome).toBe('closed 77');
    await expect.poll(() => session.response.fin).toBe(true); // the server answers with FIN
    client.close();
  });

  it('a reset CONNECT stream ends its session; a reset data stream reaches the application only', async () => {
    const client = await RawHttp3Client.open();
    await client.openControlStream();
    const doomed = await client.session('/reset-connect');
    const survivor = await client.session('/reset-data');

    const data = await client.connection.openStreamWhenAllowed(true);
    collect(data);
    data.write(encodeParts(0x41, survivor.stream.id, Buffer.from('some bytes')));
    await expect.poll(() => serverSessions.has('/reset-data')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    data.reset(applicationCodeToHttp3(9));
    await expect.poll(() => dataStreamErrors).toContain(9);

    doomed.stream.reset(H3ErrorCode.RequestCancelled);
    expect(await serverSessions.get('/reset-connect')!.outcome).toMatch(/^failed/);
    const stream = await client.connection.openStreamWhenAllowed(true);
    const echoed = collect(stream);
    stream.write(encodeParts(0x41, survivor.stream.id, Buffer.from('alive')));
    stream.finish();
    await expect.poll(() => echoed.bytes.toString()).toBe('alive');
    await assertHealthy(observer);
    client.close();
  });

  it('streams for unknown or ended sessions are refused without harm', async () => {
    const client = await RawHttp3Client.open();
    await client.openControlStream();
    const stray = await client.connection.openStreamWhenAllowed(false);
    const strayReply = collect(stray);
    stray.write(encodeParts(0x54, 400, Buffer.from('nobody home'))); // waits in the buffer, harmlessly
    const unknownType = await client.connection.openStreamWhenAllowed(false);
    unknownType.write(encodeParts(0x21 + 0x1f * 2, Buffer.from('ignored')));
    const session = await client.session('/still-fine');
    expect(strayReply.resetCode).toBeUndefined();
    const stream = await client.connection.openStreamWhenAllowed(true);
    const echoed = collect(stream);
    stream.write(encodeParts(0x41, session.stream.id, Buffer.from('fine')));
    stream.finish();
    await expect.poll(() => echoed.bytes.toString()).toBe('fine');
    client.close();
  });
});

describe('errors on control streams', () => {
  it('close only the offending connection', async () => {
    const client = await RawHttp3Client.open();
    await client.openControlStream(encodeFrame(FrameType.Data, new Uint8Array(4)));
    await expect.poll(() => client.closeInfo?.code).toBe(H3ErrorCode.FrameUnexpected);
    expect(client.closeInfo?.initiator).toBe('peer');

    const second = await RawHttp3Client.open();
    const control = await second.openControlStream();
    control.finish(); // closing a critical stream
    await expect.poll(() => second.closeInfo?.code).toBe(H3ErrorCode.ClosedCriticalStream);

    const third = await RawHttp3Client.open();
    await third.openControlStream();
    await third.openControlStream(); // a second control stream
    await expect.poll(() => third.closeInfo?.code).toBe(H3ErrorCode.StreamCreationError);

    await assertHealthy(observer);
  });
});
