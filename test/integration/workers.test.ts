/**
 * `--workers 2`: the real CLI as a supervisor of two gateway processes sharing the HTTP and
 * RTMP ports through SO_REUSEPORT. Each fresh connection may land on either worker; both must
 * answer, a worker killed with SIGKILL must come back while the other keeps serving, and
 * SIGTERM must stop the whole tree within 5 s. A broadcast published on one worker reaches
 * viewers on the other byte-exact (the worker mesh), and ends for them when its worker dies.
 * Both workers serve QUIC on the shared UDP port with one dev certificate, and a QUIC viewer whose
 * address changes (NAT rebinding) keeps its connection whichever worker its packets reach now.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pushTestPattern, startGateway, type GatewayProcess } from '../helpers/gateway-process.ts';
import type { ApiBroadcast, ApiInfo, ApiSession } from '../../src/http/api-types.ts';
import * as Moq from '@moq/lite';
import WebSocket from 'ws';
import { within } from '../helpers/gateway.ts';
import { connectLite, type LiteClient } from '../../src/moq/lite/client.ts';
import { connectQuic } from '../../src/transport/quic/index.ts';
import { startLossyUdpProxy } from '../helpers/lossy-udp-proxy.ts';
import { clientOffer } from '../helpers/whip-offer.ts';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';

let gateway: GatewayProcess | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

/** A request on a connection of its own: the kernel picks the worker that answers. */
function getOnFreshConnection<T>(
  port: number,
  path: string,
  method = 'GET',
  send: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: T; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: send.headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: (res.headers['content-type']?.includes('json') ? JSON.parse(body) : body) as T, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(send.body);
  });
}

const infoOnFreshConnection = (port: number) => getOnFreshConnection<ApiInfo>(port, '/api/info').then((answer) => answer.body);

/** What one worker says: its /api/info, and /api/sessions and /api/broadcasts (for every worker), on one kept-alive connection. */
async function askOneWorker(port: number, jwt?: string): Promise<{ index: number; mesh: ApiInfo['workers']['mesh']; sessions: ApiSession[]; broadcasts: ApiBroadcast[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = <T>(path: string) =>
    new Promise<T>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: jwt ? `${path}?jwt=${jwt}` : path, agent, timeout: 3000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as T));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
  try {
    const info = await get<ApiInfo>('/api/info');
    const sessions = await get<{ sessions: ApiSession[] }>('/api/sessions');
    const broadcasts = await get<{ broadcasts: ApiBroadcast[] }>('/api/broadcasts');
    return { index: info.workers.index, mesh: info.workers.mesh, sessions: sessions.sessions, broadcasts: broadcasts.broadcasts };
  } finally {
    agent.destroy();
  }
}

/** Every worker's answer, asked until each has answered once. */
async function askEveryWorker(port: number, count: number): Promise<Map<number, Awaited<ReturnType<typeof askOneWorker>>>> {
  const answers = new Map<number, Awaited<ReturnType<typeof askOneWorker>>>();
  const deadline = Date.now() + 20_000;
  while (answers.size < count) {
    if (Date.now() > deadline) throw new Error(`only workers ${[...answers.keys()]} answered`);
    const answer = await askOneWorker(port).catch(() => undefined);
    if (answer) answers.set(answer.index, answer);
  }
  return answers;
}

/**
 * Serves a @moq/lite publisher's requests: the catalog (which the owner's /api/broadcasts asks for,
 * to list the tracks) with one video track; resolves with the video request, the test's media.
 */
function serveRequests(broadcast: Moq.Broadcast): Promise<Moq.TrackRequest> {
  return new Promise((resolve) => {
    void (async () => {
      for (let request = await broadcast.requested(); request; request = await broadcast.requested()) {
        if (request.track.name === 'video') resolve(request);
        else if (request.track.name === 'catalog.json') {
          const catalog = request.track.appendGroup();
          catalog.writeFrame(new TextEncoder().encode(JSON.stringify({ video: { renditions: { video: { codec: 'avc1.64001f', codedWidth: 64, codedHeight: 64 } } } })));
          catalog.close();
        }
      }
    })();
  });
}

/** Sessions the gateway lists on worker `index`. */
const sessionsOn = (answer: { sessions: ApiSession[] }, index: number) => answer.sessions.filter((s) => s.worker === index).length;

