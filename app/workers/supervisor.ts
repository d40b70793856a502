import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import type { GatewayConfig } from '../config.ts';
import type { Logger } from '../../src/logger.ts';
import { onShutdownRequest } from '../shutdown-triggers.ts';
import { WORKER_COUNT_ENV, WORKER_INDEX_ENV } from './worker-role.ts';
import { isWorkerMeshMessage, isWorkerReady, type SteeringPeersMessage, type WorkerMeshMessage, type WorkerReady } from './worker-messages.ts';
import { DEV_CERTIFICATE_ENV, encodeDevCertificate, type DevCertificateMessage } from './shared-dev-certificate.ts';
import { devCertificateHosts } from '../moq-acceptor.ts';
import { DevCertificateManager } from '../../src/transport/tls/index.ts';
import { MeshRelay } from './mesh-relay.ts';
import { FleetRelay } from './fleet-relay.ts';

/**
 * `--workers N` (N > 1): this process serves nothing itself. It forks N gateways with the same
 * CLI arguments, each binding the same HTTP/WebSocket and RTMP ports with SO_REUSEPORT (the
 * kernel spreads new connections over them), relays the worker mesh's announcements between them
 * (MeshRelay) and their questions to each other (FleetRelay: API, /metrics, per-address
 * limits), restarts one that dies, and on SIGTERM stops them all within SUPERVISOR_DRAIN_MS.
 */
export interface SupervisorOptions {
  config: GatewayConfig;
  /** The CLI arguments (without `node cli.ts`) every worker gets, before the resolved ports. */
  argv: string[];
  count: number;
  logger: Logger;
  /** The script the workers run (default: this process's entry, app/cli.ts). */
  entry?: string;
}

/** How long SIGTERM lets the workers drain (each ends itself within 4.5 s) before SIGKILL. */
const SUPERVISOR_DRAIN_MS = 5000;
/** A worker that dies sooner than this after its start waits RESTART_BACKOFF_MS before the next. */
const CRASH_LOOP_MS = 2000;
const RESTART_DELAY_MS = 100;
const RESTART_BACKOFF_MS = 2000;

interface Slot {
  index: number;
  child: ChildProcess | undefined;
  startedAt: number;
  restarts: number;
}

