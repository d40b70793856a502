import { randomUUID } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../../../src/http/server.ts';
import { childLogger, silentLogger, type StructuredLogger } from '../../../src/logger.ts';
import type { Broadcast } from '../../../src/relay/index.ts';
import { normalizePath } from '../../../src/relay/path.ts';
import { UnsupportedOfferError } from '../../../src/webrtc/errors.ts';
import { resolveIceHosts } from '../../../src/webrtc/ice-hosts.ts';
import { handleResourceRequest, readOffer, type ResourceEndpoint, sendAnswer } from '../../../src/webrtc/resource-endpoint.ts';
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

export function createWhepService(options: WhepServiceOptions): WhepService {
  return new WhepServiceImpl(options);
}

/** WHEP (draft-ietf-wish-whep, which takes its HTTP from WHIP, RFC 9725): playback of relay broadcasts. */
class WhepServiceImpl implements WhepService {
  readonly #options: WhepServiceOptions;
  readonly #logger: StructuredLogger;
  readonly #byId = new Map<string, WhepSession>();
  readonly #endpoint: ResourceEndpoint<WhepSession>;
  readonly #peerOptions: WhepPeerOptions;
  #closing = false;

  constructor(options: WhepServiceOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#endpoint = {
      name: 'WHEP',
      logger: this.#logger,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      session: (id) => this.#byId.get(id),
      post: (req, res, path) => this.#post(req, res, path),
      end: (session) => session.close('ended by the client (DELETE)'),
    };
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

  handle(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
    return handleResourceRequest(this.#endpoint, req, res, subpath);
  }

  /** Offer in, 201 Created with the answer, Location and ETag out (RFC 9725 §4.2, as WHEP §3). */
  async #post(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    if (this.#closing) throw new HttpError(503, 'server shutting down');
    if (rawPath === '') throw new HttpError(400, 'POST to /whep/<broadcast name>');
    const path = normalizePath(rawPath);
    const offerText = await readOffer(this.#endpoint, req, path, {
      authorize: this.#options.authorize,
      refused: 'not allowed to watch this broadcast',
      full: () => this.#byId.size >= (this.#options.maxSessions ?? DEFAULTS.maxSessions),
    });
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
    sendAnswer(res, this.#options.basePath ?? DEFAULTS.basePath, session, negotiated.answerSdp);
  }
}
