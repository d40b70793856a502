/**
 * Every configurable limit trips for the offending session only, with a clear reason, and the
 * gateway keeps serving everyone else; a flood of half-open connections does not stop a
 * legitimate publisher and viewer.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import { WebSocket } from 'ws';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';
import type { GatewayConfig } from '../../app/config.ts';
const tools = haveTools('ffmpeg');
const path = (value: string) => value as Moq.Path.Valid;

const cleanups: (() => unknown)[] = [];
beforeAll(() => {
  for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function gateway(overrides: Partial<GatewayConfig>) {
  const gw = await startGateway(overrides);
  cleanups.push(gw.stop);
  return gw;
}

async function connect(httpUrl: string): Promise<Moq.Connection.Established> {
  const c = await within(Moq.Connection.connect(new URL(`${httpUrl}/`)), 'connect');
  cleanups.push(() => c.close());
  return c;
}

function ffmpeg(rtmpUrl: string, seconds: number, extra: string[] = []): { exited: Promise<number | null>; kill: () => void } {
  const child = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=15:duration=${seconds}`,
    ...extra, '-c:v', 'libx264', '-g', '15', '-f', 'flv', rtmpUrl,
  ]);
  cleanups.push(() => child.kill('SIGKILL'));
  return { exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))), kill: () => child.kill('SIGKILL') };
}

/** A relay subscriber sees frames of `name` (proves the gateway still serves). */
async function stillServes(httpUrl: string, name: string): Promise<void> {
  const viewer = await connect(httpUrl);
  const track = viewer.consume(path(name)).subscribe('video', 60);
  const group = await within(track.nextGroupOrdered(), `a group of ${name}`, 10_000);
  expect(await within(group!.readFrame(), 'a frame')).toBeDefined();
  track.close();
}

