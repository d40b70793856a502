import type { ApiBroadcast, ApiTrack } from '../../src/http/api-types.ts';
import type { ApiFleet, ApiSessionList } from '../../src/http/api.ts';
import type { WorkerFleet } from './fleet.ts';

/** Closed sessions the merged list keeps, like one process's registry. */
const CLOSED_KEPT = 100;

/** `/api/*` under `--workers N`: this worker's answer and the others', merged (see mergeBroadcasts). */
export class FleetApi implements ApiFleet {
  constructor(
    private readonly fleet: WorkerFleet,
    private readonly index: number,
  ) {}

  async broadcasts(local: ApiBroadcast[]): Promise<ApiBroadcast[]> {
    const others = (await this.fleet.ask({ kind: 'api-broadcasts' })).filter(isWorkerBroadcasts);
    return mergeBroadcasts([{ worker: this.index, broadcasts: local }, ...others]);
  }

  async sessions(local: ApiSessionList): Promise<ApiSessionList> {
    const others = (await this.fleet.ask({ kind: 'api-sessions' })).filter(isSessionList);
    return mergeSessions([local, ...others]);
  }

  async kickSession(id: number): Promise<boolean> {
    return (await this.fleet.ask({ kind: 'kick-session', id })).includes(true);
  }

  async kickPublisher(path: string): Promise<boolean> {
    return (await this.fleet.ask({ kind: 'kick-broadcast', path })).includes(true);
  }
}

/** A worker's answer to `api-broadcasts`. */
export interface WorkerBroadcasts {
  worker: number;
  broadcasts: ApiBroadcast[];
}

function isWorkerBroadcasts(answer: unknown): answer is WorkerBroadcasts {
  return typeof answer === 'object' && answer !== null && Number.isInteger((answer as WorkerBroadcasts).worker) && Array.isArray((answer as WorkerBroadcasts).broadcasts);
}

function isSessionList(answer: unknown): answer is ApiSessionList {
  return typeof answer === 'object' && answer !== null && Array.isArray((answer as ApiSessionList).sessions) && Array.isArray((answer as ApiSessionList).closed);
}

/** A copy relayed from another worker or node (src/cluster/remote-broadcasts.ts), not the publisher's own. */
const isRelayed = (b: ApiBroadcast) => b.publisher === undefined || b.publisher.protocol === 'cluster';

/**
 * One entry per broadcast path from every worker's list. A broadcast lives on the worker that took
 * its publisher; a worker with viewers of it holds a relayed copy whose every track is one upstream
 * subscription to that worker. So a track's subscribers are the sum over workers, less one on the
 * owner per relayed copy of it, and the viewers (sessions) the sum less one link session per such
 * worker. Without an owner among the workers (relayed from another cluster node), each copy's
 * viewers are real and simply add up.
 */
export function mergeBroadcasts(perWorker: WorkerBroadcasts[]): ApiBroadcast[] {
  const byPath = new Map<string, ApiBroadcast[]>();
  const ownerOf = new Map<ApiBroadcast, number>();
  for (const { worker, broadcasts } of perWorker) {
    for (const b of broadcasts) {
      const copies = byPath.get(b.path);
      if (copies) copies.push(b);
      else byPath.set(b.path, [b]);
      if (!isRelayed(b)) ownerOf.set(b, worker);
    }
  }
  return [...byPath.values()].map((copies) => {
    const owner = copies.find((b) => ownerOf.has(b));
    const base = owner ?? copies[0]!;
    const subscribers = new Map<string, number>();
    const tracks = new Map<string, ApiTrack>(base.tracks.map((track) => [track.name, track]));
    for (const copy of copies) {
      for (const track of copy.tracks) {
        if (!tracks.has(track.name)) tracks.set(track.name, track);
        const upstream = owner && copy !== owner ? 1 : 0;
        subscribers.set(track.name, (subscribers.get(track.name) ?? 0) + track.subscribers - upstream);
      }
    }
    const merged = [...tracks.values()].map((track) => ({ ...track, subscribers: Math.max(0, subscribers.get(track.name) ?? 0) }));
    // Viewers are sessions: each copy's own add up, less the owner's one link session per worker
    // whose copy has viewers (it subscribes upstream for all of them).
    const linked = owner ? copies.filter((copy) => copy !== owner && copy.viewers > 0).length : 0;
    const viewers = Math.max(0, copies.reduce((n, copy) => n + copy.viewers, 0) - linked);
    return { ...base, tracks: merged, viewers, ...(owner ? { worker: ownerOf.get(owner) } : {}) };
  });
}

/** Every worker's live sessions (ids are unique across workers), and the latest closed ones. */
export function mergeSessions(perWorker: ApiSessionList[]): ApiSessionList {
  const sessions = perWorker.flatMap((list) => list.sessions).sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id - b.id);
  const closed = perWorker
    .flatMap((list) => list.closed)
    .sort((a, b) => a.closedAt.localeCompare(b.closedAt) || a.id - b.id)
    .slice(-CLOSED_KEPT);
  return { sessions, closed };
}
