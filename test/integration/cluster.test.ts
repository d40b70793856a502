/**
 * Three gateway nodes (child processes running test/helpers/cluster-node.ts) sharing a real
 * redis-server on a free loopback port, with ffmpeg publishing over RTMP and the published
 * @moq/lite client watching: cross-node delivery, one upstream per track, origin loss, a new
 * origin for the same name, and Redis outages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import { connectLite, type LiteClient } from '../../src/moq/lite/client.ts';
import { RelayErrorCode, type Announcement } from '../../src/relay/index.ts';
import { loadSigningKey } from '../../src/auth/keys.ts';
import { mintToken } from '../../src/auth/mint.ts';
import { until, within } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';
const tools = haveTools('ffmpeg', 'redis-server');
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TTL_MS = 3000;
/** Auth is on: nodes show each other node tokens; the test uses an operator token. */
const AUTH_KEY = 'cluster-test-shared-secret-0123456789';
const path = (value: string) => value as Moq.Path.Valid;

const children = new Set<ChildProcess>();
const connections: Moq.Connection.Established[] = [];
const liteClients: LiteClient[] = [];

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

// ---------------------------------------------------------------------------------------------
// redis-server

interface RedisServer {
  port: number;
  url: string;
  kill(): Promise<void>;
}

async function startRedis(port: number): Promise<RedisServer> {
  const child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  await within(
    new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
    }),
    'redis-server start',
  );
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async () => {
      child.kill('SIGKILL');
      await exitOf(child);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// gateway nodes

interface Node {
  id: string;
  url: string;
  rtmpUrl(name: string): string;
  logs: string[];
  child: ChildProcess;
  stats(): Promise<NodeStats>;
}

interface NodeStats {
  redis: string;
  localBroadcasts: number;
  remoteBroadcasts: { path: string; node: string }[];
  nodeConnections: number;
  upstreamSubscriptions: number;
  upstreamSubscriptionsOpened: number;
}

function spawnNode(id: string, redisUrl: string): { child: ChildProcess; logs: string[]; stderr: () => string } {
  const child = track(
    spawn(
      process.execPath,
      [
        '--import', 'tsx', 'app/cli.ts', '--workers', '1', '--host', '127.0.0.1', '--port', '0', '--rtmp-port', '0', '--log-format', 'json',
        '--reconnect-grace', '500', '--cluster-redis', redisUrl, '--node-id', id, '--cluster-ttl', String(TTL_MS),
        '--auth-key', AUTH_KEY, '--auth-public-publish', 'live',
      ],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  const logs: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines);
    if (logs.length > 2000) logs.splice(0, logs.length - 2000);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return { child, logs, stderr: () => stderr };
}

async function startNode(id: string, redisUrl: string): Promise<Node> {
  const { child, logs, stderr } = spawnNode(id, redisUrl);
  await until(() => logs.some((line) => line.includes('moq-gateway listening')) || child.exitCode !== null, `node ${id} start`, 20_000);
  const line = logs.find((l) => l.includes('moq-gateway listening'));
  if (!line) throw new Error(`node ${id} did not start: ${stderr()}`);
  const ports = JSON.parse(line) as { http: number; rtmp: number };
  const url = `http://127.0.0.1:${ports.http}`;
  return {
    id,
    url,
    rtmpUrl: (name) => `rtmp://127.0.0.1:${ports.rtmp}/${name}`,
    logs,
    child,
    stats: async () => (await (await fetch(`${url}/api/cluster`, { headers: { authorization: `Bearer ${operatorToken}` } })).json()) as NodeStats,
  };
}

interface ApiBroadcast {
  path: string;
  tracks: { name: string; subscribers: number }[];
}

async function broadcastsOf(node: Node): Promise<ApiBroadcast[]> {
  const body = (await (await fetch(`${node.url}/api/broadcasts`, { headers: { authorization: `Bearer ${operatorToken}` } })).json()) as { broadcasts: ApiBroadcast[] };
  return body.broadcasts;
}

async function waitForTracks(node: Node, name: string): Promise<void> {
  await until(
    async () => {
      const tracks = (await broadcastsOf(node)).find((b) => b.path === name)?.tracks.map((t) => t.name) ?? [];
      return tracks.includes('video') && tracks.includes('audio');
    },
    `${name} tracks on ${node.id}`,
    15_000,
  );
}

async function waitForListing(node: Node, name: string, owner: string): Promise<void> {
  await until(async () => (await node.stats()).remoteBroadcasts.some((b) => b.path === name && b.node === owner), `${node.id} lists ${name} at ${owner}`, 10_000);
}

// ---------------------------------------------------------------------------------------------
// media in and out

function ffmpegPush(url: string, seconds: number): { child: ChildProcess; exited: Promise<number | null> } {
  const child = track(
    spawn(
      'ffmpeg',
      [
        '-hide_banner', '-loglevel', 'error', '-re',
        '-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=30:duration=${seconds}`,
        '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
        '-c:v', 'libx264', '-g', '30', '-preset', 'ultrafast', '-tune', 'zerolatency',
        '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', url,
      ],
      { stdio: 'ignore' },
    ),
  );
  return { child, exited: exitOf(child) };
}

async function connect(node: Node): Promise<Moq.Connection.Established> {
  const connection = await within(Moq.Connection.connect(new URL(`${node.url}/?jwt=${viewerToken}`)), `connect to ${node.id}`);
  connections.push(connection);
  return connection;
}

/** Frames per group sequence until the track ends (or `deadline`). */
async function collect(trackToRead: Moq.Track, deadlineMs: number): Promise<Map<number, Uint8Array[]>> {
  const groups = new Map<number, Uint8Array[]>();
  const deadline = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), deadlineMs));
  for (;;) {
    const group = await Promise.race([trackToRead.nextGroupOrdered().catch(() => undefined), deadline]);
    if (!group) break;
    const frames: Uint8Array[] = [];
    groups.set(group.sequence, frames);
    for (;;) {
      const frame = await Promise.race([group.readFrame().catch(() => undefined), deadline]);
      if (!frame) break;
      frames.push(frame);
    }
  }
  return groups;
}

