import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../../../src/http/server.ts';
import type { MediaSink } from '../../../src/media/frame.ts';
import type { PublisherMeta } from '../../../src/media/publishers.ts';
import { normalizePath } from '../../../src/relay/path.ts';
import { applyCandidatePolicy } from './answer-candidates.ts';
import { UnsupportedOfferError } from '../../../src/webrtc/errors.ts';
import { childLogger, silentLogger, type StructuredLogger } from './logger.ts';
import { filteredOfferSdp } from './offer-filter.ts';
import { DEFAULT_VIDEO_CODECS, planWhipOffer, type VideoCodecName } from './offer-plan.ts';
import { WebRtcPeer, type PeerOptions } from './webrtc-peer.ts';
import { WhipSession } from './whip-session.ts';
import { resolveIceHosts } from '../../../src/webrtc/ice-hosts.ts';
import { handleResourceRequest, readOffer, type ResourceEndpoint, sendAnswer } from '../../../src/webrtc/resource-endpoint.ts';
import { UdpMux, UfragInUseError } from './udp-mux.ts';

export type OpenWhipPublisher = (path: string, meta: PublisherMeta, terminate: (reason: string) => void) => MediaSink;

export interface WhipServiceOptions {
  /** Claim a broadcast name (throws PublishRefusedError when taken): `gateway.publishers.open`. */
  openPublisher: OpenWhipPublisher;
  /** Runs before openPublisher once the request is authorized (may throw PublishRefusedError): the gateway's claim across workers. */
  beforeOpen?: (path: string) => Promise<void>;
  logger?: StructuredLogger;
  /**
   * Addresses (or interface names, e.g. `eth0`) to offer host candidates on. Default: 127.0.0.1
   * plus every interface. When given, only these are advertised.
   */
  iceHosts?: string[];
  /**
   * Address clients reach us at through a NAT (an IPv4 address, or a host name resolved by
   * `listen()`): advertised as a server-reflexive candidate beside each IPv4 host candidate.
   */
  publicIp?: string;
  /** UDP ports for ICE, inclusive (min < max). Default: any free port. */
  udpPortRange?: [number, number];
  /**
   * One UDP port for every session's IPv4 ICE (0 = any free port), demultiplexed by ICE ufrag
   * (see udp-mux.ts). Takes precedence over udpPortRange for IPv4.
   */
  udpPort?: number;
  /** Decide whether a publish may go ahead (RFC 9725 §4.5 Bearer token). Default: allow. */
  authorize?: (path: string, bearerToken: string | undefined) => boolean | Promise<boolean>;
  /** Largest offer / trickle body (default 64 KiB). */
  maxBodyBytes?: number;
  /** Close sessions whose ICE does not connect within this long (default 10 s). */
  iceTimeoutMs?: number;
  /** Where the service is mounted, for Location headers (default `/whip/`). */
  basePath?: string;
  /** Accepted video codecs in order of preference (default H264, VP8, VP9, AV1). */
  videoCodecs?: VideoCodecName[];
  /** Concurrent sessions; more get 503 (default 100). */
  maxSessions?: number;
}

export interface WhipService {
  /**
   * Resolve the public host name and bind the shared UDP port, if configured; a clear error
   * when either fails. Idempotent; the first offer calls it too.
   */
  listen(): Promise<{ udpPort: number | undefined; publicIp: string | undefined }>;
  /** Serve a request under the mount point; `subpath` is the decoded path after `/whip/`. */
  handle(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void>;
  /** End every session. */
  close(): Promise<void>;
  /** Live sessions (negotiating or connected). */
  readonly sessions: number;
  /** A viewer of `path` needs a key frame: PLI to its publisher, rate limited. */
  requestKeyframe(path: string): void;
}

const DEFAULTS = { maxBodyBytes: 64 * 1024, iceTimeoutMs: 10_000, basePath: '/whip/', maxSessions: 100 };

export function createWhipService(options: WhipServiceOptions): WhipService {
  return new WhipServiceImpl(options);
}

class WhipServiceImpl implements WhipService {
  readonly #options: WhipServiceOptions;
  readonly #logger: StructuredLogger;
  readonly #byId = new Map<string, WhipSession>();
  readonly #endpoint: ResourceEndpoint<WhipSession>;
  readonly #peerOptions: PeerOptions;
  readonly #candidateHosts: ReadonlySet<string> | undefined;
  #listening: Promise<{ udpPort: number | undefined; publicIp: string | undefined }> | undefined;
  #publicIp: string | undefined;
  #mux: UdpMux | undefined;
  #closing = false;

