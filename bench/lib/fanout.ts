/**
 * Many viewer sessions spread over a few load processes, and one measurement window over them:
 * delivered frames and bytes per session, latency histogram, CPU of the load processes. The lean
 * load generator (loadgen/worker.ts) serves moq-lite over WebSocket and raw QUIC, bare WebSocket
 * and RTMP; subscriber-worker.ts keeps the reference clients (@moq/net, WebTransport).
 */
import { fileURLToPath } from 'node:url';
import { LEAN_PROTOCOLS } from '../loadgen/protocols.ts';
import { pinned } from './pin.ts';
import { collectOutput, track, withTimeout, type Tracked } from './proc.ts';
import { Histogram, type HistogramJson } from './stats.ts';

const REFERENCE_WORKER = fileURLToPath(new URL('../subscriber-worker.ts', import.meta.url));
const LEAN_WORKER = fileURLToPath(new URL('../loadgen/worker.ts', import.meta.url));

/** Whether the lean load generator serves this protocol (else the reference clients' worker). */
export function isLean(protocol: ConnectSpec['protocol']): boolean {
  return LEAN_PROTOCOLS.includes(protocol);
}
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface WorkerHandle {
  proc: Tracked;
  logs: () => string[];
  waiters: Array<(message: Record<string, unknown>) => boolean>;
}

export interface ConnectSpec {
  protocol: 'lite-ws' | 'lite-quic' | 'lite-wt' | 'ietf-ws' | 'rtmp' | 'bare-ws';
  url: string;
  broadcast: string;
  track: string;
  certificateSha256?: string;
  /** WebSocket framing of the lean moq-lite viewer (default qmux-02). */
  framing?: 'qmux-02' | 'qmux-01' | 'qmux-00' | 'webtransport';
}

export interface PoolOptions {
  /** Run the lean load generator (default) or the reference clients' worker. */
  lean?: boolean;
  /** taskset CPU list for the load processes. */
  cpus?: string;
}

export interface WindowReport {
  /** Frames each session received with a stamp in the window. */
  frames: number[];
  /** Media bytes each session received in the window (frames whose stamp is in it). */
  bytes: number[];
  /** Frames without a stamp where one was expected (lean worker only; should be 0). */
  unstamped: number;
  latency: Histogram;
  /** Frames of 40 KB and more (keyframes). */
  latencyLarge: Histogram;
  workerCpuMs: number;
  workerRss: number;
  ended: number;
}

export class WorkerPool {
  readonly #workers: WorkerHandle[] = [];
  connected = 0;
  failed = 0;
  firstError: string | undefined;

  static async start(count: number, options: PoolOptions = {}): Promise<WorkerPool> {
    const pool = new WorkerPool();
    // BENCH_LOADGEN=reference: the old per-session client stack (our connectLite over WHATWG
    // streams), to compare what the load itself costs.
    const lean = options.lean ?? process.env.BENCH_LOADGEN !== 'reference';
    const script = lean ? LEAN_WORKER : REFERENCE_WORKER;
    await Promise.all(Array.from({ length: count }, () => pool.#spawn(script, options.cpus)));
    return pool;
  }

  get pids(): number[] {
    return this.#workers.map((w) => w.proc.pid);
  }

  async #spawn(script: string, cpus: string | undefined): Promise<void> {
    const [cmd, args] = pinned(cpus, process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', script]);
    const proc = track(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const handle: WorkerHandle = { proc, logs: collectOutput(proc.child), waiters: [] };
    proc.child.on('message', (message: Record<string, unknown>) => {
      handle.waiters = handle.waiters.filter((w) => !w(message));
    });
    this.#workers.push(handle);
    await withTimeout(this.#expect(handle, 'ready'), 30_000, 'subscriber worker start');
  }

  #expect(handle: WorkerHandle, type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      void handle.proc.exited.then((code) => reject(new Error(`subscriber worker exited (${code}): ${handle.logs().slice(-5).join(' | ')}`)));
      handle.waiters.push((message) => {
        if (message.type !== type) return false;
        resolve(message);
        return true;
      });
    });
  }

  /** Opens `sessions` sessions spread evenly over the workers. */
  async connect(spec: ConnectSpec, sessions: number, timeoutMs = 60_000 + sessions * 100): Promise<void> {
    const per = this.#workers.map((_, i) => Math.floor(sessions / this.#workers.length) + (i < sessions % this.#workers.length ? 1 : 0));
    const results = await withTimeout(
      Promise.all(
        this.#workers.map((w, i) => {
          if (per[i] === 0) return Promise.resolve({ ok: 0, failed: 0 } as Record<string, unknown>);
          const done = this.#expect(w, 'connected');
          w.proc.child.send({ cmd: 'connect', ...spec, sessions: per[i] });
          return done;
        }),
      ),
      timeoutMs,
      `connecting ${sessions} sessions`,
    );
    for (const r of results) {
      this.connected += Number(r.ok ?? 0);
      this.failed += Number(r.failed ?? 0);
      this.firstError ??= r.error as string | undefined;
    }
  }

  measure(from: number, until: number): void {
    for (const w of this.#workers) w.proc.child.send({ cmd: 'measure', from, until });
  }

  async report(): Promise<WindowReport> {
    const reports = await withTimeout(
      Promise.all(
        this.#workers.map((w) => {
          const r = this.#expect(w, 'report');
          w.proc.child.send({ cmd: 'report' });
          return r;
        }),
      ),
      30_000,
      'worker reports',
    );
    const latency = new Histogram();
    const latencyLarge = new Histogram();
    const frames: number[] = [];
    const bytes: number[] = [];
    let unstamped = 0;
    let workerCpuMs = 0;
    let workerRss = 0;
    let ended = 0;
    for (const r of reports) {
      frames.push(...(r.frames as number[]));
      bytes.push(...((r.bytes as number[] | undefined) ?? []));
      unstamped += Number(r.unstamped ?? 0);
      latency.merge(r.latency as HistogramJson);
      if (r.latencyLarge) latencyLarge.merge(r.latencyLarge as HistogramJson);
      workerCpuMs += Number(r.cpuMs);
      workerRss += Number(r.rss);
      ended += Number(r.ended);
    }
    return { frames, bytes, unstamped, latency, latencyLarge, workerCpuMs, workerRss, ended };
  }

  async close(): Promise<void> {
    for (const w of this.#workers) {
      try {
        w.proc.child.send({ cmd: 'close' });
      } catch {
        // gone
      }
    }
    await Promise.all(this.#workers.map((w) => Promise.race([w.proc.exited, new Promise((r) => setTimeout(r, 3000))]).then(() => w.proc.stop(1000))));
  }
}