/** Resolves with the time the track ended (next group undefined or an error). */
async function endOf(trackToRead: Moq.Track): Promise<number> {
  for (;;) {
    const group = await trackToRead.nextGroup().catch(() => undefined);
    if (!group) return Date.now();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------

let operatorToken: string;
let viewerToken: string;
let redis: RedisServer;
let a: Node;
let b: Node;
let c: Node;

beforeAll(async () => {
  for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  if (!tools) return;
  const key = await loadSigningKey(AUTH_KEY);
  operatorToken = await mintToken(key, { root: '', put: '', get: '' });
  viewerToken = await mintToken(key, { root: '', get: 'live' });
  redis = await startRedis(await freePort());
  [a, b, c] = await Promise.all([startNode('a', redis.url), startNode('b', redis.url), startNode('c', redis.url)]);
});

afterEach((context) => {
  if (context.task.result?.state !== 'fail') return;
  for (const node of [a, b, c]) if (node) process.stderr.write(`--- node ${node.id} ---\n${node.logs.slice(-30).join('\n')}\n`);
});

afterAll(async () => {
  for (const connection of connections) connection.close();
  for (const client of liteClients) client.close();
  for (const child of [...children]) child.kill('SIGKILL');
  await Promise.all([...children].map(exitOf));
});

describe.skipIf(!tools)('cluster of three nodes through Redis', () => {
  it('Redis unreachable at start: the node exits with a message naming the URL', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const { child, logs } = spawnNode('lonely', url);
    expect(await within(exitOf(child), 'node exit', 20_000)).toBe(1);
    expect(logs.join('\n')).toContain(`cannot reach Redis at ${url}`);
  });

  it('a viewer on C receives every frame a viewer on A receives', async () => {
    const name = 'live/frames';
    // Auth is on: without a token nothing may be watched, so the relaying below rides on node tokens.
    const anonymous = await within(connectLite(`${a.url}/`), 'anonymous lite client');
    liteClients.push(anonymous);
    expect((await within(anonymous.subscribe(name, 'video').closed(), 'refusal'))?.code).toBe(RelayErrorCode.unauthorized);
    // Any node lists every broadcast: C announces A's to its own viewers.
    const lister = await within(connectLite(`${c.url}/`, { token: viewerToken }), 'lite client to C');
    liteClients.push(lister);
    const announcements: Announcement[] = [];
    const listing = (async () => {
      for await (const announcement of lister.announced('live')) {
        if (announcement.path !== name) continue;
        announcements.push(announcement);
        if (!announcement.active) break;
      }
    })();
    const push = ffmpegPush(a.rtmpUrl(name), 5);
    await waitForTracks(a, name);
    await waitForListing(c, name, 'a');
    const [onA, onC] = await Promise.all([connect(a), connect(c)]);
    const [fromA, fromC] = await Promise.all([
      collect(onA.consume(path(name)).subscribe('video', 60), 15_000),
      collect(onC.consume(path(name)).subscribe('video', 60), 15_000),
    ]);
    expect(await push.exited).toBe(0);

    const seqC = [...fromC.keys()];
    const seqA = [...fromA.keys()];
    const first = Math.max(seqA[0]!, seqC[0]!);
    expect(seqC.filter((s) => s >= first)).toEqual(seqA.filter((s) => s >= first));
    let frames = 0;
    for (const seq of seqC.filter((s) => s >= first)) {
      expect(fromC.get(seq)).toEqual(fromA.get(seq));
      frames += fromC.get(seq)!.length;
    }
    expect(frames).toBeGreaterThanOrEqual(90);
    // C reached A over raw QUIC (its node token in the SETUP PATH), not the WebSocket fallback.
    const link = c.logs.map((line) => JSON.parse(line) as { msg?: string; node?: string; transport?: string }).find((entry) => entry.msg === 'connected to cluster node');
    expect(link).toMatchObject({ node: 'a', transport: 'quic' });
    // The end reached C too: the broadcast is withdrawn there once A unregisters it.
    await until(async () => !(await c.stats()).remoteBroadcasts.some((r) => r.path === name), 'withdrawn on C', 5000);
    await within(listing, 'announcements on C');
    expect(announcements).toEqual([
      { path: name, active: true },
      { path: name, active: false },
    ]);
  });

  describe('one origin, twenty viewers elsewhere', () => {
    const name = 'live/fan';
    const viewers: { video: Moq.Track; audio: Moq.Track }[] = [];

    it('twenty viewers on C cause exactly one upstream subscription per track', async () => {
      ffmpegPush(a.rtmpUrl(name), 60);
      await waitForTracks(a, name);
      await waitForListing(c, name, 'a');
      const before = await c.stats();
      const connectionsToC = await Promise.all(Array.from({ length: 20 }, () => connect(c)));
      for (const connection of connectionsToC) {
        const broadcast = connection.consume(path(name));
        viewers.push({ video: broadcast.subscribe('video', 60), audio: broadcast.subscribe('audio', 80) });
      }
      await within(Promise.all(viewers.flatMap((v) => [v.video.nextGroup(), v.audio.nextGroup()])), 'a group for every viewer', 10_000);

      const stats = await c.stats();
      expect(stats.nodeConnections).toBe(1);
      expect(stats.upstreamSubscriptions).toBe(2);
      expect(stats.upstreamSubscriptionsOpened - before.upstreamSubscriptionsOpened).toBe(2);
      // And on the origin: C is one subscriber per track.
      const onA = (await broadcastsOf(a)).find((x) => x.path === name)!;
      expect(onA.tracks.find((t) => t.name === 'video')?.subscribers).toBe(1);
      expect(onA.tracks.find((t) => t.name === 'audio')?.subscribers).toBe(1);
    });

    it('killing the origin node ends the viewers on C within the TTL', async () => {
      const ends = viewers.map((v) => Promise.all([endOf(v.video), endOf(v.audio)]));
      const killedAt = Date.now();
      a.child.kill('SIGKILL');
      const ended = await within(Promise.all(ends), 'every viewer ended', TTL_MS + 1000);
      const latest = Math.max(...ended.flat());
      process.stderr.write(`[cluster] viewers on C ended ${latest - killedAt} ms after node A was killed\n`);
      expect(latest - killedAt).toBeLessThan(TTL_MS);
      // The registration expires; C withdraws the broadcast.
      await until(async () => !(await c.stats()).remoteBroadcasts.some((r) => r.path === name), 'expired on C', 2 * TTL_MS);
    });

    it('publishing the same name on B afterwards serves a new viewer on C', async () => {
      ffmpegPush(b.rtmpUrl(name), 60);
      await waitForTracks(b, name);
      await waitForListing(c, name, 'b');
      const viewer = (await connect(c)).consume(path(name)).subscribe('video', 60);
      const group = await within(viewer.nextGroup(), 'a group from B through C', 10_000);
      expect(await within(group!.readFrame(), 'a frame')).toBeDefined();
      viewers.length = 0;
      viewers.push({ video: viewer, audio: viewer });
    });

    it('Redis lost: local broadcasts keep serving; registration recovers when it returns', async () => {
      await redis.kill();
      await until(async () => (await b.stats()).redis === 'down', 'B notices', 5000);
      // B still serves its own broadcast, and C keeps relaying it over the open connection.
      const local = (await connect(b)).consume(path(name)).subscribe('video', 60);
      await within(local.nextGroup(), 'a group on B without Redis', 5000);
      await within(viewers[0]!.video.nextGroup(), 'C still relays', 5000);
      // A broadcast that starts while Redis is away is registered once it is back.
      const during = 'live/during';
      ffmpegPush(b.rtmpUrl(during), 60);
      await waitForTracks(b, during);
      await sleep(TTL_MS); // past the TTL: nothing in Redis would have survived anyway

      redis = await startRedis(redis.port);
      const check = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await check.connect();
        await until(async () => (await check.get(`moq:broadcast:${name}`))?.includes('"node":"b"') === true, 'B registered again', 10_000);
      } finally {
        check.disconnect();
      }
      await until(async () => (await b.stats()).redis === 'ready' && (await c.stats()).redis === 'ready', 'nodes reconnected', 5000);
      await sleep(TTL_MS + 500); // past C's post-outage grace: the listing survives reconciliation
      expect((await c.stats()).remoteBroadcasts).toContainEqual({ path: name, node: 'b' });
      expect((await c.stats()).remoteBroadcasts).toContainEqual({ path: during, node: 'b' });
      const again = (await connect(c)).consume(path(name)).subscribe('video', 60);
      await within(again.nextGroup(), 'C serves it after the outage', 5000);
      viewers.length = 0;
      viewers.push({ video: again, audio: again });
    });

    it('a clean shutdown unregisters at once: C withdraws the broadcast and its viewers end', async () => {
      const ended = endOf(viewers[0]!.video);
      const stoppedAt = Date.now();
      b.child.kill('SIGTERM');
      expect(await within(exitOf(b.child), 'B exits', 5000)).toBe(0);
      await within(ended, 'viewer on C ended', 2000);
      await until(async () => !(await c.stats()).remoteBroadcasts.some((r) => r.path === name), 'withdrawn on C', TTL_MS);
      expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS);
      const check = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await check.connect();
        expect(await check.get(`moq:broadcast:${name}`)).toBeNull();
      } finally {
        check.disconnect();
      }
    });
  });
});
