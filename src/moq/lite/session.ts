/**
 * A server-side moq-lite session over any WebTransport-shaped transport.
 *
 * After the version is known (protocol string, or the client's `moql` SETUP) the session runs
 * both roles at once:
 * - publisher to the client: its SUBSCRIBE / FETCH streams are served from the relay Origin
 *   (paths relative to `root`), its ANNOUNCE_PLEASE streams get the relay's announcements;
 * - subscriber of the client: we ask for its announcements and publish them into the Origin,
 *   subscribing upstream per track on demand (ClientBroadcasts).
 * A malformed message closes only this session, with the ProtocolError text as close reason.
 * When the session ends, the client's broadcasts end cleanly for relay subscribers.
 */
import { normalizePath, RelayErrorCode } from '../../relay/index.ts';
import { ProtocolError, StreamAbortedError } from '../../wire/errors.ts';
import type { StreamReader } from '../../wire/stream-reader.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import { ByteWriter } from '../../wire/byte-writer.ts';
import { decodeAnnouncePlease } from './announce.ts';
import { ClientBroadcasts } from './client-broadcasts.ts';
import { LiteCloseCode } from './close-code.ts';
import { emptyCounters, type SessionContext, type SessionCounters, type Stoppable } from './context.ts';
import { decodeFetch } from './fetch.ts';
import { decodeGoaway, encodeGoaway } from './goaway.ts';
import { answerReadSetup, answerSetup, type Negotiated } from './handshake.ts';
import { DEFAULT_LITE_LIMITS, SILENT_LOGGER, type LiteLimits, type LiteSessionOptions, type SessionLogger } from './options.ts';
import { SendBudget } from '../send-budget.ts';
import { StallWatch } from '../stall-watch.ts';
import { AnnouncementOverflowError, serveAnnouncements } from './serve-announcements.ts';
import { serveFetch } from './serve-fetch.ts';
import { refuse, type RequestStream } from './request-stream.ts';
import { serveSubscription } from './serve-subscription.ts';
import { BidiStreamType, UniStreamType } from './stream-type.ts';
import { decodeSubscribe } from './subscribe.ts';
import { hasFetch, hasGoaway, hasProbe, LiteProtocol, LiteVersion, versionFromProtocol, versionName } from './version.ts';
import type { WebTransportLike } from './web-transport.ts';
import { LiteConnection, type LiteCloseInfo } from './connection.ts';

export type LiteSessionCloseInfo = LiteCloseInfo;

export interface LiteSessionStats {
  version: string | undefined;
  /** Client subscriptions being served. */
  subscriptions: number;
  announceStreams: number;
  /** Broadcasts the client publishes into the relay right now. */
  publishedBroadcasts: number;
  /** Our subscriptions to the client's tracks. */
  upstreamSubscriptions: number;
  /** Bytes queued in the transport for this subscriber (bounded by `subscriberQueueBytes`). */
  queuedBytes: number;
  peakQueuedBytes: number;
  groupsSent: number;
  /** Group streams reset because the subscriber fell behind. */
  groupsDropped: number;
  /** Groups the relay skipped for this subscriber before any stream was opened. */
  groupsSkipped: number;
  bytesSent: number;
  groupsReceived: number;
  bytesReceived: number;
  /** 1 once the session was closed for making no progress (viewer stall timeout). */
  stalled: number;
}

export interface LiteSession {
  /** Negotiated version; undefined until SETUP completed. */
  readonly version: LiteVersion | undefined;
  /** Resolves with the version once negotiated, or undefined if the session ended first. */
  readonly ready: Promise<LiteVersion | undefined>;
  /** Resolves (never rejects) when the session is over. */
  readonly closed: Promise<LiteSessionCloseInfo>;
  close(code?: number, reason?: string): void;
  /** lite-04 GOAWAY: asks the client to end the session (shutdown); earlier versions have none. */
  goAway(uri?: string): void;
  stats(): LiteSessionStats;
}

/** Serves one client; see the file comment. */
export function serveLiteSession(transport: WebTransportLike, options: LiteSessionOptions): LiteSession {
  return new LiteServerSession(transport, options);
}

class SetupTimeoutError extends Error {
  override readonly name = 'SetupTimeoutError';
}

class LiteServerSession implements LiteSession {
  readonly #connection: LiteConnection;
  readonly #transport: WebTransportLike;
  readonly #options: LiteSessionOptions;
  readonly #limits: LiteLimits;
  readonly #logger: SessionLogger;
  readonly #counters: SessionCounters = emptyCounters();
  readonly #budget: SendBudget;
  readonly #tasks = new Set<Stoppable>();
  readonly ready: Promise<LiteVersion | undefined>;
  readonly closed: Promise<LiteSessionCloseInfo>;
  #resolveReady!: (version: LiteVersion | undefined) => void;
  #version: LiteVersion | undefined;
  #clientBroadcasts: ClientBroadcasts | undefined;
  readonly #stallWatch: StallWatch;

