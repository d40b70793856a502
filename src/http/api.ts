import type http from 'node:http';
import type { Broadcast, Origin } from '../relay/index.ts';
import type { PublisherRegistry } from '../media/publishers.ts';
import { CATALOG_TRACK } from '../media/hang/catalog.ts';
import type { ApiBroadcast, ApiClosedSession, ApiInfo, ApiSession } from './api-types.ts';
import { HttpError, type HttpServer } from './server.ts';

export interface ApiDeps {
  origin: Origin;
  publishers: PublisherRegistry;
  info: () => ApiInfo;
  sessions: () => ApiSession[];
  /** The last closed sessions with their close reasons. */
  closedSessions: () => ApiClosedSession[];
  kickSession: (id: number) => boolean;
  /** Cluster state, or undefined when standalone. */
  cluster: () => unknown;
  /** Rejects (HttpError 401/403) when the request may not use the API. */
  authorize: (req: http.IncomingMessage) => Promise<void>;
  /** Under `--workers N`: the other workers' part of each answer (app/workers/fleet-api.ts). */
  fleet?: ApiFleet;
  /** Under `--workers N`: copies of other workers' broadcasts held here (their viewers count in the merge). */
  relayed?: () => Broadcast[];
}

export interface ApiSessionList {
  sessions: ApiSession[];
  closed: ApiClosedSession[];
}

/** What this process answers by itself; under `--workers N` every worker's is merged. */
export interface LocalApi {
  /** `withRelayed`: with the copies of other workers' broadcasts (`ApiDeps.relayed`), for the fleet's merge. */
  broadcasts(withRelayed?: boolean): ApiBroadcast[];
  sessions(): ApiSessionList;
  kickSession(id: number): boolean;
  /** Ends the broadcast where its publisher is connected; false when none is here. */
  kickPublisher(path: string): boolean;
}

/** Merges the other workers' answers into this one's, so any worker answers for the gateway. */
export interface ApiFleet {
  broadcasts(local: ApiBroadcast[]): Promise<ApiBroadcast[]>;
  sessions(local: ApiSessionList): Promise<ApiSessionList>;
  kickSession(id: number): Promise<boolean>;
  kickPublisher(path: string): Promise<boolean>;
}

/** The JSON API under /api/ (documented in docs/openapi.yaml). Returns this process's own answers. */
export function mountApi(server: HttpServer, deps: ApiDeps): LocalApi {
  const bitrates = new BitrateMeter();
  const local: LocalApi = {
    broadcasts: (withRelayed = false) => listBroadcasts(deps, bitrates, withRelayed),
    sessions: () => ({ sessions: deps.sessions(), closed: deps.closedSessions() }),
    kickSession: (id) => deps.kickSession(id),
    kickPublisher: (path) => deps.publishers.kick(path, 'kicked by the API'),
  };
  const { fleet } = deps;
  const broadcasts = () => (fleet ? fleet.broadcasts(local.broadcasts(true)) : local.broadcasts());
  server.route('/api/', async (req, res, subpath) => {
    const parts = subpath.split('/').filter(Boolean);
    if (req.method === 'OPTIONS') return sendJson(res, 204, undefined);
    await deps.authorize(req);
    if (req.method === 'GET' && subpath === 'info') return sendJson(res, 200, deps.info());
    if (req.method === 'GET' && subpath === 'broadcasts') return sendJson(res, 200, { broadcasts: await broadcasts() });
    if (req.method === 'GET' && subpath === 'sessions') return sendJson(res, 200, fleet ? await fleet.sessions(local.sessions()) : local.sessions());
    if (req.method === 'GET' && subpath === 'cluster') {
      const cluster = deps.cluster();
      if (cluster === undefined) throw new HttpError(404, 'this node is not in a cluster');
      return sendJson(res, 200, cluster);
    }
    if (parts[0] === 'broadcasts' && parts.length > 1) {
      const path = parts.slice(1).join('/');
      if (req.method === 'GET') {
        const found = (await broadcasts()).find((b) => b.path === path);
        if (!found) throw new HttpError(404, `no broadcast ${path}`);
        return sendJson(res, 200, found);
      }
      if (req.method === 'DELETE') {
        if (!local.kickPublisher(path) && !(await fleet?.kickPublisher(path))) {
          // No publisher anywhere (a broadcast relayed from another node): end it here.
          const broadcast = deps.origin.get(path);
          if (!broadcast) throw new HttpError(404, `no broadcast ${path}`);
          broadcast.close();
        }
        return sendJson(res, 200, { kicked: path });
      }
    }
    if (parts[0] === 'sessions' && parts.length === 2 && req.method === 'DELETE') {
      const id = Number(parts[1]);
      if (!local.kickSession(id) && !(await fleet?.kickSession(id))) throw new HttpError(404, `no session ${parts[1]}`);
      return sendJson(res, 200, { kicked: id });
    }
    throw new HttpError(404, `no API endpoint ${req.method} /api/${subpath}`);
  });
  return local;
}

function listBroadcasts(deps: ApiDeps, bitrates: BitrateMeter, withRelayed: boolean): ApiBroadcast[] {
  const publishers = new Map(deps.publishers.list().map((p) => [p.path, p]));
  const held = withRelayed ? [...deps.origin.list(), ...(deps.relayed?.() ?? [])] : deps.origin.list();
  return held.map((broadcast) => {
    const publisher = publishers.get(broadcast.path);
    const trackStats = publisher?.writer.stats().tracks ?? [];
    const tracks = broadcast
      .tracks()
      .filter((t) => t.name !== CATALOG_TRACK)
      .map((t) => {
        const stat = trackStats.find((s) => s.name === t.name);
        return {
          name: t.name,
          kind: stat?.kind ?? 'unknown',
          codec: stat?.codec ?? 'unknown',
          bitrate: stat ? bitrates.sample(`${broadcast.path}/${t.name}`, stat.bytes, broadcast.createdAt) : 0,
          subscribers: t.subscriberCount,
        };
      });
    return {
      path: broadcast.path,
      tracks,
      publisher: publisher
        ? { protocol: publisher.meta.protocol, remoteAddress: publisher.meta.remoteAddress, connected: publisher.connected }
        : broadcast.info.protocol
          ? { protocol: broadcast.info.protocol, remoteAddress: broadcast.info.remoteAddress ?? '', connected: true }
          : undefined,
      viewers: Math.max(0, ...tracks.map((t) => t.subscribers)),
      startedAt: new Date(broadcast.createdAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - broadcast.createdAt) / 1000),
    };
  });
}

/**
 * Bits per second from a byte counter, averaged since the previous look (at least 1 s apart).
 * The first look has no previous one: it averages since `since` (the broadcast's start), so a
 * dashboard's first poll shows a rate rather than 0.
 */
class BitrateMeter {
  readonly #last = new Map<string, { bytes: number; at: number; rate: number }>();

  sample(key: string, bytes: number, since: number): number {
    const now = Date.now();
    const last = this.#last.get(key);
    if (!last) {
      if (now - since < 1000) return 0; // too early to say; the next look averages from the start
      const rate = Math.round((bytes * 8 * 1000) / (now - since));
      this.#last.set(key, { bytes, at: now, rate });
      return rate;
    }
    if (now - last.at >= 1000) {
      last.rate = Math.round(((bytes - last.bytes) * 8 * 1000) / (now - last.at));
      last.bytes = bytes;
      last.at = now;
    }
    if (this.#last.size > 10_000) this.#last.clear();
    return last.rate;
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, DELETE, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type',
  });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}
