import { randomUUID } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody } from '../../../src/http/server.ts';
import { childLogger, silentLogger, type StructuredLogger } from '../../../src/logger.ts';
import type { Broadcast } from '../../../src/relay/index.ts';
import { normalizePath } from '../../../src/relay/path.ts';
import { SdpError, UnsupportedOfferError } from '../../../src/webrtc/errors.ts';
import { bearerToken, CORS_HEADERS, mediaType, preflightHeaders, SDP_TYPE, sendText, statusOf, TRICKLE_TYPE } from '../../../src/webrtc/http.ts';
import { resolveIceHosts } from '../../../src/webrtc/ice-hosts.ts';
import { parseTrickleFragment } from '../../../src/webrtc/trickle-fragment.ts';
import { planWhepOffer } from './whep-offer.ts';
import { WhepPeer, type WhepPeerOptions } from './whep-peer.ts';
import { WhepSession } from './whep-session.ts';

export interface WhepServiceOptions {
  /** The live broadcast at a path (the relay origin's `get`). */
  broadcast: (path: string) => Broadcast | undefined;
  /** A player lost a picture: ask the broadcast's publisher for a key frame, where it can. */
  requestKeyframe?: (path: string) => void;
  /** May this Bearer credential watch `path`? Default: allow. */
  authorize?: (path: string, bearerToken: string | undefined) => boolean | Promise<boolean>;
  logger?: StructuredLogger;
  /** Addresses or interface names to offer host candidates on besides the interfaces (default 127.0.0.1). */
  iceHosts?: string[];
  udpPortRange?: [number, number];
  /** Largest offer / trickle body (default 64 KiB). */
  maxBodyBytes?: number;
  /** Close sessions whose ICE does not connect within this long (default 10 s). */
  iceTimeoutMs?: number;
  /** Where the service is mounted, for Location headers (default `/whep/`). */
  basePath?: string;
  /** Concurrent sessions; more get 503 (default 200). */
  maxSessions?: number;
}

export interface WhepService {
  /** Serve a request under the mount point; `subpath` is the decoded path after `/whep/`. */
  handle(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void>;
  close(): Promise<void>;
  readonly sessions: number;
  /** Per-session counters, for tests and the API. */
  stats(): { id: string; path: string; videoFrames: number; audioFrames: number; skippedFrames: number; keyframeRequests: number }[];
}

const DEFAULTS = { maxBodyBytes: 64 * 1024, iceTimeoutMs: 10_000, basePath: '/whep/', maxSessions: 200 };
const ENDPOINT_METHODS = 'OPTIONS, POST';
const SESSION_METHODS = 'OPTIONS, PATCH, DELETE';

export function createWhepService(options: WhepServiceOptions): WhepService {
  return new WhepServiceImpl(options);
}

/** WHEP (draft-ietf-wish-whep, which takes its HTTP from WHIP, RFC 9725): playback of relay broadcasts. */
class WhepServiceImpl implements WhepService {
  readonly #options: WhepServiceOptions;
  readonly #logger: StructuredLogger;
  readonly #byId = new Map<string, WhepSession>();
  readonly #peerOptions: WhepPeerOptions;
  #closing = false;

  constructor(options: WhepServiceOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    const hosts = options.iceHosts ? resolveIceHosts(options.iceHosts) : ['127.0.0.1'];
    this.#peerOptions = { additionalHosts: hosts, portRange: options.udpPortRange, useIpv6: hosts.some((h) => isIPv6(h)), gatherTimeoutMs: 5000 };
  }

  get sessions(): number {
    return this.#byId.size;
  }

