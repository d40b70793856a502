import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';

/**
 * The real gateway as a child process (what `npm start` runs), and ffmpeg pushing a test
 * pattern into it: for end-to-end tests that must see the product, not its parts.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAX_LOG_LINES = 5000;

export interface GatewayProcess {
  /** The gateway's process id (e.g. for a signal). */
  pid: number | undefined;
  httpPort: number;
  rtmpPort: number;
  /** `http://127.0.0.1:<httpPort>` (no trailing slash). */
  url: string;
  /** `rtmp://127.0.0.1:<rtmpPort>/<broadcast>`, e.g. rtmpUrl('live/e2e'). */
  rtmpUrl(broadcast: string): string;
  /** Every stdout/stderr line so far (JSON logs), for assertions and failure reports. */
  logs(): string[];
  /** Resolves once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  /** Script to run, relative to the repository root (default `app/cli.ts`, what `npm start` runs). */
  entry?: string;
  /** More CLI flags, e.g. ['--takeover']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Node options placed before the script, e.g. ['--expose-gc']. */
  nodeArgs?: string[];
  /** How long to wait for 'listening' (default 30 s). */
  startTimeoutMs?: number;
  /** Mirror the gateway's output to this process's stderr (debugging). */
  echo?: boolean;
}

export async function startGateway(opts: StartGatewayOptions = {}): Promise<GatewayProcess> {
  const httpPort = await freePort({ udp: true }); // QUIC shares the HTTP port number on UDP
  const rtmpPort = await freePort();
  const args = [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.entry ?? 'app/cli.ts', '--port', String(httpPort), '--rtmp-port', String(rtmpPort), '--host', '127.0.0.1', '--log-format', 'json', ...workersArgs(opts.args)];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = exitOf(child);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit); // never leave a gateway behind if the runner dies

  const listening = new Promise<void>((resolve) => {
    collectLines(child, lines, opts.echo ?? false, (line) => {
      if (/listening/.test(line)) resolve();
    });
  });
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    listening.then(() => waitForHealth(`http://127.0.0.1:${httpPort}/healthz`, timeoutMs)),
    exited.then((code) => `exited with code ${code}` as const),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no 'listening' log within ${timeoutMs} ms`), timeoutMs))),
  ]);
  clearTimeout(timer);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await terminate(child, exited, 5000);
      process.off('exit', killOnExit);
    })());
  if (outcome !== 'ok') {
    await stop();
    throw new Error(`gateway failed to start: ${outcome}\n${lines.slice(-40).join('\n')}`);
  }
  const url = `http://127.0.0.1:${httpPort}`;
  return {
    pid: child.pid,
    httpPort,
    rtmpPort,
    url,
    rtmpUrl: (broadcast) => `rtmp://127.0.0.1:${rtmpPort}/${broadcast}`,
    logs: () => [...lines],
    exited,
    stop,
  };
}

/**
 * Tests run the single process of `--workers 1` (what they were written against) unless they
 * pass `--workers` themselves: the shipped default is one worker per core.
 */
function workersArgs(args: string[] = []): string[] {
  return args.some((arg) => arg === '--workers' || arg.startsWith('--workers=')) ? args : ['--workers', '1', ...args];
}

export interface TestPatternOptions {
  /** Full RTMP URL, e.g. gateway.rtmpUrl('live/e2e'). */
  rtmpUrl: string;
  /** Stop by itself after this long; omit to run until stop(). */
  seconds?: number;
  size?: string;
  rate?: number;
  /** Keyframe interval in frames (one MoQ group per GOP). */
  gop?: number;
  /** Leave out the sine-wave audio track. */
  noAudio?: boolean;
  /** Extra output options placed before `-f flv`. */
  extraArgs?: string[];
}

export interface TestPatternHandle {
  process: ChildProcess;
  exited: Promise<number | null>;
  /** ffmpeg's stderr so far (only errors: it runs with -loglevel error). */
  stderr(): string;
  stop(): Promise<void>;
}

/** ffmpeg pushing testsrc2 (H.264 High, 1 s GOP) + a 440 Hz sine (AAC) over RTMP, in real time. */
export function pushTestPattern(opts: TestPatternOptions): TestPatternHandle {
  const size = opts.size ?? '320x240';
  const rate = opts.rate ?? 30;
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`];
  if (!opts.noAudio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  if (opts.seconds !== undefined) args.push('-t', String(opts.seconds));
  args.push('-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', String(opts.gop ?? rate));
  if (!opts.noAudio) args.push('-c:a', 'aac', '-b:a', '96k');
  args.push(...(opts.extraArgs ?? []), '-f', 'flv', opts.rtmpUrl);

  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = exitOf(child);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  let stopping: Promise<void> | undefined;
  return {
    process: child,
    exited,
    stderr: () => stderr,
    stop: () => (stopping ??= terminate(child, exited, 3000)),
  };
}

/**
 * A port free on TCP (and on UDP too when asked) on 127.0.0.1, from below Linux's ephemeral range
 * (32768-60999): a gateway binds it seconds later (under --workers, after forking), and meanwhile
 * any outgoing connection could take an ephemeral port as its local port and make that bind fail.
 */
export async function freePort(opts: { udp?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if ((await tcpFree(candidate)) && (!opts.udp || (await udpFree(candidate)))) return candidate;
  }
  throw new Error('no free port found');
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** 'listening' may come from one listener of several: wait until HTTP answers too. */
async function waitForHealth(url: string, timeoutMs: number): Promise<'ok' | string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) return 'ok';
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return `${url} did not answer within ${timeoutMs} ms`;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null)); // e.g. ENOENT: the binary is missing
  });
}

/** SIGTERM, then SIGKILL if `child` has not exited after `graceMs`; resolves once it is gone. */
export async function terminate(child: ChildProcess, exited: Promise<number | null>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
  clearTimeout(timer);
  if (!gone) {
    child.kill('SIGKILL');
    await exited;
  }
}

function collectLines(child: ChildProcess, lines: string[], echo: boolean, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (lines.length >= MAX_LOG_LINES) lines.shift();
        lines.push(line);
        if (echo) process.stderr.write(`[gateway] ${line}\n`);
        onLine(line);
      }
    });
  }
}
