/**
 * Node ↔ Node over our QUIC stack: raw QUIC (ALPN) and WebTransport over HTTP/3 on one UDP
 * port. Echo, server-opened streams, datagrams, many concurrent streams, resets and
 * STOP_SENDING, backpressure, close codes, protocol negotiation, and @moq/lite as a consumer.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WebTransportError,
  connectQuic,
  connectWebTransport,
  startQuicServer,
  type QuicServer,
  type SessionInfo,
  type WebTransportSession,
} from '../../src/transport/quic/index.ts';
import { createDevCertificate } from '../../src/transport/tls/index.ts';
import { echoSession } from '../helpers/echo-session.ts';

type Behaviour = (session: WebTransportSession, info: SessionInfo) => void;

const tls = createDevCertificate();
const hashes = [{ algorithm: 'sha-256', value: Buffer.from(tls.fingerprintHex, 'hex') }];
let server: QuicServer;
/** What the server does with the next session, chosen by the URL path (WebTransport) or ALPN. */
const behaviours = new Map<string, Behaviour>();
const serverSessions: Array<{ session: WebTransportSession; info: SessionInfo }> = [];

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let result = await reader.read(); !result.done; result = await reader.read()) chunks.push(result.value);
  return Buffer.concat(chunks);
}

async function writeAll(stream: WritableStream<Uint8Array>, data: Uint8Array, chunkSize = 16 * 1024): Promise<void> {
  const writer = stream.getWriter();
  for (let offset = 0; offset < data.byteLength; offset += chunkSize) await writer.write(data.subarray(offset, offset + chunkSize));
  await writer.close();
}

const echo: Behaviour = echoSession;

beforeAll(async () => {
  server = await startQuicServer({
    host: '127.0.0.1',
    port: 0,
    tls,
    onSession: (session, info) => {
      serverSessions.push({ session, info });
      const key = info.transport === 'quic' ? `alpn:${info.protocol}` : info.url.pathname;
      (behaviours.get(key) ?? echo)(session, info);
    },
  });
});

afterAll(async () => {
  await server.close();
});

const kinds = [
  {
    name: 'raw QUIC',
    open: (path: string, protocols: readonly string[] = ['moq-lite-04']) =>
      connectQuic(`https://127.0.0.1:${server.port}${path}`, { alpn: protocols, serverCertificateHashes: hashes }),
    /** Raw QUIC carries no path: tests tell their server-side behaviour apart by ALPN. */
    key: (_path: string, protocol = 'moq-lite-04') => `alpn:${protocol}`,
  },
  {
    name: 'WebTransport',
    open: (path: string, protocols: readonly string[] = ['moq-lite-04']) =>
      connectWebTransport(`https://127.0.0.1:${server.port}${path}`, { protocols, serverCertificateHashes: hashes }),
    key: (path: string) => path,
  },
] as const;

