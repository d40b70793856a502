/**
 * `--workers 2`: the real CLI as a supervisor of two gateway processes sharing the HTTP and
 * RTMP ports through SO_REUSEPORT. Each fresh connection may land on either worker; both must
 * answer, a worker killed with SIGKILL must come back while the other keeps serving, and
 * SIGTERM must stop the whole tree within 5 s.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.ts';
import type { ApiInfo } from '../../src/http/api-types.ts';

let gateway: GatewayProcess | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

/** GET /api/info on a connection of its own (no keep-alive), so the kernel picks a worker each time. */
function infoOnFreshConnection(port: number): Promise<ApiInfo> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/info', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body) as ApiInfo));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
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
