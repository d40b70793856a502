/**
 * QuicConnection's lifecycle with real quiche on both ends (our client dialing our server on
 * loopback): closing from each state, a second close while closing or after the end changing
 * nothing, the application told of the end exactly once, and the stream table refusing new
 * streams once the connection is over.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dial } from '../../src/transport/quic/dial.ts';
import { startQuicServer, type QuicServer, type WebTransportSession } from '../../src/transport/quic/index.ts';
import type { QuicConnection } from '../../src/transport/quic/quic-connection.ts';
import type { ConnectionCloseInfo } from '../../src/transport/quic/quic-errors.ts';
import { createDevCertificate } from '../../src/transport/tls/index.ts';

const tls = createDevCertificate();
const hashes = [{ algorithm: 'sha-256', value: Buffer.from(tls.fingerprintHex, 'hex') }];
let server: QuicServer;
const serverSessions: WebTransportSession[] = [];

beforeAll(async () => {
  server = await startQuicServer({ host: '127.0.0.1', port: 0, tls, onSession: (session) => serverSessions.push(session) });
});

afterAll(async () => {
  await server.close();
});

/** A connected client whose handler records every onClosed call. */
async function connect(): Promise<{ connection: QuicConnection; closes: ConnectionCloseInfo[] }> {
  const sessionsBefore = serverSessions.length;
  const connection = await dial(new URL(`https://127.0.0.1:${server.port}/`), { alpns: ['moq-lite-04'], serverCertificateHashes: hashes });
  const closes: ConnectionCloseInfo[] = [];
  connection.handler = { onStream: () => {}, onDatagram: () => {}, onClosed: (info) => closes.push(info) };
  // The server hands out its session once its side of the handshake is done too.
  await expect.poll(() => serverSessions.length).toBeGreaterThan(sessionsBefore);
  return { connection, closes };
}

describe('QUIC connection lifecycle', () => {
  it('an application close from established reaches the peer with its code and ends in closed', async () => {
    const { connection, closes } = await connect();
    const serverSession = serverSessions.at(-1)!;
    expect(connection.state).toBe('established');
    expect(connection.openStream(true)).toBeDefined();

    // A client's close may wait for handshake confirmation (RFC 9000 §10.2.3), so no state is asserted in between.
    connection.close(true, 0x2a, 'bye');
    const info = await connection.closed;
    expect(info).toEqual({ initiator: 'local', isApplication: true, code: 0x2a, reason: 'bye' });
    expect(connection.state).toBe('closed');
    expect(connection.isFinished).toBe(true);
    expect(closes).toEqual([info]);
    await expect(serverSession.closed).resolves.toEqual({ closeCode: 0x2a, reason: 'bye' });

    // Over: the stream table opens nothing, and a late close changes nothing.
    expect(connection.openStream(true)).toBeUndefined();
    await expect(connection.openStreamWhenAllowed(false)).rejects.toThrow('connection closed');
    connection.close(true, 0x2b, 'late');
    connection.abandon('late');
    expect(connection.closeInfo).toEqual(info);
    expect(closes).toHaveLength(1);
  });

  it('a transport close enters closing at once; closes while closing are ignored', async () => {
    const { connection, closes } = await connect();
    connection.close(false, 0x0a, 'first');
    expect(connection.state).toBe('closing');
    connection.close(false, 0x0b, 'second');
    connection.close(true, 0x03, 'third');
    const info = await connection.closed;
    expect(info).toEqual({ initiator: 'local', isApplication: false, code: 0x0a, reason: 'first' });
    expect(closes).toEqual([info]);
  });

  it('a peer close drains, tells the application once, then closes', async () => {
    const { connection, closes } = await connect();
    serverSessions.at(-1)!.close({ closeCode: 7, reason: 'server bye' });
    await expect.poll(() => closes.length).toBe(1);
    expect(closes[0]).toEqual({ initiator: 'peer', isApplication: true, code: 7, reason: 'server bye' });
    expect(['draining', 'closed']).toContain(connection.state);
    // While draining (RFC 9000 §10.2.2) nothing may be sent: no close, no new stream.
    connection.close(true, 0x2c, 'too late');
    expect(connection.openStream(false)).toBeUndefined();
    await expect(connection.closed).resolves.toEqual(closes[0]);
    expect(connection.state).toBe('closed');
    expect(closes).toHaveLength(1);
  });

  it('abandon from established ends at once with its reason and fails open streams', async () => {
    const { connection, closes } = await connect();
    const stream = connection.openStream(true)!;
    const terminated = new Promise<Error>((resolve) => (stream.onTerminated = resolve));
    connection.abandon('peer unreachable');
    expect(connection.state).toBe('closed');
    const info = await connection.closed;
    expect(info).toEqual({ initiator: 'timeout', isApplication: false, code: 0, reason: 'peer unreachable' });
    expect(closes).toEqual([info]);
    expect((await terminated).message).toContain('peer unreachable');
  });

  it('closes from handshaking when the handshake times out', async () => {
    // A UDP socket that swallows every Initial: the handshake never completes.
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const url = new URL(`https://127.0.0.1:${silent.address().port}/`);
      await expect(dial(url, { alpns: ['moq-lite-04'], serverCertificateHashes: hashes, handshakeTimeoutMs: 300 })).rejects.toThrow('handshake timeout');
    } finally {
      silent.close();
    }
  });
});
