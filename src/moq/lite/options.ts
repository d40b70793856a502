/**
 * Configuration of a server-side moq-lite session.
 */
import type { Origin, RelayAccess, TrackOptions } from '../../relay/index.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../wire/stream-reader.ts';
import { silentLogger, type StructuredLogger } from '../../logger.ts';
import type { ReadClientSetup } from './handshake.ts';

export interface LiteLimits {
  /** Largest control message body (SETUP, SUBSCRIBE, ANNOUNCE, ...). */
  maxMessageBytes: number;
  /** Largest frame accepted from a publishing client. */
  maxFrameBytes: number;
  /**
   * Bytes handed to the transport for this subscriber and not yet accepted by it, across all
   * its group streams. Past this, the least important in-flight groups are reset.
   */
  subscriberQueueBytes: number;
  /** Group streams in flight per subscription; past this the oldest (newest-first) is reset. */
  maxGroupsInFlight: number;
  /** Concurrent subscriptions the client may hold. */
  maxSubscriptions: number;
  /** Concurrent announce streams the client may hold. */
  maxAnnounceStreams: number;
  /** Time the client has to complete the `moql` SETUP. */
  setupTimeoutMs: number;
  /**
   * A subscriber with bytes queued and none accepted by its transport for this long (it stopped
   * reading its socket or granting flow control) is closed, releasing everything it holds.
   */
  viewerStallTimeoutMs: number;
}

export const DEFAULT_LITE_LIMITS: LiteLimits = {
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxFrameBytes: 16 * 1024 * 1024,
  subscriberQueueBytes: 4 * 1024 * 1024,
  maxGroupsInFlight: 8,
  maxSubscriptions: 1024,
  maxAnnounceStreams: 64,
  setupTimeoutMs: 10_000,
  viewerStallTimeoutMs: 30_000,
};

/** The gateway's logger (src/logger.ts), under the name the lite session and client use. */
export type SessionLogger = StructuredLogger;
export const SILENT_LOGGER: StructuredLogger = silentLogger;

export interface LiteSessionOptions {
  /** Negotiated WebTransport protocol / ALPN: `moq-lite-04`, `moq-lite-03`, `moql` or ''. */
  protocol: string;
  /** `moql`: the compat CLIENT_SETUP, already read from the first bidi stream (not read again). */
  setup?: ReadClientSetup;
  origin: Origin;
  /** Path prefix from the URL: client paths are relative to it. */
  root?: string;
  limits?: Partial<LiteLimits>;
  logger?: StructuredLogger;
  /**
   * What the client may publish (announce) and subscribe to / see announced. moq-lite has no
   * per-request credentials, so the session's access decides. Default: everything.
   */
  access?: Pick<RelayAccess, 'canPublish' | 'canSubscribe'>;
  /** Options for tracks the client publishes (cache bounds, ...). */
  trackOptions?: TrackOptions;
  /** Free-form facts recorded on broadcasts the client publishes (for the API). */
  broadcastInfo?: Record<string, string>;
  /** Called with the ms from a frame's arrival in the relay to its hand-off to this transport. */
  observeLatency?: (ms: number) => void;
}