  constructor(transport: WebTransportLike, options: LiteSessionOptions) {
    this.#transport = transport;
    this.#options = options;
    this.#limits = { ...DEFAULT_LITE_LIMITS, ...options.limits };
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.#budget = new SendBudget(this.#limits.subscriberQueueBytes);
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    this.#connection = new LiteConnection(transport, {
      logger: this.#logger,
      maxMessageBytes: this.#limits.maxMessageBytes,
      peer: 'client',
      classify: serverFailure,
      finished: (info) => this.#finished(info),
    });
    this.closed = this.#connection.closed.then(({ code, reason }) => ({ code, reason }));
    // A subscriber whose transport accepted nothing that long while bytes waited is closed.
    this.#stallWatch = new StallWatch(this.#budget, this.#limits.viewerStallTimeoutMs, (stall) => {
      if (this.#connection.closing) return;
      this.#logger.warn({ queuedBytes: stall.queuedBytes, stalledMs: stall.stalledMs, reason: stall.reason }, 'viewer stalled; closing session');
      this.close(LiteCloseCode.stalled, stall.reason);
    });
    void this.#run();
  }

  get version(): LiteVersion | undefined {
    return this.#version;
  }

  close(code: number = LiteCloseCode.normal, reason = ''): void {
    this.#connection.close(code, reason);
  }

  /**
   * A Goaway stream (draft-lcurley-moq-lite "Goaway", type 0x5) with one GOAWAY; `uri` '' asks
   * the client to simply close. The stream stays open: its FIN would say we are ready to
   * terminate, and the gateway closes the session itself when its drain ends.
   */
  goAway(uri = ''): void {
    const version = this.#version;
    if (this.#connection.closing || version === undefined || !hasGoaway(version)) return;
    const message = encodeGoaway({ uri }, version);
    void this.#transport
      .createBidirectionalStream()
      .then((bidi) => new StreamWriter(bidi.writable).write(new ByteWriter(message.byteLength + 1).varint(BidiStreamType.Goaway).bytes(message).finish()))
      .catch(() => undefined); // the session is ending anyway
  }

  stats(): LiteSessionStats {
    const c = this.#counters;
    return {
      version: this.#version === undefined ? undefined : versionName(this.#version),
      subscriptions: c.subscriptions,
      announceStreams: c.announceStreams,
      publishedBroadcasts: this.#clientBroadcasts?.broadcastCount ?? 0,
      upstreamSubscriptions: c.upstreamSubscriptions,
      queuedBytes: this.#budget.queuedBytes,
      peakQueuedBytes: this.#budget.peakQueuedBytes,
      groupsSent: c.groupsSent,
      groupsDropped: c.groupsDropped + this.#budget.droppedGroups,
      groupsSkipped: c.groupsSkipped,
      bytesSent: c.bytesSent,
      groupsReceived: c.groupsReceived,
      bytesReceived: c.bytesReceived,
      stalled: this.#stallWatch.stall ? 1 : 0,
    };
  }

  async #run(): Promise<void> {
    try {
      const negotiated = await this.#negotiate();
      if (negotiated === undefined || this.#connection.closing) return;
      const { version } = negotiated;
      this.#version = version;
      const ctx = this.#context(version);
      this.#logger.info({ version: versionName(version), root: ctx.root }, 'moq-lite session started');
      this.#resolveReady(version);
      this.#clientBroadcasts = new ClientBroadcasts(ctx);
      void this.#clientBroadcasts.run().catch((error: unknown) => this.#connection.fail(error));
      this.#connection.start(
        {
          serveBidi: (stream) => this.#serveBidi(ctx, stream, negotiated.sessionStream !== undefined),
          serveUni: (reader) => this.#serveUni(ctx, reader),
          streamFailed: (error, stream, reader) => this.#streamFailed(error, stream, reader),
        },
        negotiated.sessionStream,
      );
    } catch (error) {
      this.#connection.fail(error);
    }
  }

  /** The version from the protocol, or from the client's SETUP on its first bidi stream. */
  async #negotiate(): Promise<Negotiated | undefined> {
    const { protocol } = this.#options;
    const pinned = versionFromProtocol(protocol);
    if (pinned !== undefined) return { version: pinned };
    if (protocol !== LiteProtocol.Compat && protocol !== '') {
      throw new ProtocolError('unsupported-version', `protocol "${protocol}" is not moq-lite`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SetupTimeoutError(`no SETUP within ${this.#limits.setupTimeoutMs} ms`)), this.#limits.setupTimeoutMs);
    });
    try {
      const { setup } = this.#options;
      if (setup) return await Promise.race([answerReadSetup(setup), timeout]);
      const first = await Promise.race([this.#connection.nextBidi(), timeout]);
      if (first === undefined) return undefined;
      return await Promise.race([answerSetup(first, this.#limits.maxMessageBytes), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #context(version: LiteVersion): SessionContext {
    const { origin, access } = this.#options;
    const session = this;
    return {
      version,
      transport: this.#transport,
      origin,
      root: normalizePath(this.#options.root ?? ''),
      limits: this.#limits,
      logger: this.#logger,
      budget: this.#budget,
      counters: this.#counters,
      trackOptions: this.#options.trackOptions ?? {},
      broadcastInfo: this.#options.broadcastInfo ?? {},
      observeLatency: this.#options.observeLatency,
      allowPublish: (path) => access?.canPublish(path) ?? true,
      allowSubscribe: (path) => access?.canSubscribe(path) ?? true,
      get closing() {
        return session.#connection.closing;
      },
      onFatal: (error) => this.#connection.fail(error),
      tasks: this.#tasks,
    };
  }

  async #serveBidi(ctx: SessionContext, stream: RequestStream, hasSessionStream: boolean): Promise<void> {
    const { version, limits } = ctx;
    const type = await stream.reader.varint();
    switch (type) {
      case BidiStreamType.Announce:
        return serveAnnouncements(ctx, stream, decodeAnnouncePlease(await stream.reader.message(limits.maxMessageBytes), version));
      case BidiStreamType.Subscribe:
        return serveSubscription(ctx, stream, decodeSubscribe(await stream.reader.message(limits.maxMessageBytes), version));
      case BidiStreamType.Fetch:
        if (!hasFetch(version)) break;
        return serveFetch(ctx, stream, decodeFetch(await stream.reader.message(limits.maxMessageBytes), version));
      case BidiStreamType.Probe:
        if (!hasProbe(version)) break;
        // We have no bandwidth estimate to report; a graceful FIN (not a reset) keeps the
        // reference client's connection alive (it treats a probe error as fatal).
        void stream.reader.cancel();
        return stream.writer.close();
      case BidiStreamType.Goaway: {
        if (!hasGoaway(version)) break;
        const goaway = decodeGoaway(await stream.reader.message(limits.maxMessageBytes), version);
        this.#logger.info({ uri: goaway.uri }, 'client sent GOAWAY');
        void stream.reader.cancel();
        return stream.writer.close();
      }
      case BidiStreamType.Session:
      case BidiStreamType.ClientSetupCompat:
        if (hasSessionStream) throw new ProtocolError('unexpected-message', 'duplicate SETUP stream');
        break;
    }
    // lite-03+: an unknown stream type resets only that stream; before, it was fatal.
    if (version >= LiteVersion.Draft03) return refuse(stream, RelayErrorCode.notFound, `unknown stream type 0x${type.toString(16)}`);
    throw new ProtocolError('unknown-stream-type', `unknown bidi stream type 0x${type.toString(16)}`);
  }

  async #serveUni(ctx: SessionContext, reader: StreamReader): Promise<void> {
    const type = await reader.varint();
    if (type === UniStreamType.Group) return this.#clientBroadcasts?.receiveGroup(reader);
    if (ctx.version >= LiteVersion.Draft03) return void reader.cancel();
    throw new ProtocolError('unknown-stream-type', `unknown uni stream type 0x${type.toString(16)}`);
  }

  /** A stream handler failed (not a protocol violation, not the client's reset). */
  #streamFailed(error: unknown, stream: RequestStream | undefined, reader: StreamReader | undefined): void {
    if (error instanceof AnnouncementOverflowError) return this.#connection.fail(error);
    this.#logger.error({ err: error }, 'moq-lite stream handler failed');
    if (stream) refuse(stream, RelayErrorCode.internal, 'internal error');
    void reader?.cancel();
  }

  /** Lets go of everything this session holds (once, from the connection). */
  #finished(info: LiteSessionCloseInfo): void {
    this.#stallWatch.stop();
    for (const task of [...this.#tasks]) task.stop();
    this.#tasks.clear();
    this.#clientBroadcasts?.stop();
    this.#resolveReady(this.#version);
    this.#logger.info({ code: info.code, reason: info.reason }, 'moq-lite session closed');
  }
}

/** The server's own failures that have a close code: a late SETUP, a watcher that fell behind, a closed SETUP stream. */
function serverFailure(error: unknown): LiteSessionCloseInfo | undefined {
  if (error instanceof SetupTimeoutError) return { code: LiteCloseCode.setupTimeout, reason: error.message };
  if (error instanceof AnnouncementOverflowError) return { code: LiteCloseCode.tooSlow, reason: error.message };
  if (error instanceof StreamAbortedError) return { code: LiteCloseCode.normal, reason: 'setup stream closed' };
  return undefined;
}
