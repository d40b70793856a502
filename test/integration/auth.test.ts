/**
 * Authentication end to end: with a key configured, RTMP and moq-lite (WebSocket) refuse
 * what the token does not grant, scopes are by path, and an expired token disconnects.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import { WebSocket } from 'ws';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import { connectLite } from '../../src/moq/lite/client.ts';
import { requestErrorCode } from '../../src/moq/ietf/errors.ts';
import { RawIetfClient } from '../helpers/ietf-raw-client.ts';
import { Broadcast } from '../../src/relay/index.ts';
import { connectQuic, connectWebTransport } from '../../src/transport/quic/index.ts';
const tools = haveTools('ffmpeg');
const SECRET = 'test-secret-that-is-at-least-32-bytes-long!';
const utf8 = (value: string): Uint8Array => new TextEncoder().encode(value);
const path = (value: string) => value as Moq.Path.Valid;

let gw: Awaited<ReturnType<typeof startGateway>>;
const connections: Moq.Connection.Established[] = [];
const cleanups: (() => unknown)[] = [];

async function token(claims: { root: string; put?: string; get?: string }, expiresInSeconds = 3600): Promise<string> {
  const key = await loadSigningKey(SECRET);
  return mintToken(key, { ...claims, expiresAt: Math.floor(Date.now() / 1000) + expiresInSeconds });
}

beforeAll(async () => {
  for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  gw = await startGateway({ authKey: SECRET });
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  for (const c of connections) c.close();
  await gw?.stop();
});

function ffmpegPush(url: string): Promise<number | null> {
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=1', '-c:v', 'libx264', '-f', 'flv', url]);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function connect(jwt?: string): Promise<Moq.Connection.Established> {
  const url = new URL(`${gw.httpUrl}/`);
  if (jwt) url.searchParams.set('jwt', jwt);
  const c = await within(Moq.Connection.connect(url), 'connect');
  connections.push(c);
  return c;
}

function upgradeStatus(query: string): Promise<number> {
  const ws = new WebSocket(`${gw.wsUrl}/${query}`, ['qmux-00.moq-lite-04']);
  return new Promise((resolve) => {
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

describe('moq-lite over WebSocket', () => {
  it('refuses a connection without a token, or with a bad one, at the upgrade', async () => {
    expect(await upgradeStatus('')).toBe(401);
    expect(await upgradeStatus('?jwt=not.a.token')).toBe(401);
    expect(await upgradeStatus(`?jwt=${await token({ root: 'live', get: '' })}`)).toBe(101);
  });

  it('a token scoped to live/a may publish live/a but not live/b', async () => {
    const publisher = await connect(await token({ root: 'live', put: 'a' }));
    publisher.publish(path('live/a'), new Moq.Broadcast());
    publisher.publish(path('live/b'), new Moq.Broadcast());
    await until(() => gw.gateway.origin.get('live/a') !== undefined, 'live/a published');
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.gateway.origin.get('live/b')).toBeUndefined();
  });

  it('a token may subscribe only where it grants get', async () => {
    const viewer = await connect(await token({ root: 'live', get: 'a' }));
    const allowed = viewer.consume(path('live/a')).subscribe('video', 60);
    const refused = viewer.consume(path('live/secret')).subscribe('video', 60);
    await expect(within(refused.nextGroupOrdered(), 'refused subscribe')).rejects.toThrow();
    allowed.close();
  });

  it('an expired token disconnects the session', async () => {
    const viewer = await connect(await token({ root: 'live', get: '' }, 2));
    await within(viewer.closed, 'session closed at expiry', 6000);
  });
});

describe('moq-lite over WebTransport (HTTP/3)', () => {
  const hash = async () => ({ algorithm: 'sha-256' as const, value: Buffer.from(await (await fetch(`${gw.httpUrl}/certificate.sha256`)).text(), 'hex') });
  const dial = async (query: string) =>
    connectWebTransport(`https://127.0.0.1:${gw.gateway.ports.http}/${query}`, { protocols: ['moq-lite-04'], serverCertificateHashes: [await hash()] });

  it('refuses the CONNECT without a valid token, and a scoped token may only watch its path', async () => {
    await expect(within(dial(''), 'CONNECT without a token')).rejects.toThrow(/401/);
    await expect(within(dial('?jwt=bad'), 'CONNECT with a bad token')).rejects.toThrow(/401/);
    const session = await within(dial(`?jwt=${await token({ root: 'live', get: 'a' })}`), 'CONNECT with a token');
    const client = await within(connectLite(`${gw.httpUrl}/`, { transport: session }), 'lite over WebTransport');
    cleanups.push(() => client.close());
    const refused = client.subscribe('live/secret', 'video').subscribe();
    await expect(within(refused.nextGroup(), 'refused subscribe')).rejects.toThrow();
  });
});

describe('moq-lite over raw QUIC (moql: token and root in the SETUP PATH parameter)', () => {
  const hash = async () => ({ algorithm: 'sha-256' as const, value: Buffer.from(await (await fetch(`${gw.httpUrl}/certificate.sha256`)).text(), 'hex') });
  const quicUrl = (pathAndQuery: string) => `https://127.0.0.1:${gw.gateway.ports.http}${pathAndQuery}`;
  const connectRaw = async (pathAndQuery: string) => {
    const url = quicUrl(pathAndQuery);
    const client = await within(connectLite(url, { transport: await connectQuic(url, { alpn: ['moql'], serverCertificateHashes: [await hash()] }) }), 'lite over raw QUIC');
    cleanups.push(() => client.close());
    return client;
  };

  it('a token in PATH grants what it says, relative to the path as root', async () => {
    const broadcast = new Broadcast('live/quic');
    const source = broadcast.createTrack('video');
    gw.gateway.origin.publish(broadcast);
    cleanups.push(() => broadcast.close());
    const client = await connectRaw(`/live?jwt=${await token({ root: 'live', get: 'quic' })}`);
    const subscription = client.subscribe('quic', 'video').subscribe();
    await until(() => source.subscriberCount === 1, 'subscription reached live/quic');
    const group = source.appendGroup();
    group.writeFrame(new Uint8Array([4, 2]));
    group.close();
    const frame = await within(within(subscription.nextGroup(), 'group').then((g) => g!.reader().readFrame()), 'frame');
    expect(frame).toEqual(new Uint8Array([4, 2]));
    const refused = client.subscribe('secret', 'video').subscribe();
    await expect(within(refused.nextGroup(), 'refused subscribe')).rejects.toThrow();
  });

  it('refuses a session without a token, with a bad one, or with a PATH that is not an absolute path', async () => {
    await expect(within(connectRaw('/'), 'no token')).rejects.toThrow(/missing token/);
    await expect(within(connectRaw('/?jwt=bad'), 'bad token')).rejects.toThrow(/code 2/);
    await expect(within(connectRaw(`//evil.example/live?jwt=${await token({ root: '', get: '' })}`), 'malformed PATH')).rejects.toThrow(/PATH/);
  });
});

describe('IETF moqt-16 over raw QUIC (token in the CLIENT_SETUP PATH parameter)', () => {
  const dial = async () => {
    const hash = Buffer.from(await (await fetch(`${gw.httpUrl}/certificate.sha256`)).text(), 'hex');
    return connectQuic(`https://127.0.0.1:${gw.gateway.ports.http}/`, { alpn: 'moqt-16', serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] });
  };

  it('accepts the session with a token in PATH and applies its scope to SUBSCRIBE', async () => {
    const client = await within(RawIetfClient.over(await dial(), 'draft-16', { path: `/?jwt=${await token({ root: 'live', get: 'ok' })}` }), 'SETUP');
    cleanups.push(() => client.close());
    const refused = client.requestId();
    await client.send({ type: 'subscribe', requestId: refused, namespace: [utf8('live'), utf8('secret')], name: utf8('video'), subscriberPriority: 0, forward: true, filter: { type: 'largestObject' }, parameters: { authorizationTokens: [] } });
    expect((await client.next('request_error', (m) => m.requestId === refused)).code).toBe(requestErrorCode('draft-16', 'subscribe', 'unauthorized'));
    const allowed = client.requestId();
    await client.send({ type: 'subscribe', requestId: allowed, namespace: [utf8('live'), utf8('ok')], name: utf8('video'), subscriberPriority: 0, forward: true, filter: { type: 'largestObject' }, parameters: { authorizationTokens: [] } });
    // Authorized: refused only because nothing is published there.
    expect((await client.next('request_error', (m) => m.requestId === allowed)).code).toBe(requestErrorCode('draft-16', 'subscribe', 'doesNotExist'));
  });

  it('closes the session when PATH carries no token', async () => {
    const session = await dial();
    void RawIetfClient.over(session, 'draft-16', { path: '/' }).catch(() => undefined);
    expect(await within(session.closed, 'session closed')).toMatchObject({ closeCode: 2, reason: expect.stringMatching(/missing token/) });
  });
});

describe('HTTP API', () => {
  it('needs an operator token when auth is on', async () => {
    const get = (headers: Record<string, string> = {}) => fetch(`${gw.httpUrl}/api/broadcasts`, { headers }).then((r) => r.status);
    expect(await get()).toBe(401);
    expect(await get({ authorization: `Bearer ${await token({ root: 'live', get: '' })}` })).toBe(403);
    expect(await get({ authorization: `Bearer ${await token({ root: '', put: '', get: '' })}` })).toBe(200);
  });
});

describe.skipIf(!tools)('RTMP', () => {
  it('refuses a publish without a valid token and accepts one with it', async () => {
    expect(await ffmpegPush(`${gw.rtmpUrl}/live/rtmp`)).not.toBe(0);
    expect(await ffmpegPush(`${gw.rtmpUrl}/live/rtmp?jwt=${await token({ root: 'live', put: 'other' })}`)).not.toBe(0);
    const good = ffmpegPush(`${gw.rtmpUrl}/live/rtmp?jwt=${await token({ root: 'live', put: 'rtmp' })}`);
    await until(() => gw.gateway.origin.get('live/rtmp') !== undefined, 'authorized RTMP publish', 10_000);
    expect(await good).toBe(0);
  });
});
