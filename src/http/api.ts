import type http from 'node:http';
import type { Broadcast, Origin } from '../relay/index.ts';
import type { PublisherRegistry } from '../media/publishers.ts';
import { CATALOG_TRACK } from '../media/hang/catalog.ts';
import type { ApiBroadcast, ApiClosedSession, ApiInfo, ApiRecording, ApiSession, ApiTrack } from './api-types.ts';
import { BroadcastCatalogs } from './broadcast-catalogs.ts';
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
  /** `--record`: this process's recordings, finished and in progress. */
  recordings?: () => ApiRecording[];
}

export interface ApiSessionList {
  sessions: ApiSession[];
  closed: ApiClosedSession[];
}

/** What this process answers by itself; under `--workers N` every worker's is merged. */
export interface LocalApi {
  /** `withRelayed`: with the copies of other workers' broadcasts (`ApiDeps.relayed`), for the fleet's merge. */
  broadcasts(withRelayed?: boolean): Promise<ApiBroadcast[]>;
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
  const catalogs = new BroadcastCatalogs();
  const local: LocalApi = {
    broadcasts: (withRelayed = false) => listBroadcasts(deps, bitrates, catalogs, withRelayed),
    sessions: () => ({ sessions: deps.sessions(), closed: deps.closedSessions() }),
    kickSession: (id) => deps.kickSession(id),
    kickPublisher: (path) => deps.publishers.kick(path, 'kicked by the API'),
  };
  const { fleet } = deps;
  const broadcasts = async () => (fleet ? fleet.broadcasts(await local.broadcasts(true)) : local.broadcasts());
  server.route('/api/', async (req, res, subpath) => {
    const parts = subpath.split('/').filter(Boolean);
    if (req.method === 'OPTIONS') return sendJson(res, 204, undefined);
    await deps.authorize(req);
    if (req.method === 'GET' && subpath === 'info') return sendJson(res, 200, deps.info());
    if (req.method === 'GET' && subpath === 'broadcasts') return sendJson(res, 200, { broadcasts: await broadcasts() });
    if (req.method === 'GET' && subpath === 'recordings') return sendJson(res, 200, { recordings: deps.recordings?.() ?? [] });
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

async function listBroadcasts(deps: ApiDeps, bitrates: BitrateMeter, catalogs: BroadcastCatalogs, withRelayed: boolean): Promise<ApiBroadcast[]> {
  const publishers = new Map(deps.publishers.list().map((p) => [p.path, p]));
  const own = deps.origin.list().map((broadcast) => describeBroadcast(broadcast, publishers.get(broadcast.path), bitrates, catalogs));
  // Copies of other workers' broadcasts, for the fleet's merge: their owner lists the catalog.
  const relayed = withRelayed ? (deps.relayed?.() ?? []).map((broadcast) => describeBroadcast(broadcast, undefined, bitrates, undefined)) : [];
  return Promise.all([...own, ...relayed]);
}

type RegisteredPublisher = ReturnType<PublisherRegistry['list']>[number];

/** `catalogs`: where to read the catalog of a broadcast without an ingest publisher here (none: list its live tracks only). */
async function describeBroadcast(broadcast: Broadcast, publisher: RegisteredPublisher | undefined, bitrates: BitrateMeter, catalogs: BroadcastCatalogs | undefined): Promise<ApiBroadcast> {
  const live = new Map(broadcast.tracks().filter((t) => t.name !== CATALOG_TRACK && !t.ended).map((t) => [t.name, t]));
  let tracks: ApiTrack[];
  if (publisher) {
    // An ingest publisher (RTMP, WHIP, ...): the gateway writes every track and counts its bytes.
    tracks = publisher.writer.stats().tracks.map((stat) => ({
      name: stat.name,
      kind: stat.kind,
      codec: stat.codec,
      bitrate: bitrates.sample(`${broadcast.path}/${stat.name}`, stat.bytes, broadcast.createdAt),
      subscribers: live.get(stat.name)?.subscriberCount ?? 0,
    }));
  } else {
    // A MoQ publisher, another node or worker: its tracks exist in the relay only while
    // subscribed, so the catalog names them; what flows is measured on the relay track.
    const listed = catalogs ? await catalogs.tracks(broadcast) : [];
    const names = new Set([...listed.map((t) => t.name), ...live.keys()]);
    tracks = [...names].map((name) => {
      const summary = listed.find((t) => t.name === name);
      const track = live.get(name);
      return {
        name,
        kind: summary?.kind ?? 'unknown',
        codec: summary?.codec ?? 'unknown',
        bitrate: track ? bitrates.sample(`${broadcast.path}/${name}`, track.bytesReceived, track.createdAt) : 0,
        subscribers: track?.subscriberCount ?? 0,
      };
    });
  }
  // A viewer is a session subscribed to any of the tracks (the catalog too: a player between
  // two video subscriptions, or a muted one watching video only, is still watching).
  const viewers = broadcast.subscriberOwners();
  if (catalogs) viewers.delete(catalogs.owner);
  return {
    path: broadcast.path,
    tracks,
    publisher: publisher
      ? { protocol: publisher.meta.protocol, remoteAddress: publisher.meta.remoteAddress, connected: publisher.connected }
      : broadcast.info.protocol
        ? { protocol: broadcast.info.protocol, remoteAddress: broadcast.info.remoteAddress ?? '', connected: true }
        : undefined,
    viewers: viewers.size,
    startedAt: new Date(broadcast.createdAt).toISOString(),
    uptimeSeconds: Math.round((Date.now() - broadcast.createdAt) / 1000),
  };
}

/**
 * Bits per second from a byte counter, averaged since the previous look (at least 1 s apart).
 * The first look has no previous one: it averages since `since` (when the counter started), so
 * a dashboard's first poll shows a rate rather than 0. A new `since` is a new counter.
 */
class BitrateMeter {
  readonly #last = new Map<string, { bytes: number; at: number; rate: number; since: number }>();

  sample(key: string, bytes: number, since: number): number {
    const now = Date.now();
    let last = this.#last.get(key);
    if (last && last.since !== since) last = undefined;
    if (!last) {
      if (now - since < 1000) return 0; // too early to say; the next look averages from the start
      const rate = Math.round((bytes * 8 * 1000) / (now - since));
      if (this.#last.size >= 10_000) this.#last.clear();
      this.#last.set(key, { bytes, at: now, rate, since });
      return rate;
    }
    if (now - last.at >= 1000) {
      last.rate = Math.round(((bytes - last.bytes) * 8 * 1000) / (now - last.at));
      last.bytes = bytes;
      last.at = now;
    }
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
