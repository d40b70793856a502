/**
 * Child processes for the bench: every process started here is tracked and killed when the
 * bench ends, however it ends (normal exit, Ctrl-C, SIGTERM, an uncaught error). CPU and RSS of
 * a process are read from /proc.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { terminate } from '../../test/helpers/gateway-process.ts';

const children = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of children) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${children.size} child process(es)\n`);
      // Give children a moment to flush (a --cpu-prof gateway writes its profile on SIGTERM).
      for (const child of children) child.kill('SIGTERM');
      setTimeout(() => process.exit(130), 1500).unref();
    });
  }
}

export interface Tracked {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once gone. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** spawn() with tracking: the process is killed when the bench exits. */
export function track(command: string, args: string[], options: SpawnOptions = {}): Tracked {
  hookExit();
  const child = spawn(command, args, options);
  children.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      children.delete(child);
      resolve(null);
    });
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5000) => (stopping ??= terminate(child, exited, graceMs));
  return { child, pid: child.pid ?? -1, exited, stop };
}

export function liveChildren(): number {
  return children.size;
}

const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64

/** CPU time (user + system) of a process in ms, or NaN when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 (1-based) = index 11 and 12 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of a process in bytes (VmRSS), or NaN. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** A CPU meter over an interval: start(), then stop() → CPU ms used and % of one core. */
export class CpuMeter {
  #startCpu = 0;
  #startWall = 0;
  constructor(readonly pids: () => number[]) {}
  start(): void {
    this.#startCpu = this.#total();
    this.#startWall = performance.now();
  }
  read(): { cpuMs: number; wallMs: number; percentOfCore: number } {
    const cpu = this.#total() - this.#startCpu;
    const wall = performance.now() - this.#startWall;
    return { cpuMs: cpu, wallMs: wall, percentOfCore: (100 * cpu) / wall };
  }
  #total(): number {
    let sum = 0;
    for (const pid of this.pids()) {
      const v = cpuMs(pid);
      if (Number.isFinite(v)) sum += v;
    }
    return sum;
  }
}

/** A port free on TCP (and UDP when asked): the test helpers' own, so both pick ports alike. */
export { freePort } from '../../test/helpers/gateway-process.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `condition` holds; throws with `what` after `ms`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(50);
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Collects a child's output lines (bounded), e.g. for error reports. */
export function collectOutput(child: ChildProcess, max = 200): () => string[] {
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > max) lines.shift();
      }
    });
  }
  return () => [...lines];
}
