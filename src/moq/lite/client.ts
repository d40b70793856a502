/**
 * A moq-lite CLIENT session: the subscriber half, as another relay (a cluster node) or a tool
 * needs it. It dials over WebSocket (QMux framing, `moq-lite-04` preferred) or runs on any
 * WebTransport-shaped session the caller opened (raw QUIC, WebTransport), then:
 * - `subscribe(broadcast, track, priority)` → a relay Track fed with the server's groups; the
 *   track ends cleanly when the server ends it, aborts when it is refused or reset, and its
 *   subscription is dropped (FIN) when the track ends on our side (its last viewer left);
 * - `announced(prefix)` → the server's broadcasts under a prefix, as an async iterator;
 * - `close()`.
 * The client publishes nothing (client-requests.ts). A ProtocolError from the server closes the
 * session with that reason. When the session ends, every track ends: cleanly after a graceful
 * close, aborted (publisherGone) when the connection failed.
 */
import { normalizePath, RelayError, RelayErrorCode, Track, type TrackOptions } from '../../relay/index.ts';
import { ProtocolError, StreamResetReason } from '../../wire/errors.ts';
import type { StreamReader } from '../../wire/stream-reader.ts';
import { LiteAnnounced } from './client-announced.ts';
import { negotiateAsClient } from './client-handshake.ts';
import { answerServerRequest, type ServerRequestContext } from './client-requests.ts';
import { ClientSubscription, type ClientCounters } from './client-subscription.ts';
import { dialWebSocket, LiteConnectError, redact } from './client-websocket.ts';
import { LiteCloseCode } from './close-code.ts';
import { decodeGroupHeader } from './group.ts';
import { DEFAULT_LITE_LIMITS, SILENT_LOGGER, type SessionLogger } from './options.ts';
import type { RequestStream } from './request-stream.ts';
import { UniStreamType } from './stream-type.ts';
import { LiteProtocol, LiteVersion, versionName } from './version.ts';
import type { WebTransportLike } from './web-transport.ts';
import { LiteConnection, type LiteEndInfo } from './connection.ts';

export { LiteAnnounced } from './client-announced.ts';
export { LiteConnectError } from './client-websocket.ts';

/** Offered over WebSocket, most preferred first. */
export const DEFAULT_CLIENT_PROTOCOLS: readonly string[] = [LiteProtocol.Draft04, LiteProtocol.Draft03, LiteProtocol.Compat];

export interface ConnectLiteOptions {
  /**
   * An already connected WebTransport-shaped session (raw QUIC, WebTransport) to run on instead
   * of dialing a WebSocket. Its `protocol` (ALPN / WT protocol) picks the version; when it has
   * none, the first of `protocols` is taken as negotiated.
   */
  transport?: WebTransportLike & { readonly protocol?: string; readonly transportKind?: string };
  /** MoQ protocols to offer over WebSocket, most preferred first (default moq-lite-04, -03, moql). */
  protocols?: readonly string[];
  /** JWT for the server, sent as `?jwt=` when dialing. */
  token?: string;
  /** Dial + SETUP time limit (default 5 s). */
  connectTimeoutMs?: number;
  /** Largest control message and frame accepted from the server. */
  limits?: { maxMessageBytes?: number; maxFrameBytes?: number };
  logger?: SessionLogger;
  /**
   * Called once when the session ends, before its tracks are ended, so an owner can end what it
   * built on them its own way first (e.g. a relay closing its broadcasts cleanly).
   */
  onClose?: (info: LiteClientCloseInfo) => void;
}

/** How the session ended; `failed` when the connection was lost rather than closed by either side. */
export type LiteClientCloseInfo = LiteEndInfo;

export interface LiteSubscribeOptions {
  /** Feed this relay track (e.g. one already handed to viewers) instead of a new one. */
  track?: Track;
  /** Options for the new track (ignored with `track`). */
  trackOptions?: TrackOptions;
  /** lite-03+: groups oldest first, none skipped by the server (a relay hop wants every group). */
  ordered?: boolean;
}