/** The sum of a metric's samples in a Prometheus text exposition. */
function metricSum(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

/** Frame f of group g: its place, then a pattern. */
function frameOf(g: number, f: number): Uint8Array {
  const bytes = new Uint8Array(f === 0 ? 20_000 : 1500);
  bytes[0] = g;
  bytes[1] = f;
  for (let i = 2; i < bytes.byteLength; i++) bytes[i] = (g * 13 + f * 7 + i) & 0xff;
  return bytes;
}

/** Connects until every worker index in 0 … count-1 has answered (or the deadline passes). */
async function workersSeen(port: number, count: number, deadlineMs = 20_000): Promise<Set<number>> {
  const seen = new Set<number>();
  const deadline = Date.now() + deadlineMs;
  while (seen.size < count && Date.now() < deadline) {
    const info = await infoOnFreshConnection(port).catch(() => undefined);
    if (info) {
      expect(info.workers.count).toBe(count);
      seen.add(info.workers.index);
    }
  }
  return seen;
}

/** The worker pids the supervisor logged when all of them were up. */
function workerPids(logs: string[]): number[] {
  for (const line of logs) {
    if (!line.includes('listening with')) continue;
    const entry = JSON.parse(line) as { pids?: number[] };
    if (entry.pids) return entry.pids;
  }
  throw new Error(`no 'listening with N workers' log:\n${logs.join('\n')}`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The HTTP status a WebSocket upgrade gets (101 when it is accepted; then it is closed). */
const upgradeStatus = (port: number) =>
  new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['qmux-02']);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('error', reject);
  });

const tcpAccepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('--workers 2', () => {
  it('both workers answer on the shared ports, and /api/info names them', async () => {
    gateway = await startGateway({ args: ['--workers', '2'] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    expect([...(await workersSeen(gateway.httpPort, 2))].sort()).toEqual([0, 1]);
    expect(await tcpAccepts(gateway.rtmpPort)).toBe(true);
    const pids = workerPids(gateway.logs());
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
  });

  it('restarts a worker killed with SIGKILL while the other keeps answering', async () => {
    gateway = await startGateway({ args: ['--workers', '2'] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const [first, second] = workerPids(gateway.logs());
    process.kill(first!, 'SIGKILL');
    await until(() => !alive(first!), 'the killed worker to be gone');
    // The survivor holds the port alone meanwhile: every request it answers.
    // A connection the kernel queued on the dying socket can still be reset: one retry each.
    for (let i = 0; i < 5; i++) {
      const info = await infoOnFreshConnection(gateway.httpPort).catch(() => infoOnFreshConnection(gateway!.httpPort));
      expect(info.workers.count).toBe(2);
    }
    await until(() => gateway!.logs().some((line) => line.includes('worker 0 restarted')), 'the restart', 30_000);
    expect([...(await workersSeen(gateway.httpPort, 2))].sort()).toEqual([0, 1]);
    expect(alive(second!)).toBe(true);
  });

  it('serves a broadcast published on one worker to viewers on the other, byte-exact, and ends it when that worker dies', async () => {
    gateway = await startGateway({ args: ['--workers', '2'] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const url = new URL(`http://127.0.0.1:${gateway.httpPort}/`);
    const connections: Moq.Connection.Established[] = [];
    try {
      const publisher = await within(Moq.Connection.connect(url), 'publisher connect', 10_000);
      connections.push(publisher);
      const broadcast = new Moq.Broadcast();
      publisher.publish('workers/mesh' as Moq.Path.Valid, broadcast);
      const videoRequested = serveRequests(broadcast);
      let owner = -1;
      await until(async () => {
        owner = (await askOneWorker(gateway!.httpPort)).broadcasts.find((b) => b.path === 'workers/mesh')?.worker ?? -1;
        return owner >= 0;
      }, 'the broadcast on its worker');
      const other = 1 - owner;

      // Viewers until at least one sits on the other worker (the kernel picks per connection).
      const tracks: Moq.Track[] = [];
      for (let i = 0; i < 20; i++) {
        const before = sessionsOn(await askOneWorker(gateway.httpPort), other);
        const viewer = await within(Moq.Connection.connect(url), 'viewer connect', 10_000);
        connections.push(viewer);
        tracks.push(viewer.consume('workers/mesh' as Moq.Path.Valid).subscribe('video', 60));
        if (sessionsOn(await askOneWorker(gateway.httpPort), other) > before) break;
      }
      const onOther = sessionsOn(await askOneWorker(gateway.httpPort), other);
      expect(onOther).toBeGreaterThan(0);

      const request = await within(videoRequested, 'upstream request', 10_000);
      const GROUPS = 4;
      const FRAMES = 10;
      const receiving = tracks.map(async (track) => {
        const groups: Uint8Array[][] = [];
        while (groups.length < GROUPS) {
          const group = await track.nextGroupOrdered();
          if (!group) break;
          const frames: Uint8Array[] = [];
          for (let frame = await group.readFrame(); frame; frame = await group.readFrame()) frames.push(frame);
          groups.push(frames);
        }
        return groups;
      });
      // Paced like live media, after every viewer's subscription reached the publisher.
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (let g = 0; g < GROUPS; g++) {
        const group = request!.track.appendGroup();
        for (let f = 0; f < FRAMES; f++) {
          group.writeFrame(frameOf(g, f));
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        group.close();
      }
      const received = await within(Promise.all(receiving), 'every viewer got every group', 15_000);
      for (const groups of received) {
        expect(groups).toHaveLength(GROUPS);
        groups.forEach((frames, g) => {
          expect(frames).toHaveLength(FRAMES);
          for (const [f, frame] of frames.entries()) expect(Buffer.from(frame).equals(Buffer.from(frameOf(g, f)))).toBe(true);
        });
      }
      // The other worker's viewers share one upstream per track (the link is not listed as a session).
      const answers = await askEveryWorker(gateway.httpPort, 2);
      expect(sessionsOn(answers.get(owner)!, owner)).toBe(1 + (tracks.length - onOther));
      expect(answers.get(other)!.mesh).toEqual({ remoteBroadcasts: 1, workerConnections: 1, upstreamSubscriptions: 1 });
      // The owner lists the MoQ publisher's track from its catalog.
      expect(answers.get(owner)!.broadcasts.find((b) => b.path === 'workers/mesh')?.tracks).toMatchObject([{ name: 'video', kind: 'video', codec: 'avc1.64001f' }]);
      expect(answers.get(owner)!.mesh).toMatchObject({ upstreamSubscriptions: 0 });

      // The owner dies: the broadcast ends for the other worker's viewers too (they may
      // resubscribe at once), while their sessions there stay up.
      const ends = tracks.map((track) => within(track.closed, 'the track to end', 10_000));
      process.kill(workerPids(gateway.logs())[owner]!, 'SIGKILL');
      await Promise.all(ends);
      const survivor = (await askEveryWorker(gateway.httpPort, 2)).get(other)!;
      expect(sessionsOn(survivor, other)).toBeGreaterThanOrEqual(onOther);
    } finally {
      for (const connection of connections) connection.close();
    }
  });

  it('answers the API and /metrics for every worker, kicks a session on either, and holds per-address limits across them', async () => {
    const LIMIT = 6;
    gateway = await startGateway({ args: ['--workers', '2', '--max-sessions-per-ip', String(LIMIT)] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const port = gateway.httpPort;
    const url = new URL(`http://127.0.0.1:${port}/`);
    const connections: Moq.Connection.Established[] = [];
    try {
      const publisher = await within(Moq.Connection.connect(url), 'publisher connect', 10_000);
      connections.push(publisher);
      const broadcast = new Moq.Broadcast();
      publisher.publish('workers/fleet' as Moq.Path.Valid, broadcast);
      const videoRequested = serveRequests(broadcast);
      // The publisher and LIMIT-1 viewers: the address's whole allowance, spread over the workers by the kernel.
      const viewers = LIMIT - 1;
      for (let i = 0; i < viewers; i++) {
        const viewer = await within(Moq.Connection.connect(url), 'viewer connect', 10_000);
        connections.push(viewer);
        viewer.consume('workers/fleet' as Moq.Path.Valid).subscribe('video', 60);
      }
      const request = await within(videoRequested, 'upstream request', 10_000);
      const group = request!.track.appendGroup();
      group.writeFrame(frameOf(0, 0));

      // Any worker (each fresh connection may land on either) answers for both.
      let last: unknown;
      await until(async () => {
        const answer = await askOneWorker(port);
        last = answer;
        const b = answer.broadcasts.find((entry) => entry.path === 'workers/fleet');
        return answer.sessions.length === LIMIT && b?.viewers === viewers;
      }, 'every session and viewer listed', 15_000).catch((error: Error) => {
        throw new Error(`${error.message}: last answer ${JSON.stringify(last)}`);
      });
      const answers = await askEveryWorker(port, 2);
      const owner = answers.get(0)!.broadcasts.find((b) => b.path === 'workers/fleet')!.worker;
      expect(owner === 0 || owner === 1).toBe(true);
      const perWorker = [0, 1].map((index) => sessionsOn(answers.get(0)!, index));
      for (const answer of answers.values()) {
        expect(answer.sessions).toHaveLength(LIMIT);
        expect(new Set(answer.sessions.map((s) => s.id)).size).toBe(LIMIT);
        expect([0, 1].map((index) => sessionsOn(answer, index))).toEqual(perWorker);
        const entry = answer.broadcasts.filter((b) => b.path === 'workers/fleet');
        expect(entry).toHaveLength(1);
        expect(entry[0]).toMatchObject({ worker: owner, viewers, publisher: { connected: true } });
        expect(entry[0]!.tracks.find((t) => t.name === 'video')?.subscribers).toBe(viewers);
      }
      // /metrics sums the workers: both processes, every session once.
      for (let i = 0; i < 4; i++) {
        const metrics = await getOnFreshConnection<string>(port, '/metrics');
        expect(metricSum(metrics.body, 'moq_gateway_processes')).toBe(2);
        expect(metricSum(metrics.body, 'moq_gateway_sessions')).toBe(LIMIT);
        expect(metrics.body).toMatch(/nodejs_version_info\{[^}]*version="v24\./);
      }

      // The address is full on both workers: every new upgrade is refused, whichever worker takes it.
      for (let i = 0; i < 6; i++) expect(await upgradeStatus(port)).toBe(429);

      // Kick a session of each worker through fresh connections (either worker may take the DELETE).
      const listed = answers.get(0)!.sessions;
      const kicked = [0, 1].map((index) => listed.find((s) => s.worker === index && s.id !== listed[0]!.id)).filter((s) => s !== undefined);
      for (const session of kicked) expect((await getOnFreshConnection(port, `/api/sessions/${session.id}`, 'DELETE')).status).toBe(200);
      expect((await getOnFreshConnection(port, '/api/sessions/999999', 'DELETE')).status).toBe(404);
      await until(async () => (await askOneWorker(port)).sessions.length === LIMIT - kicked.length, 'the kicked sessions gone', 10_000);
      // Their slots are free again on every worker.
      await until(async () => (await upgradeStatus(port)) === 101, 'a slot free again', 10_000);
    } finally {
      for (const connection of connections) connection.close();
    }
  });

  it('serves HLS of a broadcast from whichever worker a request lands on: one packaging session, every URL answered', async () => {
    gateway = await startGateway({ args: ['--workers', '2'] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const port = gateway.httpPort;
    const encoder = pushTestPattern({ rtmpUrl: gateway.rtmpUrl('workers/hls'), gop: 15 });
    try {
      let multivariant = '';
      await until(async () => {
        const answer = await getOnFreshConnection<string>(port, '/hls/workers/hls/index.m3u8').catch(() => undefined);
        multivariant = answer?.status === 200 ? answer.body : '';
        return multivariant.includes('#EXT-X-STREAM-INF');
      }, 'the multivariant playlist', 20_000);
      const video = multivariant.split('\n').find((line) => line.endsWith('media.m3u8') && !line.startsWith('#'))!;
      expect(video).toBeDefined();
      // Media playlists, each on a fresh connection (the kernel spreads them over both workers):
      // every answer comes from one packaging session, and every URI in it is served.
      const sessions = new Set<string>();
      let fetched = 0;
      for (let round = 0; round < 6; round++) {
        let playlist = '';
        await until(async () => {
          const answer = await getOnFreshConnection<string>(port, `/hls/workers/hls/${video}`);
          playlist = answer.status === 200 ? answer.body : '';
          return playlist.includes('#EXTINF');
        }, 'a media playlist with segments', 20_000);
        const uris = playlist.split('\n').flatMap((line) => (line.startsWith('#EXT-X-MAP:') ? [/URI="([^"]+)"/.exec(line)![1]!] : line && !line.startsWith('#') ? [line] : []));
        for (const uri of uris.slice(-3)) {
          sessions.add(uri.split('-')[0]!);
          const media = await new Promise<{ status: number; bytes: number }>((resolve, reject) => {
            http
              .get({ host: '127.0.0.1', port, path: new URL(uri, `http://x/hls/workers/hls/${video}`).pathname, agent: false, timeout: 5000 }, (res) => {
                let bytes = 0;
                res.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
              })
              .on('error', reject);
          });
          expect(media.status, uri).toBe(200);
          expect(media.bytes).toBeGreaterThan(0);
          fetched++;
        }
      }
      expect(fetched).toBeGreaterThanOrEqual(12);
      expect(sessions.size).toBe(1);
    } finally {
      await encoder.stop();
    }
  });

  it("sends a WHIP session's trickle PATCHes and DELETE to the worker holding it", async () => {
    gateway = await startGateway({ args: ['--workers', '2'] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const port = gateway.httpPort;
    const offer = await clientOffer();
    const created = await getOnFreshConnection<string>(port, '/whip/workers/whip', 'POST', { headers: { 'content-type': 'application/sdp' }, body: offer });
    expect(created.status).toBe(201);
    const resource = new URL(created.headers.location!, `http://127.0.0.1:${port}/whip/workers/whip`).pathname;
    const ufrag = /a=ice-ufrag:(\S+)/.exec(offer)![1]!;
    const pwd = /a=ice-pwd:(\S+)/.exec(offer)![1]!;
    const fragment = `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2122194687 127.0.0.1 9 typ host\r\n`;
    // Each on a fresh connection: about half land on the other worker, which hands them over.
    for (let i = 0; i < 6; i++) {
      const patched = await getOnFreshConnection(port, resource, 'PATCH', { headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': created.headers.etag! }, body: fragment });
      expect(patched.status).toBe(204);
    }
    expect((await getOnFreshConnection(port, resource, 'DELETE')).status).toBe(200);
    await until(async () => !(await askOneWorker(port)).broadcasts.some((b) => b.path === 'workers/whip'), 'the broadcast to end');
    expect((await getOnFreshConnection(port, resource, 'DELETE')).status).toBe(404);
  });

  it('an encoder reconnecting within its grace to the other worker takes its broadcast over there: never two owners', async () => {
    // A long grace: without the hand-over the old worker would keep a stale copy all along.
    gateway = await startGateway({ args: ['--workers', '2', '--reconnect-grace', '60s'] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const port = gateway.httpPort;
    const owners: number[] = [];
    for (let attempt = 0; attempt < 10 && new Set(owners).size < 2; attempt++) {
      const encoder = pushTestPattern({ rtmpUrl: gateway.rtmpUrl('workers/reconnect'), noAudio: true });
      try {
        // Once it is up, every answer (fresh connections, either worker) shows one entry, its publisher connected.
        const entries = async () => (await getOnFreshConnection<{ broadcasts: ApiBroadcast[] }>(port, '/api/broadcasts')).body.broadcasts.filter((b) => b.path === 'workers/reconnect');
        await until(async () => (await entries())[0]?.publisher?.connected === true, `attempt ${attempt}: the encoder's broadcast`, 20_000);
        const answers = [];
        for (let i = 0; i < 10; i++) answers.push((await entries()).map((b) => ({ worker: b.worker, connected: b.publisher?.connected })));
        const owner = answers[0]![0]!.worker!;
        expect(answers).toEqual(Array.from({ length: 10 }, () => [{ worker: owner, connected: true }]));
        owners.push(owner);
      } finally {
        encoder.process.kill('SIGKILL'); // an encoder crash: the gateway keeps the name for the grace
        await encoder.exited;
      }
    }
    expect(new Set(owners).size).toBe(2);
  });

  it('with --auth-key, every worker refuses a viewer without a token and serves one with a token, across the mesh', async () => {
    const SECRET = 'workers-test-secret-at-least-32-bytes!';
    gateway = await startGateway({ args: ['--workers', '2', '--auth-key', SECRET] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const port = gateway.httpPort;
    const key = await loadSigningKey(SECRET);
    const token = (claims: { put?: string; get?: string }) => mintToken(key, { root: 'secure', ...claims, expiresAt: Math.floor(Date.now() / 1000) + 600 });
    const connect = async (jwt: string) => {
      const url = new URL(`http://127.0.0.1:${port}/`);
      url.searchParams.set('jwt', jwt);
      return within(Moq.Connection.connect(url), 'connect', 10_000);
    };
    const connections: Moq.Connection.Established[] = [];
    try {
      const publisher = await connect(await token({ put: '' }));
      connections.push(publisher);
      const broadcast = new Moq.Broadcast();
      publisher.publish('secure/cam' as Moq.Path.Valid, broadcast);
      const videoRequested = serveRequests(broadcast);
      // No token: refused at the upgrade, by whichever worker takes it.
      for (let i = 0; i < 6; i++) expect(await upgradeStatus(port)).toBe(401);
      // Six viewers with a read token, spread over the workers by the kernel: every one gets the frames.
      const viewerToken = await token({ get: '' });
      const tracks: Moq.Track[] = [];
      for (let i = 0; i < 6; i++) {
        const viewer = await connect(viewerToken);
        connections.push(viewer);
        tracks.push(viewer.consume('secure/cam' as Moq.Path.Valid).subscribe('video', 60));
      }
      const operator = await mintToken(key, { root: '', put: '', get: '', expiresAt: Math.floor(Date.now() / 1000) + 600 });
      await until(async () => (await askOneWorker(port, operator)).broadcasts.find((b) => b.path === 'secure/cam')?.viewers === tracks.length, 'every viewer subscribed', 15_000);
      const request = await within(videoRequested, 'upstream request', 10_000);
      const group = request.track.appendGroup();
      group.writeFrame(frameOf(0, 0));
      group.close();
      for (const track of tracks) {
        const received = await within(track.nextGroupOrdered(), 'a group on every viewer', 10_000);
        expect(Buffer.from((await received!.readFrame())!).equals(Buffer.from(frameOf(0, 0)))).toBe(true);
      }
    } finally {
      for (const connection of connections) connection.close();
    }
  });

  it('keeps QUIC viewers through NAT rebinding: packets reach the owning worker by connection ID', async () => {
    gateway = await startGateway({ args: ['--workers', '2'] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const hash = (await (await fetch(`http://127.0.0.1:${gateway.httpPort}/certificate.sha256`)).text()).trim();
    const proxy = await startLossyUdpProxy({ target: { host: '127.0.0.1', port: gateway.httpPort }, loss: 0, delayMs: 0 });
    const publisher = await within(Moq.Connection.connect(new URL(`http://127.0.0.1:${gateway.httpPort}/`)), 'publisher connect', 10_000);
    const viewers: LiteClient[] = [];
    try {
      const broadcast = new Moq.Broadcast();
      publisher.publish('workers/rebind' as Moq.Path.Valid, broadcast);
      const videoRequested = serveRequests(broadcast);
      await until(async () => (await askOneWorker(gateway!.httpPort)).broadcasts.some((b) => b.path === 'workers/rebind'), 'the broadcast');
      // Ten viewers: each lands on either worker, and each one's new address after the rebind
      // again on either, so without steering about half of them would lose their connection.
      const url = `https://127.0.0.1:${proxy.port}/`;
      const received: Set<number>[] = [];
      for (let i = 0; i < 10; i++) {
        const transport = await connectQuic(url, { alpn: ['moq-lite-04'], serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] });
        const viewer = await within(connectLite(url, { transport }), 'QUIC viewer', 10_000);
        viewers.push(viewer);
        const groups = new Set<number>();
        received.push(groups);
        const subscription = viewer.subscribe('workers/rebind', 'video', 60).subscribe();
        void (async () => {
          for (let group = await subscription.nextGroup(); group; group = await subscription.nextGroup()) {
            const reader = group.reader();
            while (await reader.readFrame().catch(() => undefined)) groups.add(group.sequence);
          }
        })();
      }
      const request = await within(videoRequested, 'upstream request', 10_000);
      const publishGroups = async (from: number, to: number) => {
        for (let g = from; g < to; g++) {
          const group = request!.track.appendGroup();
          group.writeFrame(frameOf(g, 0));
          group.close();
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      await publishGroups(0, 10);
      await until(() => received.every((groups) => groups.size >= 5), 'every viewer receiving', 10_000);
      proxy.rebind();
      await publishGroups(10, 30);
      // Every viewer got groups published well after its address changed.
      await until(() => received.every((groups) => [...groups].some((sequence) => sequence >= 25)), 'every viewer still receiving after the rebind', 10_000);
    } finally {
      for (const viewer of viewers) viewer.close();
      publisher.close();
      await proxy.close();
    }
  });

  it('SIGTERM stops the supervisor and every worker within 5 s', async () => {
    gateway = await startGateway({ args: ['--workers', '2'] });
    await until(() => gateway!.logs().some((line) => line.includes('listening with 2 workers')), 'the supervisor');
    const pids = workerPids(gateway.logs());
    const started = Date.now();
    await gateway.stop();
    expect(await gateway.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5500);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