describe.each(kinds)('$name', ({ name, open, key }) => {
  it('echoes a bidirectional stream byte-exact and reports the protocol', async () => {
    const session = await open('/echo');
    expect(session.protocol).toBe('moq-lite-04');
    expect(session.transportKind).toBe(name === 'raw QUIC' ? 'quic' : 'webtransport');
    const data = randomBytes(1_500_000);
    const { readable, writable } = await session.createBidirectionalStream();
    const [, back] = await Promise.all([writeAll(writable, data), readAll(readable)]);
    expect(back.equals(data)).toBe(true);
    session.close();
  });

  it('delivers streams the server opens (uni and bidi)', async () => {
    const path = '/server-opens';
    const payloads = [randomBytes(10), randomBytes(70_000), randomBytes(1)];
    behaviours.set(key(path, 'moq-lite-03'), (session) => {
      void (async () => {
        for (const payload of payloads) await writeAll(await session.createUnidirectionalStream({ sendOrder: 100 }), payload);
        const bidi = await session.createBidirectionalStream();
        await writeAll(bidi.writable, Buffer.from('ping'));
        await readAll(bidi.readable);
      })().catch(() => {});
    });
    const session = await open(path, ['moq-lite-03']);
    expect(session.protocol).toBe('moq-lite-03');
    const uni = session.incomingUnidirectionalStreams.getReader();
    const received: Buffer[] = [];
    for (let i = 0; i < payloads.length; i++) received.push(await readAll((await uni.read()).value!));
    expect(received.map((b) => b.toString('hex')).sort()).toEqual(payloads.map((b) => b.toString('hex')).sort());
    const bidi = (await session.incomingBidirectionalStreams.getReader().read()).value!;
    expect((await readAll(bidi.readable)).toString()).toBe('ping');
    await writeAll(bidi.writable, Buffer.from('pong'));
    behaviours.delete(key(path, 'moq-lite-03'));
    session.close();
  });

  it('round-trips datagrams', async () => {
    const session = await open('/datagrams');
    expect(session.datagrams.maxDatagramSize).toBeGreaterThan(1000);
    const reader = session.datagrams.readable.getReader();
    const writer = session.datagrams.writable.getWriter();
    let echoed: Uint8Array | undefined;
    // Datagrams may be dropped (RFC 9221): resend until one comes back.
    const next = reader.read();
    for (let attempt = 0; attempt < 50 && !echoed; attempt++) {
      await writer.write(Buffer.from(`datagram ${attempt}`));
      echoed = await Promise.race([next.then((r) => r.value), new Promise<undefined>((resolve) => setTimeout(resolve, 200))]);
    }
    expect(Buffer.from(echoed!).toString()).toMatch(/^datagram \d+$/);
    session.close();
  });

  it('carries 200 concurrent streams byte-exact', async () => {
    const session = await open('/many');
    const payloads = Array.from({ length: 200 }, (_, i) => randomBytes(1000 + ((i * 7919) % 40_000)));
    const results = await Promise.all(
      payloads.map(async (payload) => {
        const { readable, writable } = await session.createBidirectionalStream();
        const [, back] = await Promise.all([writeAll(writable, payload, 4096), readAll(readable)]);
        return back.equals(payload);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
    session.close();
  });

  it('propagates RESET_STREAM and STOP_SENDING codes', async () => {
    const path = '/resets';
    const seen: Array<number | null> = [];
    let firstBytes = 0;
    behaviours.set(key(path, 'moqt-16'), (session) => {
      void (async () => {
        const streams = session.incomingBidirectionalStreams.getReader();
        // First stream: the client resets it after we have seen some bytes; record the code.
        const first = (await streams.read()).value!;
        const reader = first.readable.getReader();
        try {
          for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) firstBytes += chunk.value.byteLength;
        } catch (error) {
          seen.push((error as WebTransportError).streamErrorCode);
        }
        // Second stream: we stop reading with code 7.
        const second = (await streams.read()).value!;
        await second.readable.cancel(new WebTransportError('enough', { streamErrorCode: 7 }));
      })().catch(() => {});
    });
    const session = await open(path, ['moqt-16']);
    const first = await session.createBidirectionalStream();
    const writer = first.writable.getWriter();
    await writer.write(Buffer.from('partial'));
    // A RESET_STREAM may overtake unsent bytes (and over WebTransport the stream header), so
    // reset only once the server has the stream.
    await expect.poll(() => firstBytes).toBeGreaterThan(0);
    await writer.abort(new WebTransportError('give up', { streamErrorCode: 42 }));
    await expect.poll(() => seen).toEqual([42]);

    const second = await session.createBidirectionalStream();
    const secondWriter = second.writable.getWriter();
    const failure = await (async () => {
      for (;;) await secondWriter.write(new Uint8Array(16 * 1024));
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WebTransportError);
    expect((failure as WebTransportError).streamErrorCode).toBe(7);
    behaviours.delete(key(path, 'moqt-16'));
    session.close();
  });

  it('applies backpressure from QUIC stream capacity', async () => {
    const path = '/backpressure';
    let startReading!: () => void;
    const go = new Promise<void>((resolve) => (startReading = resolve));
    let received = 0;
    behaviours.set(key(path, 'moq-00'), (session) => {
      void (async () => {
        const stream = (await session.incomingBidirectionalStreams.getReader().read()).value!;
        await go;
        received = (await readAll(stream.readable)).byteLength;
      })().catch(() => {});
    });
    const session = await open(path, ['moq-00']);
    const { writable } = await session.createBidirectionalStream();
    const writer = writable.getWriter();
    const chunk = new Uint8Array(64 * 1024);
    const readyWithin = (ms: number) =>
      Promise.race([writer.ready.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
    let queued = 0;
    // Keep writing while the stream says it has room; the peer does not read.
    while (queued < 256 * 1024 * 1024 && (await readyWithin(100))) {
      void writer.write(chunk).catch(() => {});
      queued += chunk.byteLength;
    }
    // QUIC flow control (stream and connection windows) must stop us long before 256 MiB.
    expect(queued).toBeLessThan(64 * 1024 * 1024);
    expect(writer.desiredSize).toBeLessThanOrEqual(0);
    expect(await readyWithin(300)).toBe(false);
    startReading();
    await writer.ready;
    await writer.close();
    await expect.poll(() => received, { timeout: 10_000 }).toBe(queued);
    behaviours.delete(key(path, 'moq-00'));
    session.close();
  });

  it('passes the close code and reason to the server', async () => {
    const before = serverSessions.length;
    const session = await open('/close');
    await expect.poll(() => serverSessions.length).toBeGreaterThan(before);
    const serverSide = serverSessions.at(-1)!.session;
    session.close({ closeCode: 1234, reason: 'see you' });
    expect(await session.closed).toEqual({ closeCode: 1234, reason: 'see you' });
    expect(await serverSide.closed).toEqual({ closeCode: 1234, reason: 'see you' });
  });

  it('delivers a close issued right after the handshake (no close before confirmation)', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = serverSessions.length;
      const session = await open('/close-now');
      session.close({ closeCode: 5, reason: 'now' });
      await expect.poll(() => serverSessions.length).toBeGreaterThan(before);
      expect(await serverSessions.at(-1)!.session.closed).toEqual({ closeCode: 5, reason: 'now' });
    }
  });

  it('negotiates the first protocol of the client that the server speaks', async () => {
    const session = await open('/negotiate', ['not-a-moq-protocol', 'moqt-16', 'moq-lite-04']);
    expect(session.protocol).toBe('moqt-16');
    session.close();
  });
});

describe('WebTransport specifics', () => {
  it('gives the server the URL, query and negotiated protocol; raw QUIC gets root', async () => {
    const before = serverSessions.length;
    const wt = await connectWebTransport(`https://127.0.0.1:${server.port}/live/demo?jwt=abc`, { protocols: ['moql'], serverCertificateHashes: hashes });
    const raw = await connectQuic(`https://127.0.0.1:${server.port}/`, { alpn: 'moql', serverCertificateHashes: hashes });
    await expect.poll(() => serverSessions.length).toBe(before + 2);
    const infos = serverSessions.slice(before).map((entry) => entry.info);
    const wtInfo = infos.find((info) => info.transport === 'webtransport')!;
    expect(wtInfo.url.pathname).toBe('/live/demo');
    expect(wtInfo.url.searchParams.get('jwt')).toBe('abc');
    expect(wtInfo.protocol).toBe('moql');
    expect(wtInfo.remoteAddress).toBe('127.0.0.1');
    const rawInfo = infos.find((info) => info.transport === 'quic')!;
    expect(rawInfo.url.pathname).toBe('/');
    expect(rawInfo.protocol).toBe('moql');
    wt.close();
    raw.close();
  });

  it('carries WT_DRAIN_SESSION from the server to the client', async () => {
    behaviours.set('/drain', (session) => session.drain());
    const session = await connectWebTransport(`https://127.0.0.1:${server.port}/drain`, { serverCertificateHashes: hashes });
    await session.draining;
    await writeAll((await session.createBidirectionalStream()).writable, Buffer.from('still usable'));
    behaviours.delete('/drain');
    session.close();
  });

  it('refuses connections beyond maxConnections', async () => {
    const small = await startQuicServer({ host: '127.0.0.1', port: 0, tls, maxConnections: 1, onSession: () => {} });
    try {
      const first = await connectQuic(`https://127.0.0.1:${small.port}/`, { alpn: 'moql', serverCertificateHashes: hashes });
      await expect(connectQuic(`https://127.0.0.1:${small.port}/`, { alpn: 'moql', serverCertificateHashes: hashes, handshakeTimeoutMs: 1500 })).rejects.toThrow(
        /handshake/,
      );
      expect(small.connections).toBe(1);
      first.close();
    } finally {
      await small.close();
    }
  });

  it('rejects a server whose certificate does not match the hashes', async () => {
    const wrong = [{ algorithm: 'sha-256', value: new Uint8Array(32) }];
    await expect(connectWebTransport(`https://127.0.0.1:${server.port}/`, { serverCertificateHashes: wrong })).rejects.toThrow(/certificate hash/);
    await expect(connectQuic(`https://127.0.0.1:${server.port}/`, { alpn: 'moql', serverCertificateHashes: wrong })).rejects.toThrow(/certificate hash/);
  });

  it('gives up at once on a UDP port nobody listens on (ICMP port unreachable), not at the handshake timeout', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const started = Date.now();
    const dialing = connectQuic(`https://127.0.0.1:${port}/`, { alpn: 'moql', serverCertificateHashes: hashes, handshakeTimeoutMs: 20_000 });
    await expect(dialing).rejects.toThrow(/unreachable/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('is usable as props.transport for @moq/lite connect()', async () => {
    const { Connection } = await import('@moq/lite');
    const session = await connectWebTransport(`https://127.0.0.1:${server.port}/moq`, { protocols: ['moq-lite-04'], serverCertificateHashes: hashes });
    const connection = await Connection.connect(new URL(`https://127.0.0.1:${server.port}/moq`), { transport: session });
    expect(connection.version).toBe('moq-lite-04');
    connection.close();
    await session.closed;
  });
});
