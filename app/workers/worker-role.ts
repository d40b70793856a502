import { availableParallelism } from 'node:os';
import type { GatewayConfig } from '../config.ts';

/**
 * Which process this is under `--workers N`: the supervisor (app/workers/supervisor.ts) starts
 * each worker with the same CLI arguments and these two variables (not MOQ_*: they are no
 * option a user sets). A gateway without them is the single process of `--workers 1`.
 */
export interface WorkerRole {
  /** 0 … count-1; also the first byte of the QUIC connection IDs this worker issues. */
  index: number;
  count: number;
}

export const WORKER_INDEX_ENV = 'GATEWAY_WORKER_INDEX';
export const WORKER_COUNT_ENV = 'GATEWAY_WORKER_COUNT';

/** This process's role, or undefined outside a supervisor. */
export function workerRole(env: NodeJS.ProcessEnv = process.env): WorkerRole | undefined {
  const index = Number(env[WORKER_INDEX_ENV]);
  const count = Number(env[WORKER_COUNT_ENV]);
  if (env[WORKER_INDEX_ENV] === undefined || !Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) return undefined;
  return { index, count };
}

/**
 * How many processes `config` asks for: `workers` 0 (the default) is one per core. A shared
 * WHIP ICE port (`webrtc.udpPort`) and recording (`record`) need one process, so the default
 * then is 1 (an explicit `--workers N > 1` with either is a config error).
 */
export function workerCount(config: GatewayConfig): number {
  if (config.workers > 0) return config.workers;
  return config.webrtcUdpPort !== 0 || config.record.length > 0 ? 1 : availableParallelism();
}
