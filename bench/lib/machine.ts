/** The machine the bench ran on, machine-wide CPU use, and the gateway's Prometheus metrics. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  ramGiB: number;
  kernel: string;
  node: string;
  ffmpeg: string;
  nginx: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  const ffmpeg = spawnSync('ffmpeg', ['-version']).stdout?.toString().split('\n')[0]?.replace(/ Copyright.*/, '') ?? 'missing';
  const nginxOut = spawnSync('/usr/sbin/nginx', ['-v']);
  const nginx = nginxOut.error ? 'missing' : nginxOut.stderr.toString().trim().replace('nginx version: ', '');
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    ffmpeg,
    nginx,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** Busy CPU time of the whole machine (all cores) in ms, from /proc/stat. */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return (total - idle) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Sums a Prometheus metric (all label sets) from a /metrics text. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

export async function fetchMetrics(httpUrl: string): Promise<string> {
  try {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    return await res.text();
  } catch {
    return '';
  }
}
