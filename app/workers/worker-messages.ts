import type { GatewayPorts } from '../gateway.ts';

/** What a worker tells its supervisor over the fork IPC channel once its listeners are up. */
export interface WorkerReady {
  type: 'ready';
  pid: number;
  ports: GatewayPorts;
}

export function isWorkerReady(message: unknown): message is WorkerReady {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready' && typeof (message as { pid?: unknown }).pid === 'number';
}
