/**
 * The moq-lite client on a transport the caller dialled: raw QUIC (ALPN moq-lite-04/03) and
 * WebTransport over HTTP/3, both from src/transport/quic, against our server session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broadcast, Origin, type Track } from '../../src/relay/index.ts';
import { serveLiteSession } from '../../src/moq/lite/index.ts';
import { connectLite } from '../../src/moq/lite/client.ts';
import { connectQuic, connectWebTransport, startQuicServer, type QuicServer } from '../../src/transport/quic/index.ts';
import { createDevCertificate } from '../../src/transport/tls/index.ts';
import { until, within } from '../helpers/gateway.ts';

const tls = createDevCertificate();
const serverCertificateHashes = [{ algorithm: 'sha-256', value: Buffer.from(tls.fingerprintHex, 'hex') }];
const origin = new Origin();
let server: QuicServer;

beforeAll(async () => {
  server = await startQuicServer({
    host: '127.0.0.1',
    port: 0,
    tls,
    onSession: (session, info) => void serveLiteSession(session, { protocol: info.protocol, origin, root: '' }),
  });
});

afterAll(async () => {
  await server?.close();
});

async function firstGroup(track: Track): Promise<Uint8Array[]> {
  const subscription = track.subscribe();
  const group = await subscription.nextGroup();
  const frames: Uint8Array[] = [];
  const reader = group!.reader();
  for (let frame = await reader.readFrame(); frame; frame = await reader.readFrame()) frames.push(frame);
  subscription.close();
  return frames;
}

describe.each([
  { name: 'raw QUIC moq-lite-04', dial: (url: string) => connectQuic(url, { alpn: ['moq-lite-04'], serverCertificateHashes }), version: 'moq-lite-04' },
  { name: 'raw QUIC moq-lite-03', dial: (url: string) => connectQuic(url, { alpn: ['moq-lite-03'], serverCertificateHashes }), version: 'moq-lite-03' },
  { name: 'WebTransport', dial: (url: string) => connectWebTransport(url, { protocols: ['moq-lite-04'], serverCertificateHashes }), version: 'moq-lite-04' },
])('lite client over $name', ({ name, dial, version }) => {
  it('subscribes and receives a group', async () => {
    const path = `quic/${name.replace(/\W+/g, '-')}`;
    const broadcast = new Broadcast(path);
    const source = broadcast.createTrack('video');
    origin.publish(broadcast);
    const url = `https://127.0.0.1:${server.port}/`;
    const client = await within(connectLite(url, { transport: await dial(url) }), 'connect');
    try {
      expect(client.stats().version).toBe(version);
      const track = client.subscribe(path, 'video', 60);
      const receiving = firstGroup(track);
      await until(() => source.subscriberCount === 1, 'served');
      const group = source.appendGroup();
      const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(20_000).fill(7)];
      for (const frame of frames) group.writeFrame(frame);
      group.close();
      expect(await within(receiving, 'group')).toEqual(frames);
    } finally {
      client.close();
      broadcast.close();
    }
  });
});
