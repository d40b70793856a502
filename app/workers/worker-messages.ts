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

/**
 * A question for every other worker (app/workers/fleet.ts), so any worker answers the API and
 * /metrics for the whole gateway: worker → supervisor as `fleet-ask`, supervisor → each other
 * worker as `fleet-query`, their `fleet-answer`s collected into one `fleet-answers` for the asker.
 */
export type FleetQuery =
  | { kind: 'api-broadcasts' }
  | { kind: 'api-sessions' }
  | { kind: 'metrics' }
  | { kind: 'kick-session'; id: number }
  | { kind: 'kick-broadcast'; path: string }
  /** A new publisher of `path` on the asking worker: give the name up if it may be (PublisherRegistry.yieldTo). */
  | { kind: 'release-publisher'; path: string };

export interface FleetAsk {
  type: 'fleet-ask';
  id: number;
  query: FleetQuery;
}

export interface FleetQueryMessage {
  type: 'fleet-query';
  id: number;
  query: FleetQuery;
}

export interface FleetAnswer {
  type: 'fleet-answer';
  id: number;
  answer: unknown;
}

export interface FleetAnswers {
  type: 'fleet-answers';
  id: number;
  /** One per other worker that answered in time (a worker restarting is left out). */
  answers: unknown[];
}

/**
 * Per-address session counts across workers (`--max-sessions-per-ip` holds for the whole
 * gateway): a worker reports its own count for an address whenever it changes (`limit-count`),
 * and the supervisor tells every other worker the sum held elsewhere (`limit-others`).
 */
export interface LimitCount {
  type: 'limit-count';
  address: string;
  count: number;
}

export interface LimitOthers {
  type: 'limit-others';
  address: string;
  count: number;
}

const QUERY_KINDS = new Set(['api-broadcasts', 'api-sessions', 'metrics', 'kick-session', 'kick-broadcast', 'release-publisher']);

function hasType<T extends string>(message: unknown, type: T): message is { type: T } & Record<string, unknown> {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

function isQuery(query: unknown): query is FleetQuery {
  return typeof query === 'object' && query !== null && QUERY_KINDS.has((query as { kind?: unknown }).kind as string);
}

export const isFleetAsk = (m: unknown): m is FleetAsk => hasType(m, 'fleet-ask') && Number.isInteger(m.id) && isQuery(m.query);
export const isFleetQuery = (m: unknown): m is FleetQueryMessage => hasType(m, 'fleet-query') && Number.isInteger(m.id) && isQuery(m.query);
export const isFleetAnswer = (m: unknown): m is FleetAnswer => hasType(m, 'fleet-answer') && Number.isInteger(m.id);
export const isFleetAnswers = (m: unknown): m is FleetAnswers => hasType(m, 'fleet-answers') && Number.isInteger(m.id) && Array.isArray(m.answers);
export const isLimitCount = (m: unknown): m is LimitCount => hasType(m, 'limit-count') && typeof m.address === 'string' && Number.isInteger(m.count);
export const isLimitOthers = (m: unknown): m is LimitOthers => hasType(m, 'limit-others') && typeof m.address === 'string' && Number.isInteger(m.count);
