/**
 * The cluster's Redis records against a real redis-server: ownership rules of register, refresh
 * (heartbeat) and unregister, expiry, announcements on the channel, and scans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys, decodeAnnounce, type AnnounceMessage } from '../../src/cluster/records.ts';
import { Registrar } from '../../src/cluster/registrar.ts';
import { RedisConnection } from '../../src/cluster/redis-connection.ts';
import { ClusterError } from '../../src/cluster/errors.ts';
import { until, within } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';

const tools = haveTools('redis-server');
let server: ChildProcess | undefined;
let url = '';
let redis: Redis;
let listener: Redis;
const heard: AnnounceMessage[] = [];
const keys = new ClusterKeys('test:');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  if (!tools) return;
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  server = child;
  let output = '';
  await within(
    new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
    }),
    'redis-server start',
  );
  redis = new Redis(url);
  listener = new Redis(url);
  listener.on('message', (_channel: string, raw: string) => {
    const message = decodeAnnounce(raw);
    if (message) heard.push(message);
  });
  await listener.subscribe(keys.channel);
});

afterAll(async () => {
  redis?.disconnect();
  listener?.disconnect();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  }
});

describe.skipIf(!tools)('cluster registrations in Redis', () => {
  it('newest publisher wins; heartbeats and ends touch only what is ours', async () => {
    const a = new Registrar(redis, keys, { node: 'a', url: 'http://a:1/' }, 5000);
    const b = new Registrar(redis, keys, { node: 'b', url: 'http://b:1/' }, 5000);
    await a.register('live/x');
    await until(() => heard.some((m) => m.path === 'live/x' && m.node === 'a' && m.active), 'announced');
    expect(await a.refresh(['live/x', 'live/gone'])).toEqual(
      new Map([
        ['live/x', 'refreshed'],
        ['live/gone', 'created'], // vanished (Redis restarted empty): recreated and announced
      ]),
    );
    await until(() => heard.some((m) => m.path === 'live/gone' && m.active), 'recreated key announced');

    await b.register('live/x'); // published again on b
    expect(await a.refresh(['live/x'])).toEqual(new Map([['live/x', 'taken']]));
    expect(await a.unregister('live/x')).toBe(false);
    expect(await redis.get(keys.broadcast('live/x'))).toContain('"node":"b"');

    const all = await a.scan(100);
    expect(all.map((r) => `${r.path}@${r.node}`).sort()).toEqual(['live/gone@a', 'live/x@b']);
    expect(await a.scan(1)).toHaveLength(1);

    expect(await b.unregister('live/x')).toBe(true);
    await until(() => heard.some((m) => m.path === 'live/x' && m.node === 'b' && !m.active), 'end announced');
    expect(await redis.exists(keys.broadcast('live/x'))).toBe(0);
  });

  it('a restarted node clears what its earlier run left behind, whatever its URL was', async () => {
    const before = new Registrar(redis, keys, { node: 'n', url: 'http://n:1/' }, 5000);
    const after = new Registrar(redis, keys, { node: 'n', url: 'http://n:2/' }, 5000);
    await before.register('live/stale');
    expect(await after.unregister('live/stale')).toBe(false);
    expect(await after.unregister('live/stale', { node: 'n', url: 'http://n:1/' })).toBe(true);
  });

  it('registrations expire without a heartbeat', async () => {
    const short = new Registrar(redis, keys, { node: 's', url: 'http://s:1/' }, 300);
    await short.register('live/short');
    expect(await redis.pttl(keys.broadcast('live/short'))).toBeGreaterThan(0);
    await until(async () => (await redis.exists(keys.broadcast('live/short'))) === 0, 'expired', 3000);
  });

  it('an unreachable Redis is a ClusterError naming the URL, with nothing left retrying', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const connection = new RedisConnection({ url: dead, connectTimeoutMs: 1000, maxBackoffMs: 200, onLost: () => undefined, onRestored: () => undefined });
    const error = await connection.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect(String(error)).toContain(`cannot reach Redis at ${dead}`);
    let attempts = 0;
    for (const client of [connection.commands, connection.subscriber]) client.on('connecting', () => attempts++).on('connect', () => attempts++);
    await new Promise((resolve) => setTimeout(resolve, 800)); // 4 backoff periods
    expect(attempts).toBe(0);
  });
});
