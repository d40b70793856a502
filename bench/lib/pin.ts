/**
 * CPU pinning with taskset (util-linux): the server under test on its own core(s), the
 * publisher, this bench process and the load generators on the others, so a 2-core machine
 * measures the server rather than its clients fighting it for one core. Without taskset (or
 * with one core) everything runs unpinned and the bench says so once.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';

export interface PinPlan {
  enabled: boolean;
  /** CPU list for the server (taskset -c syntax), for a server with `workers` processes/threads. */
  server(workers?: number): string | undefined;
  /** CPU list for publishers and load generators. */
  load: string | undefined;
  note: string;
}

function haveTaskset(): boolean {
  const r = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

export function pinPlan(wanted: boolean): PinPlan {
  const cpus = os.availableParallelism();
  if (!wanted) return { enabled: false, server: () => undefined, load: undefined, note: 'not pinned (--no-pin)' };
  if (!haveTaskset()) {
    return { enabled: false, server: () => undefined, load: undefined, note: 'not pinned: taskset not found (Debian: apt-get install util-linux); server and load share all cores' };
  }
  if (cpus < 2) return { enabled: false, server: () => undefined, load: undefined, note: 'not pinned: one core only' };
  // Server on the first half (at least core 0), load on the rest; a multi-worker server takes
  // as many cores as it has workers, sharing the load's cores when there are not enough.
  const serverCores = Math.max(1, Math.floor(cpus / 2));
  const load = `${serverCores}-${cpus - 1}`;
  return {
    enabled: true,
    server: (workers = 1) => (workers <= serverCores ? `0-${serverCores - 1}` : `0-${Math.min(cpus, workers) - 1}`),
    load,
    note: `pinned with taskset: server on core(s) 0-${serverCores - 1} (more when --workers exceeds that), publisher + load on ${load}`,
  };
}

/** [command, args] run under `taskset -c cpus` when given. */
export function pinned(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus ? ['taskset', ['-c', cpus, command, ...args]] : [command, args];
}

/** Moves this process (the bench: it runs the publisher) onto `cpus`. */
export function pinSelf(cpus: string | undefined): void {
  if (cpus) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}
