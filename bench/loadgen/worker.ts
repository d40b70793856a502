/**
 * A lean load-generator process: many viewer sessions (moq-lite over WebSocket or raw QUIC,
 * bare WebSocket, RTMP players), driven over IPC by the bench (lib/fanout.ts WorkerPool). Same
 * messages as subscriber-worker.ts (which keeps the reference clients: @moq/net, WebTransport):
 *
 *   → { cmd: 'connect', protocol, url, broadcast, track, sessions, concurrency?, certificateSha256?, framing? }
 *                                              ← { type: 'connected', ok, failed, error? }
 *   → { cmd: 'measure', from, until }          counts frames stamped in [from, until) from now on
 *   → { cmd: 'report' }                        ← { type: 'report', frames[], bytes[], latency, cpuMs, rss, ended, unstamped }
 *   → { cmd: 'close' }                         closes every session and exits
 *
 * Run alone for a quick look: `node --import tsx bench/loadgen/worker.ts <ws|quic|bare-ws> <url> <broadcast> <n> [seconds]`.
 */
import { RtmpPlayer } from '../lib/rtmp.ts';
import { now } from '../lib/stamp.ts';
import type { LeanProtocol } from './protocols.ts';
import { Tally } from './tally.ts';
import { pathToFileURL } from 'node:url';
import type { WsFraming } from './qmux.ts';
import { type Viewer, type ViewerTarget, openBareWsViewer, openQuicLiteViewer, openWsLiteViewer } from './viewers.ts';


interface ConnectCommand extends ViewerTarget {
  cmd: 'connect';
  protocol: LeanProtocol;
  sessions: number;
  concurrency?: number;
}

type Command = ConnectCommand | { cmd: 'measure'; from: number; until: number } | { cmd: 'report' } | { cmd: 'close' };

const tally = new Tally();
const viewers: Viewer[] = [];

async function openRtmp(target: ViewerTarget): Promise<Viewer> {
  const viewer: Viewer = { frames: 0, bytes: 0, ended: false, close: () => undefined };
  const player = await RtmpPlayer.connect(target.url, (_ts, body) => tally.frame(viewer, body.subarray(0, 160), body.byteLength), target.timeoutMs ?? 15_000);
  viewer.close = () => player.close();
  void player.closed.then(() => (viewer.ended = true));
  return viewer;
}

const OPENERS: Record<LeanProtocol, (target: ViewerTarget, tally: Tally) => Promise<Viewer>> = {
  'lite-ws': openWsLiteViewer,
  'lite-quic': openQuicLiteViewer,
  'bare-ws': openBareWsViewer,
  rtmp: openRtmp,
};

async function connectAll(command: ConnectCommand): Promise<{ ok: number; failed: number; error?: string }> {
  let ok = 0;
  let failed = 0;
  let error: string | undefined;
  let next = 0;
  const open = OPENERS[command.protocol];
  if (!open) return { ok, failed: command.sessions, error: `the lean load generator has no ${command.protocol} viewer` };
  await Promise.all(
    Array.from({ length: Math.min(command.concurrency ?? 16, command.sessions) }, async () => {
      while (next < command.sessions) {
        next++;
        try {
          viewers.push(await open(command, tally));
          ok++;
        } catch (e) {
          failed++;
          error ??= (e as Error).message;
        }
      }
    }),
  );
  return { ok, failed, error };
}

let cpuBase = process.cpuUsage();

function report() {
  const cpu = process.cpuUsage(cpuBase);
  return {
    type: 'report',
    frames: viewers.map((v) => v.frames),
    bytes: viewers.map((v) => v.bytes),
    ended: viewers.filter((v) => v.ended).length,
    unstamped: tally.unstamped,
    latency: tally.latency.toJSON(),
    latencyLarge: tally.latencyLarge.toJSON(),
    cpuMs: (cpu.user + cpu.system) / 1000,
    rss: process.memoryUsage.rss(),
  };
}

function handle(message: Command): void {
  switch (message.cmd) {
    case 'connect':
      void connectAll(message).then((r) => process.send?.({ type: 'connected', ...r }));
      return;
    case 'measure':
      tally.window(message.from, message.until, viewers);
      cpuBase = process.cpuUsage();
      return;
    case 'report':
      process.send?.(report());
      return;
    case 'close':
      for (const v of viewers) v.close();
      setTimeout(() => process.exit(0), 300);
      return;
  }
}

// One session's failure must not end the others' measurement.
process.on('uncaughtException', () => undefined);

const isMain = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
if (isMain && process.send) {
  process.on('message', handle);
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready' });
} else if (isMain) {
  // Stand-alone: viewers for a few seconds, then a summary on stdout.
  const [kind = 'ws', url = 'http://127.0.0.1:4443/', broadcast = 'live/test', n = '10', seconds = '5', framing] = process.argv.slice(2);
  const protocol = ({ ws: 'lite-ws', quic: 'lite-quic', 'bare-ws': 'bare-ws', rtmp: 'rtmp' } as Record<string, LeanProtocol>)[kind] ?? 'lite-ws';
  const r = await connectAll({ cmd: 'connect', protocol, url, broadcast, track: 'video', sessions: Number(n), framing: framing as WsFraming | undefined });
  const t0 = now();
  tally.window(t0, t0 + Number(seconds) * 1000, viewers);
  cpuBase = process.cpuUsage();
  setTimeout(() => {
    const out = report();
    process.stdout.write(`${JSON.stringify({ connected: r, frames: out.frames, p50: tally.latency.quantile(0.5), p99: tally.latency.quantile(0.99), cpuMs: out.cpuMs, unstamped: out.unstamped })}\n`);
    process.exit(0);
  }, Number(seconds) * 1000 + 1000);
}