/** Runs until shutdown; resolves with the exit code (1 when the workers could not start). */
export async function runSupervisor(opts: SupervisorOptions): Promise<number> {
  const { config, count, logger } = opts;
  const ports = await resolvePorts(config);
  // Later flags win in parseArgs: the resolved ports override a `--port 0` of the user's.
  const argv = [...opts.argv, '--port', String(ports.http), `--rtmp-port=${ports.rtmp}`, `--rtmps-port=${ports.rtmps}`];
  const entry = opts.entry ?? process.argv[1]!;
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, child: undefined, startedAt: 0, restarts: 0 }));
  let stopping = false;
  const mesh = new MeshRelay();
  const fleet = new FleetRelay((index) => slots[index]?.child, count);
  // QUIC on every worker: one dev certificate for all (browsers pin its hash), and each
  // worker's steering port for the others.
  const devCertificate = config.quic && !config.tlsCert ? new DevCertificateManager({ hosts: devCertificateHosts(config) }) : undefined;
  devCertificate?.material.onRenew?.((next) => {
    for (const slot of slots) if (slot.child?.connected) slot.child.send({ type: 'dev-certificate', certPem: next.certPem, keyPem: next.keyPem } satisfies DevCertificateMessage);
  });
  const steeringPorts: number[] = Array.from({ length: count }, () => 0);
  const announceSteering = () => {
    for (const slot of slots) if (slot.child?.connected) slot.child.send({ type: 'steering-peers', ports: steeringPorts } satisfies SteeringPeersMessage);
  };
  const sendMesh = (to: ChildProcess | undefined, announcement: WorkerMeshMessage['announcement']) => {
    if (to?.connected) to.send({ type: 'mesh', announcement } satisfies WorkerMeshMessage, (error) => error && logger.debug({ err: error }, 'mesh message not delivered'));
  };
  const toOthers = (from: number, announcement: WorkerMeshMessage['announcement']) => {
    for (const slot of slots) if (slot.index !== from) sendMesh(slot.child, announcement);
  };

  const start = (slot: Slot): Promise<WorkerReady | undefined> => {
    slot.startedAt = Date.now();
    const child = fork(entry, argv, {
      env: {
        ...process.env,
        [WORKER_INDEX_ENV]: String(slot.index),
        [WORKER_COUNT_ENV]: String(count),
        ...(devCertificate ? { [DEV_CERTIFICATE_ENV]: encodeDevCertificate(devCertificate.current) } : {}),
      },
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.child = child;
    const ready = new Promise<WorkerReady | undefined>((resolve) => {
      child.on('message', (message: unknown) => {
        if (fleet.handle(slot.index, message)) return;
        if (isWorkerMeshMessage(message)) toOthers(slot.index, mesh.report(slot.index, message.announcement));
        else if (isWorkerReady(message)) {
          for (const announcement of mesh.snapshotFor(slot.index)) sendMesh(child, announcement);
          for (const limit of fleet.limitsFor(slot.index)) child.send(limit, () => undefined);
          steeringPorts[slot.index] = message.steeringPort ?? 0;
          announceSteering();
          resolve(message);
        }
      });
      child.once('exit', () => resolve(undefined));
    });
    child.once('exit', (code, signal) => {
      slot.child = undefined;
      fleet.workerGone(slot.index);
      for (const announcement of mesh.withdraw(slot.index)) toOthers(slot.index, announcement);
      if (stopping) return;
      const lived = Date.now() - slot.startedAt;
      logger.warn({ worker: slot.index, code, signal, livedMs: lived }, `worker ${slot.index} exited: restarting it`);
      slot.restarts++;
      setTimeout(() => {
        if (!stopping) void start(slot).then((up) => up && logger.info({ worker: slot.index, pid: up.pid }, `worker ${slot.index} restarted`));
      }, lived < CRASH_LOOP_MS ? RESTART_BACKOFF_MS : RESTART_DELAY_MS).unref();
    });
    return ready;
  };

  const stopAll = async (): Promise<void> => {
    stopping = true;
    devCertificate?.stop();
    const live = slots.map((slot) => slot.child).filter((child): child is ChildProcess => child !== undefined);
    const exits = live.map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()))));
    for (const child of live) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([Promise.all(exits).then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), SUPERVISOR_DRAIN_MS)))]);
    clearTimeout(timer);
    if (!drained) {
      for (const child of live) child.kill('SIGKILL');
      await Promise.all(exits);
    }
  };

  const shutdown = new Promise<string>((resolve) => onShutdownRequest((reason) => resolve(reason)));
  const first = await Promise.race([Promise.all(slots.map((slot) => start(slot))), shutdown.then(() => 'shutdown' as const)]);
  if (first === 'shutdown') {
    await stopAll();
    return 0;
  }
  if (first.some((ready) => ready === undefined)) {
    logger.fatal({ workers: count }, 'a worker failed to start: stopping the others');
    await stopAll();
    return 1;
  }
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  logger.info(
    { http: ports.http, rtmp: ports.rtmp >= 0 ? ports.rtmp : undefined, workers: count, pids: first.map((ready) => ready?.pid) },
    `moq-gateway listening with ${count} workers: MoQ/HTTP http://${host}:${ports.http}/` + (ports.rtmp >= 0 ? `, RTMP rtmp://${host}:${ports.rtmp}/live` : ''),
  );
  const reason = await shutdown;
  logger.info({ reason, workers: count }, 'shutting down every worker');
  await stopAll();
  return 0;
}

/**
 * Port 0 means "any free port" to one process; N workers must agree on one, so the supervisor
 * picks it (TCP and, for QUIC, UDP free on the same number) and hands it to all of them.
 */
async function resolvePorts(config: GatewayConfig): Promise<{ http: number; rtmp: number; rtmps: number }> {
  const http = config.port === 0 ? await freePort(config.host, true) : config.port;
  const rtmp = config.rtmpPort === 0 ? await freePort(config.host, false) : config.rtmpPort;
  const rtmps = config.rtmpsPort === 0 ? await freePort(config.host, false) : config.rtmpsPort;
  return { http, rtmp, rtmps };
}

async function freePort(host: string, udpToo: boolean): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (!udpToo || (await udpFree(host, port))) return port;
  }
  throw new Error('no free port found for the workers');
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}