function upgradeStatus(wsUrl: string): Promise<number> {
  const ws = new WebSocket(`${wsUrl}/`, ['qmux-00.moq-lite-04']);
  return new Promise((resolve) => {
    ws.once('open', () => {
      cleanups.push(() => ws.terminate());
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

describe.skipIf(!tools)('limits', () => {
  it('sessions per address: one more MoQ session or RTMP publish is refused; freeing a slot lets it in', async () => {
    const gw = await gateway({ sessionsPerIp: 2 });
    const first = await connect(gw.httpUrl);
    await connect(gw.httpUrl);
    expect(await upgradeStatus(gw.wsUrl)).toBe(429);
    expect(await ffmpeg(`${gw.rtmpUrl}/live/over`, 1).exited).not.toBe(0);
    first.close();
    await until(async () => (await upgradeStatus(gw.wsUrl)) === 101, 'a slot frees up');
  });

  it('broadcasts: one more publish is refused, the first keeps flowing', async () => {
    const gw = await gateway({ maxBroadcasts: 1 });
    ffmpeg(`${gw.rtmpUrl}/live/one`, 20);
    await until(() => gw.gateway.origin.get('live/one')?.getTrack('video') !== undefined, 'first broadcast', 10_000);
    expect(await ffmpeg(`${gw.rtmpUrl}/live/two`, 2).exited).not.toBe(0);
    expect(gw.gateway.origin.get('live/two')).toBeUndefined();
    await stillServes(gw.httpUrl, 'live/one');
  });

  it('tracks per broadcast: a publisher needing more tracks is closed, a smaller one works', async () => {
    const gw = await gateway({ maxTracksPerBroadcast: 2 }); // catalog.json + video
    expect(await ffmpeg(`${gw.rtmpUrl}/live/av`, 3, ['-f', 'lavfi', '-i', 'sine=duration=3', '-c:a', 'aac']).exited).not.toBe(0);
    ffmpeg(`${gw.rtmpUrl}/live/v`, 20);
    await until(() => gw.gateway.origin.get('live/v')?.getTrack('video') !== undefined, 'video-only broadcast', 10_000);
    await stillServes(gw.httpUrl, 'live/v');
  });

  it('frame size: an RTMP message over the limit closes that publisher only', async () => {
    const gw = await gateway({ maxFrameBytes: 4096 });
    ffmpeg(`${gw.rtmpUrl}/live/small`, 20, ['-s', '16x16']);
    await until(() => gw.gateway.origin.get('live/small')?.getTrack('video') !== undefined, 'small broadcast', 10_000);
    // A 1280x720 keyframe is far larger than 4 KiB.
    expect(await ffmpeg(`${gw.rtmpUrl}/live/big`, 3, ['-s', '1280x720']).exited).not.toBe(0);
    await stillServes(gw.httpUrl, 'live/small');
  });

  it('control messages: an oversized SUBSCRIBE closes that session only', async () => {
    const gw = await gateway({ maxControlMessageBytes: 256 });
    ffmpeg(`${gw.rtmpUrl}/live/ctl`, 20);
    await until(() => gw.gateway.origin.get('live/ctl')?.getTrack('video') !== undefined, 'broadcast', 10_000);
    const offender = await connect(gw.httpUrl);
    offender.consume(path('live/ctl')).subscribe('x'.repeat(1000), 60);
    await within(offender.closed, 'offending session closed');
    await stillServes(gw.httpUrl, 'live/ctl');
  });

  it('handshake timeout: silent RTMP and MoQ connections are closed', async () => {
    const gw = await gateway({ handshakeTimeout: 500 });
    const rtmp = net.connect(Number(new URL(gw.rtmpUrl).port), '127.0.0.1');
    cleanups.push(() => rtmp.destroy());
    const started = Date.now();
    await within(new Promise((resolve) => rtmp.once('close', resolve)), 'RTMP closed without a handshake', 5000);
    expect(Date.now() - started).toBeLessThan(3000);
    // moql WebSocket session that never sends SETUP.
    const ws = new WebSocket(`${gw.wsUrl}/`, ['qmux-00.moql']);
    cleanups.push(() => ws.terminate());
    await within(new Promise((resolve) => ws.once('close', resolve)), 'MoQ closed without SETUP', 5000);
  });

  it('handshake timeout: a half-sent HTTP request header gets 408 and is closed on time', async () => {
    const gw = await gateway({ handshakeTimeout: 1000 });
    const socket = net.connect(Number(new URL(gw.httpUrl).port), '127.0.0.1');
    cleanups.push(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '); // never finished
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    await within(new Promise((resolve) => socket.once('close', resolve)), 'half-sent header closed', 10_000);
    const elapsed = Date.now() - started;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    // Node's default sweep (every 30 s) closed it anywhere from 1 s to 31 s after the limit.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2500);
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
  });

  it('handshake timeout: a WebSocket that never sends SETUP nor answers the close is closed on time', async () => {
    const gw = await gateway({ handshakeTimeout: 1000 });
    const serverConnections = () => new Promise<number>((resolve) => gw.gateway.http.server.getConnections((_, n) => resolve(n)));
    // A raw client: upgrades, then never sends a byte (no MoQ SETUP, no WebSocket close reply).
    // `halfOpen`: it does not even end its side when the server ends its own.
    const rawClient = async (halfOpen: boolean) => {
      const socket = net.connect({ port: Number(new URL(gw.httpUrl).port), host: '127.0.0.1', allowHalfOpen: halfOpen });
      cleanups.push(() => socket.destroy());
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      const key = Buffer.from('0123456789abcdef').toString('base64');
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: qmux-00.moql\r\n\r\n`);
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
      const started = Date.now();
      await within(new Promise((resolve) => socket.once(halfOpen ? 'end' : 'close', resolve)), 'the server ends the TCP connection after the MoQ handshake timeout', 10_000);
      const ended = Date.now() - started;
      await until(async () => (await serverConnections()) === 0, 'the server let the TCP connection go', 10_000);
      return { ended, gone: Date.now() - started, received };
    };
    // ws waited 30 s for the client's close frame before it let the TCP connection go.
    const plain = await rawClient(false);
    expect(plain.received.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    // RFC 6455 §5.5.1: a close frame (FIN + opcode 8) before the connection ends.
    expect(plain.received.includes(0x88), 'a WebSocket close frame was sent').toBe(true);
    expect(plain.ended).toBeGreaterThanOrEqual(900);
    expect(plain.ended).toBeLessThan(2500);
    expect(plain.gone).toBeLessThan(2500);
    const halfOpen = await rawClient(true);
    expect(halfOpen.ended).toBeGreaterThanOrEqual(900);
    expect(halfOpen.ended).toBeLessThan(2500);
    expect(halfOpen.gone, 'a half-open client is let go after a short grace').toBeLessThan(3500);
  });

  it('HTTP body size: an oversized WHIP offer is 413 and the server keeps answering', async () => {
    const gw = await gateway({ maxHttpBodyBytes: 1024 });
    const res = await fetch(`${gw.httpUrl}/whip/live/x`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n'.repeat(1000) });
    expect(res.status).toBe(413);
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
  });

  it('a flood of half-open TCP connections does not stop a publisher and a viewer', async () => {
    const gw = await gateway({ handshakeTimeout: 20_000 });
    const ports = [Number(new URL(gw.rtmpUrl).port), Number(new URL(gw.httpUrl).port)];
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 400; i++) {
      const socket = net.connect(ports[i % 2]!, '127.0.0.1');
      socket.on('error', () => undefined);
      sockets.push(socket);
    }
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
    });
    await until(() => sockets.filter((s) => s.readyState === 'open').length === 400, 'flood connected');
    ffmpeg(`${gw.rtmpUrl}/live/flooded`, 20);
    await until(() => gw.gateway.origin.get('live/flooded')?.getTrack('video') !== undefined, 'publish during the flood', 15_000);
    await stillServes(gw.httpUrl, 'live/flooded');
  });
});

describe('QUIC half-open flood', () => {
  it('400 QUIC Initials that never finish the handshake do not stop a QUIC viewer', async () => {
    const { createSocket } = await import('node:dgram');
    const { randomBytes } = await import('node:crypto');
    const { connectQuic } = await import('../../src/transport/quic/index.ts');
    const { connectLite } = await import('../../src/moq/lite/client.ts');
    const gw = await gateway({ handshakeTimeout: 20_000 });
    const port = gw.gateway.ports.http;
    // Long-header Initial packets (QUIC v1) with fresh random connection ids: each looks like a
    // new client to the server, and none ever completes (the payload is noise).
    const flood = createSocket('udp4');
    cleanups.push(() => flood.close());
    for (let i = 0; i < 400; i++) {
      const packet = Buffer.concat([Buffer.from([0xc3, 0, 0, 0, 1, 8]), randomBytes(8), Buffer.from([8]), randomBytes(8), Buffer.from([0]), Buffer.from([0x44, 0xd0]), randomBytes(1232)]);
      await new Promise<void>((resolve) => flood.send(packet, port, '127.0.0.1', () => resolve()));
    }
    const broadcast = new Moq.Broadcast();
    const publisher = await connect(gw.httpUrl);
    publisher.publish(path('live/quic-flood'), broadcast);
    await until(() => gw.gateway.origin.get('live/quic-flood') !== undefined, 'publisher announced');
    const hex = await (await fetch(`${gw.httpUrl}/certificate.sha256`)).text();
    const session = await within(connectQuic(`https://127.0.0.1:${port}/`, { alpn: 'moq-lite-04', serverCertificateHashes: [{ algorithm: 'sha-256', value: Buffer.from(hex, 'hex') }] }), 'QUIC viewer connects during the flood', 10_000);
    const viewer = await within(connectLite(`${gw.httpUrl}/`, { transport: session }), 'lite over QUIC');
    cleanups.push(() => viewer.close());
    const subscription = viewer.subscribe('live/quic-flood', 'video').subscribe();
    const request = await within(broadcast.requested(), 'upstream request');
    const group = request!.track.appendGroup();
    group.writeFrame(new Uint8Array([7, 7, 7]));
    group.close();
    const got = await within(subscription.nextGroup(), 'a group over QUIC', 10_000);
    expect([...(await within(got!.reader().readFrame(), 'frame'))!]).toEqual([7, 7, 7]);
  });
});
