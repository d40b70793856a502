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
import { installMoqClientPolyfills } from '../helpers/polyfills.ts';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';
import type { GatewayConfig } from '../../src/config.ts';

installMoqClientPolyfills();
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
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    await until(() => sockets.filter((s) => s.readyState === 'open').length === 400, 'flood connected');
    ffmpeg(`${gw.rtmpUrl}/live/flooded`, 20);
    await until(() => gw.gateway.origin.get('live/flooded')?.getTrack('video') !== undefined, 'publish during the flood', 15_000);
    await stillServes(gw.httpUrl, 'live/flooded');
  });
});