  stats(): ReturnType<WhepService['stats']> {
    return [...this.#byId.values()].map((s) => ({ id: s.id, path: s.path, ...s.stats() }));
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#byId.values()].map((s) => s.close('server shutting down')));
  }

  async handle(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
    try {
      await this.#route(req, res, subpath);
    } catch (error) {
      const status = statusOf(error);
      if (status === 500) this.#logger.error({ err: error, url: req.url }, 'whep request failed');
      const message = status === 500 ? 'internal error' : (error as Error).message;
      sendText(res, status, message, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
    const method = req.method ?? 'GET';
    const segments = subpath.split('/').filter((s) => s.length > 0);
    const session = this.#byId.get(segments.at(-1) ?? '');
    if (session && session.path === segments.slice(0, -1).join('/')) {
      if (method === 'DELETE') return this.#delete(res, session);
      if (method === 'PATCH') return this.#patch(req, res, session);
      if (method === 'OPTIONS') return this.#preflight(res, SESSION_METHODS, { 'accept-patch': TRICKLE_TYPE });
      return sendText(res, 405, `${method} is not allowed on a WHEP session`, { allow: SESSION_METHODS });
    }
    if (method === 'POST') return this.#post(req, res, segments.join('/'));
    if (method === 'OPTIONS') return this.#preflight(res, ENDPOINT_METHODS, { 'accept-post': SDP_TYPE });
    if (method === 'DELETE' || method === 'PATCH') throw new HttpError(404, 'no such WHEP session');
    sendText(res, 405, `${method} is not allowed on a WHEP endpoint; POST an SDP offer`, { allow: ENDPOINT_METHODS });
  }

  #preflight(res: ServerResponse, allow: string, extra: Record<string, string>): void {
    res.writeHead(204, { ...preflightHeaders(allow), ...extra });
    res.end();
  }

  /** Offer in, 201 Created with the answer, Location and ETag out (RFC 9725 §4.2, as WHEP §3). */
  async #post(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    if (this.#closing) throw new HttpError(503, 'server shutting down');
    if (rawPath === '') throw new HttpError(400, 'POST to /whep/<broadcast name>');
    if (mediaType(req) !== SDP_TYPE) throw new HttpError(415, `the offer must be sent as ${SDP_TYPE}`);
    const path = normalizePath(rawPath);
    const token = bearerToken(req);
    if (this.#options.authorize && !(await this.#options.authorize(path, token))) {
      throw new HttpError(token === undefined ? 401 : 403, token === undefined ? 'a Bearer token is required' : 'not allowed to watch this broadcast');
    }
    const offerText = decodeUtf8(await readBody(req, this.#options.maxBodyBytes ?? DEFAULTS.maxBodyBytes));
    if (this.#byId.size >= (this.#options.maxSessions ?? DEFAULTS.maxSessions)) throw new HttpError(503, 'too many WHEP sessions');
    const plan = planWhepOffer(offerText);
    const broadcast = this.#options.broadcast(path);
    if (!broadcast || broadcast.ended) throw new HttpError(404, `no live broadcast ${path}`);

    let negotiated: { peer: WhepPeer; answerSdp: string };
    try {
      negotiated = await WhepPeer.answer(offerText, plan, this.#peerOptions);
    } catch (error) {
      throw new UnsupportedOfferError(`the WebRTC stack rejected the offer: ${(error as Error).message}`);
    }
    const id = randomUUID();
    const logger = childLogger(this.#logger, { whep: id, broadcast: path, remote: req.socket.remoteAddress ?? 'unknown' });
    const session = new WhepSession({
      id,
      path,
      broadcast,
      plan,
      peer: negotiated.peer,
      logger,
      iceTimeoutMs: this.#options.iceTimeoutMs ?? DEFAULTS.iceTimeoutMs,
      requestKeyframe: () => this.#options.requestKeyframe?.(path),
      onClosed: (closed) => this.#byId.delete(closed.id),
    });
    this.#byId.set(id, session);
    if (this.#closing) {
      await session.close('server shutting down');
      throw new HttpError(503, 'server shutting down');
    }
    logger.info({ video: plan.video !== undefined, audio: plan.audio !== undefined }, 'whep session created');
    res.writeHead(201, {
      ...CORS_HEADERS,
      'content-type': SDP_TYPE,
      location: this.#location(session),
      etag: session.etag,
      'accept-patch': TRICKLE_TYPE,
      'cache-control': 'no-store',
    });
    res.end(negotiated.answerSdp);
  }

  #location(session: WhepSession): string {
    const base = this.#options.basePath ?? DEFAULTS.basePath;
    const segments = [...session.path.split('/'), session.id].map(encodeURIComponent);
    return `${base.endsWith('/') ? base : `${base}/`}${segments.join('/')}`;
  }

  async #delete(res: ServerResponse, session: WhepSession): Promise<void> {
    await session.close('ended by the client (DELETE)');
    res.writeHead(200, { ...CORS_HEADERS, 'content-length': '0' });
    res.end();
  }

  /** Trickle candidates (RFC 9725 §4.3): 204; ICE restarts 422; a stale If-Match 412. */
  async #patch(req: IncomingMessage, res: ServerResponse, session: WhepSession): Promise<void> {
    if (mediaType(req) !== TRICKLE_TYPE) throw new HttpError(415, `PATCH bodies must be ${TRICKLE_TYPE}`);
    const ifMatch = req.headers['if-match'];
    if (ifMatch === '*') throw new HttpError(422, 'ICE restarts are not supported; start a new session');
    if (ifMatch !== undefined && ifMatch !== session.etag) throw new HttpError(412, 'the ETag does not match the ICE session');
    const fragment = parseTrickleFragment(decodeUtf8(await readBody(req, this.#options.maxBodyBytes ?? DEFAULTS.maxBodyBytes)));
    const current = session.remoteIce;
    if ((fragment.iceUfrag !== undefined && fragment.iceUfrag !== current.ufrag) || (fragment.icePwd !== undefined && fragment.icePwd !== current.pwd)) {
      throw new HttpError(422, 'ICE restarts are not supported; start a new session');
    }
    await session.addCandidates(fragment);
    res.writeHead(204, { ...CORS_HEADERS });
    res.end();
  }
}

function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new SdpError('the body is not valid UTF-8');
  }
}
