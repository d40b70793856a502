import type http from 'node:http';
import type { Logger } from 'pino';
import { normalizePath, type Origin } from '../../../src/relay/index.ts';
import { HlsBroadcastSession, type SessionStats } from './broadcast-session.ts';
import { parseHlsPath, type HlsResource } from './hls-urls.ts';
import { sendError, sendMedia, sendPlaylist, sendPreflight } from './http-replies.ts';
import { renderMediaPlaylist } from './media-playlist.ts';
import { renderLegacyMedia, renderLegacyMultivariant } from './legacy-ts/playlist.ts';
import type { PlaylistWindow } from './playlist-window.ts';
import type { RenditionPackager } from './rendition-packager.ts';
import { waitUntil } from './wait.ts';

export interface HlsServiceOptions {
  origin: Origin;
  logger: Logger;
  /** EXT-X-PART-INF PART-TARGET in ms (default 300); keep it above one frame interval. */
  partTargetMs?: number;
  /** Complete segments listed in a media playlist (default 6; never under 3 target durations). */
  segmentWindow?: number;
  /** A broadcast's packaging stops after this long without HLS requests (default 30 s). */
  idleTimeoutMs?: number;
  /** Media bytes kept per rendition (default 32 MiB). */
  maxBytes?: number;
  /** GOPs shorter than this are merged into one segment (default 1000 ms). */
  minSegmentMs?: number;
  /** Longest first segment when keyframes are rare; the target duration follows (default 6000 ms). */
  firstSegmentMaxMs?: number;
  /** May this request (its `?jwt=`, if any) watch this broadcast? Absent = everyone may. */
  authorize?: (broadcast: string, token: string | undefined) => boolean | Promise<boolean>;
}

export interface HlsStats {
  sessions: number;
  renditions: number;
  bytes: number;
  requests: number;
  broadcasts: SessionStats[];
}

export interface HlsService {
  /** Serve a request under `/hls/`; `subpath` is everything after `/hls/`. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, subpath: string): void;
  /** End every playlist (EXT-X-ENDLIST) and stop packaging. */
  close(): void;
  stats(): HlsStats;
}

/** How long the first request for a broadcast may wait for its catalog. */
const CATALOG_WAIT_MS = 5_000;

export function createHlsService(options: HlsServiceOptions): HlsService {
  return new HlsServiceImpl(options);
}

