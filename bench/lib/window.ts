/**
 * Measurement windows over a pool of viewers, and the small helpers the sections share
 * (a log of send times, the gateway's certificate, whether it speaks raw QUIC).
 */
import type { WorkerPool } from './fanout.ts';
import { machineBusyMs } from './machine.ts';
import { CpuMeter, rssBytes, sleep, withTimeout } from './proc.ts';
import type { GatewayServer } from './servers.ts';
import { now } from './stamp.ts';
import { type Histogram, round } from './stats.ts';
import { WINDOW_S } from './context.ts';

export interface Window {
  latency: Histogram;
  latencyLarge: Histogram;
  /** The probe viewer (alone in its own process), when there is one. */
  probeLatency?: Histogram;
  frames: number[];
  /** Media bytes per viewer, frames stamped in the window. */
  bytes: number[];
  unstamped: number;
  expected: number;
  serverCpuPct: number;
  serverCpuMs: number;
  workerCpuPct: number;
  workerCpuMs: number;
  otherCpuPct: number;
  serverRss: number;
}

/**
 * One measurement window over a pool of viewers: frames stamped in [T0, T0+W) count; the server's
 * CPU is read over the same W; "other" = machine busy time not spent by the server, the workers
 * or this process (other tenants of the machine: a noise indicator).
 */
export async function measureWindow(pool: WorkerPool, serverPids: () => number[], sent: number[], windowS = WINDOW_S, probe?: WorkerPool): Promise<Window> {
  const t0 = now();
  const until = t0 + windowS * 1000;
  pool.measure(t0, until);
  probe?.measure(t0, until);
  const server = new CpuMeter(serverPids);
  const workers = new CpuMeter(() => pool.pids);
  server.start();
  workers.start();
  const busy0 = machineBusyMs();
  const self0 = process.cpuUsage();
  await sleep(windowS * 1000);
  const s = server.read();
  const w = workers.read();
  const busy = machineBusyMs() - busy0;
  const self = process.cpuUsage(self0);
  const serverRss = serverPids().reduce((a, p) => a + (rssBytes(p) || 0), 0);
  await sleep(1500); // frames in flight at the end of the window
  const report = await pool.report();
  const probeReport = await probe?.report();
  const expected = sent.filter((t) => t >= t0 && t < until).length;
  const otherMs = busy - s.cpuMs - w.cpuMs - (self.user + self.system) / 1000;
  return {
    latency: report.latency,
    latencyLarge: report.latencyLarge,
    probeLatency: probeReport?.latency,
    frames: report.frames,
    bytes: report.bytes,
    unstamped: report.unstamped,
    expected,
    serverCpuPct: round(s.percentOfCore, 1),
    serverCpuMs: s.cpuMs,
    workerCpuPct: round(w.percentOfCore, 1),
    workerCpuMs: w.cpuMs,
    otherCpuPct: round(Math.max(0, (100 * otherMs) / s.wallMs), 1),
    serverRss,
  };
}

/** Load processes for N viewers: one event loop holds a few hundred lean sessions well. */
export function workersFor(sessions: number): number {
  return sessions <= 100 ? 1 : sessions <= 500 ? 2 : 4;
}

export function newSentLog(): { sent: number[]; onSent: (i: number, at: number) => void } {
  const sent: number[] = [];
  return {
    sent,
    onSent: (_i, at) => {
      sent.push(at);
      if (sent.length > 40_000) sent.splice(0, 20_000);
    },
  };
}

export async function certificateHashOf(gw: GatewayServer): Promise<string> {
  return (await (await fetch(`${gw.httpUrl}/certificate.sha256`, { signal: AbortSignal.timeout(3000) })).text()).trim();
}

export async function probeQuic(gw: GatewayServer): Promise<{ available: boolean; reason: string; certificateSha256?: string }> {
  let hash: string | undefined;
  try {
    const res = await fetch(`${gw.httpUrl}/certificate.sha256`, { signal: AbortSignal.timeout(3000) });
    const text = (await res.text()).trim();
    if (!res.ok) return { available: false, reason: `GET /certificate.sha256 answered ${res.status}: the gateway does not listen on QUIC yet` };
    hash = text.replace(/[^0-9a-f]/gi, '');
  } catch (error) {
    return { available: false, reason: `GET /certificate.sha256 failed: ${(error as Error).message}` };
  }
  try {
    const { connectQuic } = await import('../../src/transport/quic/index.ts');
    const session = await withTimeout(
      connectQuic(`https://127.0.0.1:${gw.httpPort}/`, { alpn: ['moq-lite-04'], serverCertificateHashes: [{ algorithm: 'sha-256', value: Buffer.from(hash, 'hex') }] }),
      4000,
      'QUIC connect',
    );
    session.close();
    return { available: true, reason: 'raw QUIC (ALPN moq-lite-04) on the gateway UDP port', certificateSha256: hash };
  } catch (error) {
    return { available: false, reason: `raw QUIC connect failed: ${(error as Error).message}` };
  }
}
