/**
 * What every part of one moq-lite session shares: the negotiated version, the transport, the
 * relay, limits, policy hooks and counters.
 */
import type { Origin, TrackOptions } from '../../relay/index.ts';
import type { StructuredLogger } from '../../logger.ts';
import type { LiteLimits } from './options.ts';
import type { SendBudget } from '../send-budget.ts';
import type { LiteVersion } from './version.ts';
import type { WebTransportLike } from './web-transport.ts';

export interface SessionCounters {
  subscriptions: number;
  announceStreams: number;
  groupsSent: number;
  /** Group streams we reset because this subscriber fell behind (queue full or too many in flight). */
  groupsDropped: number;
  /** Groups the relay skipped for this subscriber before a stream was opened. */
  groupsSkipped: number;
  bytesSent: number;
  publishedBroadcasts: number;
  upstreamSubscriptions: number;
  groupsReceived: number;
  bytesReceived: number;
}

export function emptyCounters(): SessionCounters {
  return {
    subscriptions: 0,
    announceStreams: 0,
    groupsSent: 0,
    groupsDropped: 0,
    groupsSkipped: 0,
    bytesSent: 0,
    publishedBroadcasts: 0,
    upstreamSubscriptions: 0,
    groupsReceived: 0,
    bytesReceived: 0,
  };
}

export interface SessionContext {
  readonly version: LiteVersion;
  readonly transport: WebTransportLike;
  readonly origin: Origin;
  /** Normalized URL path prefix; client paths are relative to it. */
  readonly root: string;
  readonly limits: LiteLimits;
  readonly logger: StructuredLogger;
  readonly budget: SendBudget;
  readonly counters: SessionCounters;
  readonly trackOptions: TrackOptions;
  readonly broadcastInfo: Record<string, string>;
  readonly observeLatency: ((ms: number) => void) | undefined;
  allowPublish(path: string): boolean;
  allowSubscribe(path: string): boolean;
  /** True once the session is closing; long-running loops stop. */
  readonly closing: boolean;
  /** A background task failed: ProtocolError closes the session, anything else is logged. */
  onFatal(error: unknown): void;
  /** Live per-stream tasks; the session stops them all when it closes. */
  readonly tasks: Set<Stoppable>;
}

/** A per-stream task the session can end when it closes. */
export interface Stoppable {
  stop(): void;
}