class HlsServiceImpl implements HlsService {
  readonly #origin: Origin;
  readonly #logger: Logger;
  readonly #options: {
    partTargetMs: number;
    segmentWindow: number;
    idleTimeoutMs: number;
    maxBytes: number;
    minSegmentMs: number;
    firstSegmentMaxMs: number;
  };
  readonly #sessions = new Map<string, HlsBroadcastSession>();
  readonly #sweeper: NodeJS.Timeout;
  #requests = 0;
  readonly #authorize: HlsServiceOptions['authorize'];
  #closed = false;

  constructor(options: HlsServiceOptions) {
    this.#origin = options.origin;
    this.#authorize = options.authorize;
    this.#logger = options.logger;
    const partTargetMs = Math.max(50, options.partTargetMs ?? 300);
    this.#options = {
      partTargetMs,
      segmentWindow: Math.max(3, options.segmentWindow ?? 6),
      idleTimeoutMs: Math.max(1000, options.idleTimeoutMs ?? 30_000),
      maxBytes: options.maxBytes ?? 32 * 1024 * 1024,
      minSegmentMs: Math.max(partTargetMs, options.minSegmentMs ?? 1000),
      firstSegmentMaxMs: Math.max(1000, options.firstSegmentMaxMs ?? 6000),
    };
    const sweepEvery = Math.min(5000, Math.max(250, this.#options.idleTimeoutMs / 4));
    this.#sweeper = setInterval(() => this.#sweep(), sweepEvery);
    this.#sweeper.unref();
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse, subpath: string): void {
    this.#requests++;
    if (req.method === 'OPTIONS') return sendPreflight(res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method not allowed');
    if (this.#closed) return sendError(res, 503, 'HLS service is shutting down');
    const path = parseHlsPath(subpath);
    if (!path) return sendError(res, 404, 'not an HLS resource');
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('jwt') ?? undefined;
    const authorized = this.#authorize ? Promise.resolve(this.#authorize(path.broadcast, token)) : Promise.resolve(true);
    authorized
      .then((ok) => {
        if (!ok) return sendError(res, token ? 403 : 401, token ? 'not allowed to watch this broadcast' : 'a ?jwt= token is required');
        return this.#serve(req, res, path.broadcast, path.resource, controller.signal);
      })
      .catch((error: unknown) => {
      // The path only: the query carries the viewer's token.
      this.#logger.warn({ err: error, path: subpath }, 'hls request failed');
      sendError(res, 500, 'internal error');
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }

  stats(): HlsStats {
    const broadcasts = [...this.#sessions.values()].map((s) => s.stats());
    return {
      sessions: broadcasts.length,
      renditions: broadcasts.reduce((n, b) => n + b.renditions.length, 0),
      bytes: broadcasts.reduce((n, b) => n + b.renditions.reduce((m, r) => m + r.bytes, 0), 0),
      requests: this.#requests,
      broadcasts,
    };
  }

  /** The session for a broadcast, created on the first request while the broadcast is live. */
  #session(rawPath: string): HlsBroadcastSession | undefined {
    const path = normalizePath(rawPath);
    const existing = this.#sessions.get(path);
    const live = this.#origin.get(path);
    // A new publisher under the same name gets a new session (new URLs); the old playlists
    // have ended by then.
    if (existing && (!live || existing.broadcast === live)) return existing;
    if (!live) return undefined;
    existing?.close();
    const session = new HlsBroadcastSession(live, this.#options, this.#logger.child({ hls: path }));
    this.#sessions.set(path, session);
    session.start();
    return session;
  }

  async #serve(req: http.IncomingMessage, res: http.ServerResponse, broadcast: string, resource: HlsResource, signal: AbortSignal): Promise<void> {
    const session = this.#session(broadcast);
    if (!session) return sendError(res, 404, `no broadcast ${normalizePath(broadcast)}`);
    res.once('close', session.hold());
    const catalog = await session.catalog(CATALOG_WAIT_MS, signal);
    if (signal.aborted) return;
    if (!catalog) return sendError(res, 404, 'broadcast has no catalog');

    if (resource.kind === 'multivariant') {
      session.prewarm();
      const text = session.multivariantPlaylist();
      return text ? sendPlaylist(req, res, text) : sendError(res, 404, 'no rendition HLS can carry');
    }
    if (resource.kind === 'media-playlist') {
      const packager = session.rendition(resource.track);
      if (!packager) return sendError(res, 404, `no rendition ${resource.track}`);
      res.once('close', () => (packager.lastAccess = Date.now()));
      return this.#serveMediaPlaylist(req, res, session, packager, signal);
    }
    if (resource.kind === 'legacy-multivariant' || resource.kind === 'legacy-media' || resource.kind === 'legacy-segment') {
      return this.#serveLegacy(req, res, session, resource, signal);
    }
    if (resource.session !== session.id) return sendError(res, 404, 'expired session');
    const packager = session.running(resource.track);
    if (!packager) return sendError(res, 404, `rendition ${resource.track} is not being packaged`);
    res.once('close', () => (packager.lastAccess = Date.now()));
    const window = packager.window;
    const contentType = packager.info.kind === 'video' ? 'video/mp4' : 'audio/mp4';

    if (resource.kind === 'init') {
      const init = window.init(resource.version);
      return init ? sendMedia(req, res, contentType, [init]) : sendError(res, 404, 'no such init segment');
    }
    const { msn } = resource;
    const part = resource.kind === 'part' ? resource.part : undefined;
    // A preload hint (or an eager client) asks ahead of time: hold the request until the part
    // or segment exists (RFC 8216bis §6.2.5.3), or it is clear it never will.
    const available = () => findMedia(window, msn, part) !== undefined || !window.mayStillAppear(msn, part);
    await waitUntil(() => window.changed(), available, this.#holdMs(window), signal);
    if (signal.aborted) return;
    const media = findMedia(window, msn, part);
    if (!media) return sendError(res, 404, part === undefined ? `no segment ${msn}` : `no part ${msn}.${part}`);
    return sendMedia(req, res, contentType, media);
  }

  async #serveMediaPlaylist(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    session: HlsBroadcastSession,
    packager: RenditionPackager,
    signal: AbortSignal,
  ): Promise<void> {
    const window = packager.window;
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const msnParam = query.get('_HLS_msn');
    const partParam = query.get('_HLS_part');
    const msn = msnParam === null ? undefined : Number(msnParam);
    const part = partParam === null ? undefined : Number(partParam);
    // §6.2.5.2: _HLS_part without _HLS_msn, or a malformed value, is a client error.
    if ((msn !== undefined && !(Number.isInteger(msn) && msn >= 0)) || (part !== undefined && !(Number.isInteger(part) && part >= 0 && msn !== undefined))) {
      return sendError(res, 400, 'invalid _HLS_msn / _HLS_part');
    }

    // The first request of a rendition waits for its first whole segment (it fixes the target duration).
    const firstWait = this.#options.firstSegmentMaxMs + 4000;
    await waitUntil(() => window.changed(), () => packager.ready || window.ended, firstWait, signal);
    if (signal.aborted) return;
    if (!packager.ready && !window.ended) return sendError(res, 503, 'rendition not ready yet');
    if (window.segments.length === 0) return sendError(res, 404, 'rendition ended without media');

    if (msn !== undefined) {
      // §6.2.5.2: more than two segments ahead of the last one is a 400.
      const last = window.current?.msn ?? 0;
      if (msn > last + 2) return sendError(res, 400, `_HLS_msn ${msn} is too far ahead of ${last}`);
      const satisfied = await waitUntil(() => window.changed(), () => window.satisfies(msn, part), this.#holdMs(window), signal);
      if (signal.aborted) return;
      // §6.2.5.2: a server that cannot satisfy a blocking request in 3 target durations says 503.
      if (!satisfied) return sendError(res, 503, 'blocking reload timed out');
    }
    const text = renderMediaPlaylist(window, {
      session: session.id,
      wallClockMs: (us) => session.clock.wallClockMs(us),
      reports: session.reports(packager.track),
    });
    sendPlaylist(req, res, text);
  }

  /** The MPEG-TS rendition (HLS version 3): playlists wait for the first whole segment. */
  async #serveLegacy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    session: HlsBroadcastSession,
    resource: Extract<HlsResource, { kind: 'legacy-multivariant' | 'legacy-media' | 'legacy-segment' }>,
    signal: AbortSignal,
  ): Promise<void> {
    if (resource.kind === 'legacy-segment') {
      if (resource.session !== session.id) return sendError(res, 404, 'expired session');
      const segment = session.legacy(false)?.segment(resource.msn);
      return segment ? sendMedia(req, res, 'video/mp2t', [segment.bytes]) : sendError(res, 404, `no segment ${resource.msn}`);
    }
    const packager = session.legacy(true);
    if (!packager) return sendError(res, 404, 'no track MPEG-TS can carry (H.264, H.265, AAC)');
    res.once('close', () => (packager.lastAccess = Date.now()));
    const firstWait = this.#options.firstSegmentMaxMs + 4000;
    await waitUntil(() => packager.changed(), () => packager.segments.length > 0 || packager.ended, firstWait, signal);
    if (signal.aborted) return;
    if (packager.segments.length === 0) return sendError(res, packager.ended ? 404 : 503, packager.ended ? 'rendition ended without media' : 'rendition not ready yet');
    sendPlaylist(req, res, resource.kind === 'legacy-multivariant' ? renderLegacyMultivariant(packager) : renderLegacyMedia(packager, session.id));
  }

  /** Longest hold of a blocking request: three target durations (§6.2.5.2). */
  #holdMs(window: PlaylistWindow): number {
    return 3 * (window.targetDuration ?? this.#options.firstSegmentMaxMs / 1000) * 1000;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [path, session] of this.#sessions) {
      if (session.sweep(now)) {
        session.close();
        this.#sessions.delete(path);
        this.#logger.debug({ broadcast: path }, 'hls session idle, closed');
      }
    }
  }
}

/** A part's bytes, or a complete segment's parts back to back. */
function findMedia(window: PlaylistWindow, msn: number, part: number | undefined): Uint8Array[] | undefined {
  const segment = window.segment(msn);
  if (!segment) return undefined;
  if (part === undefined) return segment.complete ? segment.parts.map((p) => p.bytes) : undefined;
  const entry = segment.parts[part];
  return entry ? [entry.bytes] : undefined;
}