export interface LiteClientStats {
  version: string;
  /** Subscriptions open now. */
  subscriptions: number;
  /** Subscriptions opened since the session started. */
  subscriptionsOpened: number;
  groupsReceived: number;
  bytesReceived: number;
}

export interface LiteClient {
  readonly version: LiteVersion;
  /** The negotiated protocol ('' or `moql` when the version came from SETUP). */
  readonly protocol: string;
  /** Resolves (never rejects) when the session is over. */
  readonly closed: Promise<LiteClientCloseInfo>;
  /** Subscribes to `track` of the server's `broadcast` (path relative to the URL path). */
  subscribe(broadcast: string, track: string, priority?: number, options?: LiteSubscribeOptions): Track;
  /** The server's broadcasts under `prefix` as they start and end. */
  announced(prefix?: string): LiteAnnounced;
  close(code?: number, reason?: string): void;
  stats(): LiteClientStats;
}

/** Connects to a moq-lite server; rejects with LiteConnectError (or ProtocolError from SETUP). */
export async function connectLite(url: string | URL, options: ConnectLiteOptions = {}): Promise<LiteClient> {
  const target = new URL(url);
  if (options.token !== undefined) target.searchParams.set('jwt', options.token);
  const timeoutMs = options.connectTimeoutMs ?? 5000;
  const protocols = options.protocols ?? DEFAULT_CLIENT_PROTOCOLS;
  const transport = options.transport ?? (await dialWebSocket(target, protocols, timeoutMs));
  const protocol = transport.protocol ?? protocols[0] ?? '';
  const maxMessageBytes = options.limits?.maxMessageBytes ?? DEFAULT_LITE_LIMITS.maxMessageBytes;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LiteConnectError(`no moq-lite SETUP from ${redact(target)} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // Raw QUIC has no request URI: the `moql` SETUP names the path and token instead.
    const path = options.transport?.transportKind === 'quic' ? `${target.pathname}${target.search}` : undefined;
    const negotiated = await Promise.race([negotiateAsClient(transport, protocol, maxMessageBytes, path), timeout]);
    return new LiteClientSession(transport, protocol, negotiated.version, negotiated.sessionStream, options);
  } catch (error) {
    transport.close({ closeCode: LiteCloseCode.protocolViolation, reason: error instanceof Error ? error.message.slice(0, 256) : 'setup failed' });
    if (error instanceof LiteConnectError || error instanceof ProtocolError) throw error;
    throw new LiteConnectError(`moq-lite SETUP with ${redact(target)} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

class LiteClientSession implements LiteClient {
  readonly closed: Promise<LiteClientCloseInfo>;
  readonly #connection: LiteConnection;
  readonly #transport: WebTransportLike;
  readonly #logger: SessionLogger;
  readonly #limits: { maxMessageBytes: number; maxFrameBytes: number };
  readonly #counters: ClientCounters = { subscriptions: 0, subscriptionsOpened: 0, groupsReceived: 0, bytesReceived: 0 };
  readonly #subscriptions = new Map<number, ClientSubscription>();
  readonly #announced = new Set<LiteAnnounced>();
  readonly #requests: ServerRequestContext;
  readonly #onClose: ((info: LiteClientCloseInfo) => void) | undefined;
  #nextSubscribeId = 0;

  constructor(
    transport: WebTransportLike,
    readonly protocol: string,
    readonly version: LiteVersion,
    sessionStream: RequestStream | undefined,
    options: ConnectLiteOptions,
  ) {
    this.#transport = transport;
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.#onClose = options.onClose;
    this.#limits = {
      maxMessageBytes: options.limits?.maxMessageBytes ?? DEFAULT_LITE_LIMITS.maxMessageBytes,
      maxFrameBytes: options.limits?.maxFrameBytes ?? DEFAULT_LITE_LIMITS.maxFrameBytes,
    };
    this.#requests = {
      version,
      maxMessageBytes: this.#limits.maxMessageBytes,
      held: new Set(),
      onGoaway: (uri) => this.#logger.info({ uri }, 'moq-lite server sent GOAWAY'),
    };
    this.#connection = new LiteConnection(transport, {
      logger: this.#logger,
      maxMessageBytes: this.#limits.maxMessageBytes,
      peer: 'server',
      finished: (info) => this.#finished(info),
    });
    this.closed = this.#connection.closed;
    this.#connection.start(
      {
        serveBidi: (stream) => answerServerRequest(this.#requests, stream),
        serveUni: (reader) => this.#receiveUni(reader),
        streamFailed: (error, stream, reader) => {
          this.#logger.warn({ err: error }, 'moq-lite server request failed');
          stream?.writer.reset(RelayErrorCode.internal, 'internal error');
          void stream?.reader.cancel();
          void reader?.cancel();
        },
      },
      sessionStream,
    );
  }

  subscribe(broadcast: string, trackName: string, priority = 0, options: LiteSubscribeOptions = {}): Track {
    const track = options.track ?? new Track(trackName, options.trackOptions);
    if (this.#connection.closing) {
      track.abort(new RelayError('session closed', RelayErrorCode.publisherGone));
      return track;
    }
    const id = this.#nextSubscribeId++;
    const request = { id, broadcast: normalizePath(broadcast), priority, ordered: options.ordered ?? false };
    const subscription = new ClientSubscription(this.#transport, this.version, this.#limits, this.#counters, request, track);
    this.#subscriptions.set(id, subscription);
    void subscription
      .run()
      .catch((error: unknown) => this.#connection.fail(error))
      .finally(() => this.#subscriptions.delete(id));
    return track;
  }

  announced(prefix = ''): LiteAnnounced {
    const announced: LiteAnnounced = new LiteAnnounced(this.#transport, this.version, prefix, this.#limits.maxMessageBytes, {
      onProtocolError: (error) => this.#connection.fail(error),
      onClose: () => this.#announced.delete(announced),
    });
    if (this.#connection.closing) announced.close();
    else this.#announced.add(announced);
    return announced;
  }

  close(code: number = LiteCloseCode.normal, reason = ''): void {
    this.#connection.close(code, reason);
  }

  stats(): LiteClientStats {
    return { version: versionName(this.version), ...this.#counters };
  }

  async #receiveUni(reader: StreamReader): Promise<void> {
    const type = await reader.varint();
    if (type !== UniStreamType.Group) {
      if (this.version >= LiteVersion.Draft03) return void reader.cancel();
      throw new ProtocolError('unknown-stream-type', `unknown uni stream type 0x${type.toString(16)}`);
    }
    const header = decodeGroupHeader(await reader.message(this.#limits.maxMessageBytes));
    const subscription = this.#subscriptions.get(header.subscribeId);
    // A subscription that already ended: not worth the session.
    if (!subscription) return reader.cancel(new StreamResetReason(RelayErrorCode.cancelled, 'unknown subscription'));
    await subscription.receiveGroup(header.sequence, reader);
  }

  /** Lets go of everything this client holds (once, from the connection); the owner hears first. */
  #finished(info: LiteClientCloseInfo): void {
    try {
      this.#onClose?.(info);
    } catch (error) {
      this.#logger.error({ err: error }, 'moq-lite client close handler failed');
    }
    const error = info.failed ? new RelayError(info.reason, RelayErrorCode.publisherGone) : undefined;
    for (const subscription of this.#subscriptions.values()) subscription.stop(error);
    this.#subscriptions.clear();
    for (const announced of [...this.#announced]) announced.close();
    for (const stream of this.#requests.held) void stream.reader.cancel();
    this.#logger.debug({ code: info.code, reason: info.reason, failed: info.failed }, 'moq-lite client session closed');
  }
}
