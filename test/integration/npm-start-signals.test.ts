/**
 * The README runs the gateway with `npm start`; supervisors, systemd units and scripts stop it
 * by signalling that one PID (npm's), not its process group. Whatever the signal, the gateway
 * under npm must exit and free its ports within 5 s, and leave no process behind.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/gateway-process.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True while any process of the group is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('npm start stops with its PID', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL'] as const) {
    it(`${signal} to npm's PID ends the gateway and frees its ports`, async () => {
      const port = await freePort({ udp: true });
      const rtmpPort = await freePort();
      // Its own process group (detached), so the test can clean up everything it started.
      const npm = spawn('npm', ['start', '--', '--host', '127.0.0.1', '--port', String(port), '--rtmp-port', String(rtmpPort)], {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      groups.push(npm.pid!);
      let output = '';
      npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const up = await waitFor(async () => (await accepts(port)) && (await accepts(rtmpPort)), 30_000);
      expect(up, `gateway did not start:\n${output}`).toBeDefined();

      process.kill(npm.pid!, signal); // the PID alone, as `kill $PID` does
      const freed = await waitFor(async () => !(await accepts(port)) && !(await accepts(rtmpPort)), 5000);
      expect(freed, `ports still open 5 s after ${signal}:\n${output}`).toBeDefined();
      const gone = await waitFor(() => !groupAlive(npm.pid!), 5000);
      expect(gone, `a process of npm start outlived ${signal}`).toBeDefined();
    });
  }
});
