/**
 * A subscriber process for the fan-out bench: many viewer sessions in one process, driven over IPC
 * by bench/run.ts (started with `node --import tsx bench/subscriber-worker.ts`).
 *
 *   → { cmd: 'connect', protocol: 'lite-ws' | 'lite-quic' | 'lite-wt' | 'ietf-ws' | 'rtmp', url, broadcast, track, sessions,
 *       concurrency?, certificateSha256? }     ← { type: 'connected', ok, failed, error? }
 *   → { cmd: 'measure', from, until }          counts frames stamped in [from, until) from now on
 *   → { cmd: 'report' }                        ← { type: 'report', frames[], latency, cpuMs, rss, ended }
 *   → { cmd: 'close' }                         closes every session and exits
 *
 * Each received frame's stamp (lib/stamp.ts) gives its latency: receive time − send time.
 */
import { connectLite, type LiteClient, type ConnectLiteOptions } from '../src/moq/lite/client.ts';
import { restrictWebSocketProtocols } from '../test/helpers/polyfills.ts';
import { RtmpPlayer } from './lib/rtmp.ts';
import { findStamp, now } from './lib/stamp.ts';
import { Histogram } from './lib/stats.ts';


interface ConnectCommand {
  cmd: 'connect';
  protocol: 'lite-ws' | 'lite-quic' | 'lite-wt' | 'ietf-ws' | 'rtmp';
  url: string;
  broadcast: string;
  track: string;
  sessions: number;
  concurrency?: number;
  certificateSha256?: string;
}

type Command = ConnectCommand | { cmd: 'measure'; from: number; until: number } | { cmd: 'report' } | { cmd: 'close' };

interface Session {
  frames: number;
  ended: boolean;
  close(): void;
}

const sessions: Session[] = [];
const latency = new Histogram();
/** Latency of large frames only (keyframes of the bench media are ~120 KB, others ~9 KB). */
const latencyLarge = new Histogram();
const LARGE_FRAME_BYTES = 40_000;
let from = Number.POSITIVE_INFINITY;
let until = Number.POSITIVE_INFINITY;

function onFrame(session: Session, bytes: Uint8Array): void {
  const stamp = findStamp(bytes, 160);
  if (!stamp) return;
  const at = now();
  if (stamp.sentAt < from || stamp.sentAt >= until) return;
  session.frames++;
  latency.record(at - stamp.sentAt);
  if (bytes.byteLength >= LARGE_FRAME_BYTES) latencyLarge.record(at - stamp.sentAt);
}

async function openLite(command: ConnectCommand): Promise<Session> {
  let transport: ConnectLiteOptions['transport'];
  if (command.protocol === 'lite-quic' || command.protocol === 'lite-wt') {
    const { connectQuic, connectWebTransport } = await import('../src/transport/quic/index.ts');
    const hashes = command.certificateSha256 ? [{ algorithm: 'sha-256', value: Buffer.from(command.certificateSha256, 'hex') }] : undefined;
    const url = command.url.replace(/^http:/, 'https:');
    transport =
      command.protocol === 'lite-quic'
        ? await connectQuic(url, { alpn: ['moq-lite-04', 'moq-lite-03'], serverCertificateHashes: hashes })
        : await connectWebTransport(url, { protocols: ['moq-lite-04', 'moq-lite-03'], serverCertificateHashes: hashes });
  }
  const client: LiteClient = await connectLite(command.url, { transport, connectTimeoutMs: 15_000 });
  const session: Session = { frames: 0, ended: false, close: () => client.close() };
  const subscription = client.subscribe(command.broadcast, command.track, 60).subscribe();
  void (async () => {
    try {
      for (;;) {
        const group = await subscription.nextGroup();
        if (!group) break;
        const reader = group.reader();
        for (let frame = await reader.readFrame(); frame; frame = await reader.readFrame()) onFrame(session, frame);
      }
    } catch {
      // the track was aborted
    } finally {
      session.ended = true;
    }
  })();
  return session;
}

/** IETF moq-transport draft-16 through the published @moq/net client (QMux over WebSocket). */
async function openIetf(command: ConnectCommand): Promise<Session> {
  restrictWebSocketProtocols((p) => p.includes('moqt-16'));
  const Moq = await import('@moq/net');
  const connection = await Moq.Connection.connect(new URL(command.url), { websocket: { delay: 0 } });
  const session: Session = { frames: 0, ended: false, close: () => connection.close() };
  const track = connection.consume(Moq.Path.from(command.broadcast)).subscribe(command.track);
  void (async () => {
    try {
      for (;;) {
        const group = await track.recvGroup();
        if (!group) break;
        for (let frame = await group.readFrame(); frame; frame = await group.readFrame()) onFrame(session, frame.payload);
      }
    } catch {
      // ended
    } finally {
      session.ended = true;
    }
  })();
  return session;
}

async function openRtmp(command: ConnectCommand): Promise<Session> {
  const session: Session = { frames: 0, ended: false, close: () => undefined };
  const player = await RtmpPlayer.connect(command.url, (_ts, body) => onFrame(session, body), 15_000);
  session.close = () => player.close();
  void player.closed.then(() => (session.ended = true));
  return session;
}

async function connectAll(command: ConnectCommand): Promise<void> {
  let ok = 0;
  let failed = 0;
  let error: string | undefined;
  let next = 0;
  const concurrency = command.concurrency ?? 16;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, command.sessions) }, async () => {
      while (next < command.sessions) {
        next++;
        try {
          const open = command.protocol === 'rtmp' ? openRtmp : command.protocol === 'ietf-ws' ? openIetf : openLite;
          sessions.push(await open(command));
          ok++;
        } catch (e) {
          failed++;
          error ??= (e as Error).message;
        }
      }
    }),
  );
  send({ type: 'connected', ok, failed, error });
}

function send(message: unknown): void {
  process.send?.(message);
}

let cpuBase = process.cpuUsage();

process.on('message', (message: Command) => {
  switch (message.cmd) {
    case 'connect':
      void connectAll(message);
      return;
    case 'measure':
      from = message.from;
      until = message.until;
      latency.reset();
      latencyLarge.reset();
      for (const s of sessions) s.frames = 0;
      cpuBase = process.cpuUsage();
      return;
    case 'report': {
      const cpu = process.cpuUsage(cpuBase);
      send({
        type: 'report',
        frames: sessions.map((s) => s.frames),
        ended: sessions.filter((s) => s.ended).length,
        latency: latency.toJSON(),
        latencyLarge: latencyLarge.toJSON(),
        cpuMs: (cpu.user + cpu.system) / 1000,
        rss: process.memoryUsage.rss(),
      });
      return;
    }
    case 'close':
      for (const s of sessions) s.close();
      setTimeout(() => process.exit(0), 300);
      return;
  }
});

// A client library's internal error in one session must not end the other sessions' measurement.
process.on('uncaughtException', () => undefined);
// The bench went away: do not linger.
process.on('disconnect', () => process.exit(0));
// @moq clients and their transports log to the console; keep the IPC channel clean of noise.
for (const level of ['log', 'debug', 'info', 'warn'] as const) console[level] = () => undefined;
send({ type: 'ready' });
