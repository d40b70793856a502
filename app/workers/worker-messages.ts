import type { GatewayPorts } from '../gateway-ports.ts';
import type { MeshAnnouncement } from '../../src/cluster/worker-mesh.ts';

/** What a worker tells its supervisor over the fork IPC channel once its listeners are up. */
export interface WorkerReady {
  type: 'ready';
  pid: number;
  ports: GatewayPorts;
  /** This worker's QUIC steering port (app/workers/steering-link.ts), when it serves QUIC. */
  steeringPort?: number;
}

/** Supervisor → workers: every worker's QUIC steering port, by worker index (0 = none yet). */
export interface SteeringPeersMessage {
  type: 'steering-peers';
  ports: number[];
}

export function isSteeringPeersMessage(message: unknown): message is SteeringPeersMessage {
  const m = message as Partial<SteeringPeersMessage> | null;
  return typeof m === 'object' && m !== null && m.type === 'steering-peers' && Array.isArray(m.ports) && m.ports.every((p) => Number.isInteger(p));
}

export function isWorkerReady(message: unknown): message is WorkerReady {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready' && typeof (message as { pid?: unknown }).pid === 'number';
}

/**
 * A worker's local broadcast appearing or ending (worker → supervisor), and the same relayed to
 * the other workers (supervisor → worker): the worker mesh's directory (src/cluster/worker-mesh.ts).
 */
export interface WorkerMeshMessage {
  type: 'mesh';
  announcement: MeshAnnouncement;
}

export function isWorkerMeshMessage(message: unknown): message is WorkerMeshMessage {
  if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'mesh') return false;
  const a = (message as { announcement?: Partial<MeshAnnouncement> }).announcement;
  return typeof a === 'object' && a !== null && typeof a.path === 'string' && typeof a.node === 'string' && typeof a.url === 'string' && typeof a.active === 'boolean';
}
