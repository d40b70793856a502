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
import { StreamReader } from '../../wire/stream-reader.ts';
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
import { decodeSessionInfo } from './session-setup.ts';
import { BidiStreamType, UniStreamType } from './stream-type.ts';
import { decodeSubscribe } from './subscribe.ts';
import { hasFetch, hasGoaway, hasProbe, LiteProtocol, LiteVersion, versionFromProtocol, versionName } from './version.ts';
import type { BidirectionalStream, WebTransportLike } from './web-transport.ts';

export interface LiteSessionCloseInfo {
  code: number;
  reason: string;
}

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

/** WebTransport close reasons are limited to 1024 bytes. */
const MAX_REASON_CHARS = 256;

class SetupTimeoutError extends Error {
  override readonly name = 'SetupTimeoutError';
}

class LiteServerSession implements LiteSession {
  readonly #transport: WebTransportLike;
  readonly #options: LiteSessionOptions;
  readonly #limits: LiteLimits;
  readonly #logger: SessionLogger;
  readonly #counters: SessionCounters = emptyCounters();
  readonly #budget: SendBudget;
  readonly #tasks = new Set<Stoppable>();
  readonly #bidis: ReadableStreamDefaultReader<BidirectionalStream>;
  readonly #unis: ReadableStreamDefaultReader<ReadableStream<Uint8Array>>;
  readonly ready: Promise<LiteVersion | undefined>;
  readonly closed: Promise<LiteSessionCloseInfo>;
  #resolveReady!: (version: LiteVersion | undefined) => void;
  #resolveClosed!: (info: LiteSessionCloseInfo) => void;
  #version: LiteVersion | undefined;
  #clientBroadcasts: ClientBroadcasts | undefined;
  #sessionStream: Negotiated['sessionStream'];
  #closing = false;
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
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#bidis = transport.incomingBidirectionalStreams.getReader();
    this.#unis = transport.incomingUnidirectionalStreams.getReader();
    transport.closed.then(
      (info) => this.#finish(closeInfoFrom(info, LiteCloseCode.normal, 'closed by peer')),
      (error: unknown) => this.#finish({ code: LiteCloseCode.internal, reason: `transport failed: ${describe(error)}` }),
    );
    // A subscriber whose transport accepted nothing that long while bytes waited is closed.
    this.#stallWatch = new StallWatch(this.#budget, this.#limits.viewerStallTimeoutMs, (stall) => {
      if (this.#closing) return;
      this.#logger.warn({ queuedBytes: stall.queuedBytes, stalledMs: stall.stalledMs, reason: stall.reason }, 'viewer stalled; closing session');
      this.close(LiteCloseCode.stalled, stall.reason);
    });
    void this.#run();
  }

  get version(): LiteVersion | undefined {
    return this.#version;
  }

  close(code: number = LiteCloseCode.normal, reason = ''): void {
    if (this.#closing) return;
    const info = { code, reason: reason.slice(0, MAX_REASON_CHARS) };
    try {
      this.#transport.close({ closeCode: info.code, reason: info.reason });
    } catch {
      // already closed
    }
    this.#finish(info);
  }

  /**
   * A Goaway stream (draft-lcurley-moq-lite "Goaway", type 0x5) with one GOAWAY; `uri` '' asks
   * the client to simply close. The stream stays open: its FIN would say we are ready to
   * terminate, and the gateway closes the session itself when its drain ends.
   */
  goAway(uri = ''): void {
    const version = this.#version;
    if (this.#closing || version === undefined || !hasGoaway(version)) return;
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
      const version = await this.#negotiate();
      if (version === undefined || this.#closing) return;
      this.#version = version;
      const ctx = this.#context(version);
      this.#logger.info({ version: versionName(version), root: ctx.root }, 'moq-lite session started');
      this.#resolveReady(version);
      this.#clientBroadcasts = new ClientBroadcasts(ctx);
      void this.#clientBroadcasts.run().catch((error: unknown) => this.#fail(error));
      void this.#readSessionStream();
      void this.#acceptBidis(ctx);
      void this.#acceptUnis(ctx);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** The version from the protocol, or from the client's SETUP on its first bidi stream. */
  async #negotiate(): Promise<LiteVersion | undefined> {
    const { protocol } = this.#options;
    const pinned = versionFromProtocol(protocol);
    if (pinned !== undefined) return pinned;
    if (protocol !== LiteProtocol.Compat && protocol !== '') {
      throw new ProtocolError('unsupported-version', `protocol "${protocol}" is not moq-lite`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SetupTimeoutError(`no SETUP within ${this.#limits.setupTimeoutMs} ms`)), this.#limits.setupTimeoutMs);
    });
    try {
      const { setup } = this.#options;
      let negotiated: Negotiated;
      if (setup) {
        negotiated = await Promise.race([answerReadSetup(setup), timeout]);
      } else {
        const first = await Promise.race([this.#bidis.read(), timeout]);
        if (first.done) return undefined;
        negotiated = await Promise.race([answerSetup(first.value, this.#limits.maxMessageBytes), timeout]);
      }
      this.#sessionStream = negotiated.sessionStream;
      return negotiated.version;
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
        return session.#closing;
      },
      onFatal: (error) => this.#fail(error),
      tasks: this.#tasks,
    };
  }

  async #acceptBidis(ctx: SessionContext): Promise<void> {
    for (;;) {
      let next: ReadableStreamReadResult<BidirectionalStream>;
      try {
        next = await this.#bidis.read();
      } catch {
        return;
      }
      if (next.done) return;
      const stream: RequestStream = { reader: new StreamReader(next.value.readable), writer: new StreamWriter(next.value.writable) };
      void this.#serveBidi(ctx, stream).catch((error: unknown) => this.#onStreamError(error, stream));
    }
  }

  async #serveBidi(ctx: SessionContext, stream: RequestStream): Promise<void> {
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
        if (this.#sessionStream) throw new ProtocolError('unexpected-message', 'duplicate SETUP stream');
        break;
    }
    // lite-03+: an unknown stream type resets only that stream; before, it was fatal.
    if (version >= LiteVersion.Draft03) return refuse(stream, RelayErrorCode.notFound, `unknown stream type 0x${type.toString(16)}`);
    throw new ProtocolError('unknown-stream-type', `unknown bidi stream type 0x${type.toString(16)}`);
  }

  async #acceptUnis(ctx: SessionContext): Promise<void> {
    for (;;) {
      let next: ReadableStreamReadResult<ReadableStream<Uint8Array>>;
      try {
        next = await this.#unis.read();
      } catch {
        return;
      }
      if (next.done) return;
      const reader = new StreamReader(next.value);
      void this.#serveUni(ctx, reader).catch((error: unknown) => this.#onStreamError(error, undefined, reader));
    }
  }

  async #serveUni(ctx: SessionContext, reader: StreamReader): Promise<void> {
    const type = await reader.varint();
    if (type === UniStreamType.Group) return this.#clientBroadcasts?.receiveGroup(reader);
    if (ctx.version >= LiteVersion.Draft03) return void reader.cancel();
    throw new ProtocolError('unknown-stream-type', `unknown uni stream type 0x${type.toString(16)}`);
  }

  /** lite-01/02: the SETUP stream stays open and may carry SESSION_INFO (ignored). */
  async #readSessionStream(): Promise<void> {
    const stream = this.#sessionStream;
    if (!stream) return;
    try {
      for (;;) {
        const body = await stream.reader.messageOrEnd(this.#limits.maxMessageBytes);
        if (body === undefined) return;
        decodeSessionInfo(body);
      }
    } catch (error) {
      if (!(error instanceof StreamAbortedError)) this.#fail(error);
    }
  }

  #onStreamError(error: unknown, stream?: RequestStream, reader?: StreamReader): void {
    if (error instanceof StreamAbortedError) return; // the client reset a stream: its business
    if (error instanceof ProtocolError || error instanceof AnnouncementOverflowError) return this.#fail(error);
    this.#logger.error({ err: error }, 'moq-lite stream handler failed');
    if (stream) refuse(stream, RelayErrorCode.internal, 'internal error');
    void reader?.cancel();
  }

  /** Closes the session because of `error`, with a reason the client can read. */
  #fail(error: unknown): void {
    if (this.#closing) return;
    if (error instanceof ProtocolError) {
      this.#logger.warn({ code: error.code, reason: error.message }, 'moq-lite protocol violation; closing session');
      const code = error.code === 'unsupported-version' ? LiteCloseCode.unsupportedVersion : LiteCloseCode.protocolViolation;
      return this.close(code, error.message);
    }
    if (error instanceof SetupTimeoutError) return this.close(LiteCloseCode.setupTimeout, error.message);
    if (error instanceof AnnouncementOverflowError) return this.close(LiteCloseCode.tooSlow, error.message);
    if (error instanceof StreamAbortedError) return this.close(LiteCloseCode.normal, 'setup stream closed');
    this.#logger.error({ err: error }, 'moq-lite session failed');
    this.close(LiteCloseCode.internal, 'internal error');
  }

  /** Ends everything this session holds; idempotent. */
  #finish(info: LiteSessionCloseInfo): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#stallWatch.stop();
    for (const task of [...this.#tasks]) task.stop();
    this.#tasks.clear();
    this.#clientBroadcasts?.stop();
    void this.#sessionStream?.reader.cancel();
    this.#bidis.cancel().catch(() => undefined);
    this.#unis.cancel().catch(() => undefined);
    this.#resolveReady(this.#version);
    this.#logger.info({ code: info.code, reason: info.reason }, 'moq-lite session closed');
    this.#resolveClosed(info);
  }
}

function closeInfoFrom(value: unknown, code: number, reason: string): LiteSessionCloseInfo {
  if (typeof value === 'object' && value !== null) {
    const info = value as { closeCode?: unknown; reason?: unknown };
    return {
      code: typeof info.closeCode === 'number' ? info.closeCode : code,
      reason: typeof info.reason === 'string' ? info.reason : reason,
    };
  }
  return { code, reason };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