  constructor(options: WhipServiceOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#endpoint = {
      name: 'WHIP',
      logger: this.#logger,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      session: (id) => this.#byId.get(id),
      post: (req, res, path) => this.#post(req, res, path),
      // A deliberate end: the broadcast ends now rather than waiting for a reconnect.
      end: (session) => session.close('ended by the client (DELETE)', { final: true }),
    };
    if (options.publicIp !== undefined && (options.publicIp === '' || isIP(options.publicIp) === 6)) {
      throw new Error(`publicIp must be an IPv4 address or a host name, got ${JSON.stringify(options.publicIp)}`);
    }
    const iceHosts = options.iceHosts ? resolveIceHosts(options.iceHosts) : undefined;
    const udpPort = options.udpPort;
    if (udpPort !== undefined && !(Number.isInteger(udpPort) && udpPort >= 0 && udpPort <= 65535)) throw new Error(`invalid udpPort ${udpPort}: need 0..65535`);
    const range = options.udpPortRange;
    if (range && !(Number.isInteger(range[0]) && Number.isInteger(range[1]) && range[0] > 0 && range[0] < range[1] && range[1] <= 65535)) {
      throw new Error(`invalid udpPortRange ${range.join('-')}: need 0 < min < max <= 65535`);
    }
    this.#peerOptions = {
      additionalHosts: iceHosts ?? ['127.0.0.1'],
      portRange: range,
      useIpv6: iceHosts?.some((h) => isIPv6(h)) ?? false,
      gatherTimeoutMs: 5000,
    };
    this.#candidateHosts = iceHosts ? new Set(iceHosts) : undefined;
  }

  listen(): Promise<{ udpPort: number | undefined; publicIp: string | undefined }> {
    this.#listening ??= this.#listen();
    return this.#listening;
  }

  async #listen(): Promise<{ udpPort: number | undefined; publicIp: string | undefined }> {
    const configured = this.#options.publicIp;
    if (configured !== undefined) {
      if (isIP(configured) === 4) this.#publicIp = configured;
      else {
        try {
          this.#publicIp = (await lookup(configured, { family: 4 })).address;
        } catch (error) {
          throw new Error(`WebRTC public address ${configured} does not resolve to an IPv4 address: ${(error as Error).message}`);
        }
      }
    }
    if (this.#options.udpPort !== undefined) {
      try {
        this.#mux = await UdpMux.bind(this.#options.udpPort);
      } catch (error) {
        throw new Error(`cannot bind the WebRTC UDP port ${this.#options.udpPort}: ${(error as Error).message}`);
      }
      this.#peerOptions.mux = this.#mux;
    }
    return { udpPort: this.#mux?.port, publicIp: this.#publicIp };
  }

  get sessions(): number {
    return this.#byId.size;
  }

  requestKeyframe(path: string): void {
    const target = normalizePath(path);
    for (const session of this.#byId.values()) if (session.path === target) session.requestKeyframe();
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#byId.values()].map((s) => s.close('server shutting down')));
    await this.#listening?.catch(() => undefined);
    await this.#mux?.close();
  }

  handle(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
    return handleResourceRequest(this.#endpoint, req, res, subpath);
  }

  /** RFC 9725 §4.2: offer in, 201 Created with the answer, Location and ETag out. */
  async #post(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (this.#closing) throw new HttpError(503, 'server shutting down');
    if (path === '') throw new HttpError(400, 'POST to /whip/<broadcast name>');
    const offerText = await readOffer(this.#endpoint, req, path, {
      authorize: this.#options.authorize,
      refused: 'not allowed to publish here',
      full: () => this.#byId.size >= (this.#options.maxSessions ?? DEFAULTS.maxSessions),
    });
    const plan = planWhipOffer(offerText, { videoCodecs: this.#options.videoCodecs ?? DEFAULT_VIDEO_CODECS });
    await this.listen();
    await this.#options.beforeOpen?.(path);

    const id = randomUUID();
    const remoteAddress = req.socket.remoteAddress ?? 'unknown';
    const logger = childLogger(this.#logger, { whip: id, broadcast: path, remote: remoteAddress });
    let session: WhipSession | undefined;
    let terminated: string | undefined;
    const sink = this.#options.openPublisher(path, { protocol: 'whip', remoteAddress }, (reason) => {
      terminated = reason;
      void session?.close(reason);
    });

    let negotiated: Awaited<ReturnType<typeof WebRtcPeer.answer>>;
    try {
      negotiated = await this.#answer(filteredOfferSdp(plan));
    } catch (error) {
      sink.close('WebRTC negotiation failed');
      logger.warn({ err: error }, 'whip negotiation failed');
      throw new UnsupportedOfferError(`the WebRTC stack rejected the offer: ${(error as Error).message}`);
    }
    const answer = applyCandidatePolicy(negotiated.answerSdp, { hosts: this.#candidateHosts, publicIp: this.#publicIp });
    session = new WhipSession({
      id,
      path,
      plan,
      peer: negotiated.peer,
      tracks: negotiated.tracks,
      sink,
      logger,
      iceTimeoutMs: this.#options.iceTimeoutMs ?? DEFAULTS.iceTimeoutMs,
      onClosed: (closed) => this.#byId.delete(closed.id),
    });
    this.#byId.set(id, session);
    if (terminated !== undefined || this.#closing) {
      await session.close(terminated ?? 'server shutting down');
      throw new HttpError(409, terminated ?? 'server shutting down');
    }

    const codecs = plan.tracks.map((t) => `${t.kind}:${t.codec.name}`).join(' ');
    logger.info({ codecs }, 'whip session created');
    sendAnswer(res, this.#options.basePath ?? DEFAULTS.basePath, session, answer);
  }

  /** werift's ufrags are short: on the shared port a clash with a live session is retried. */
  async #answer(offerSdp: string): Promise<Awaited<ReturnType<typeof WebRtcPeer.answer>>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await WebRtcPeer.answer(offerSdp, this.#peerOptions);
      } catch (error) {
        if (!(error instanceof UfragInUseError) || attempt >= 3) throw error;
      }
    }
  }
}
