/** What serveIetfSession needs from the gateway, and the session's tuning knobs. */
import type { Origin } from '../../../relay/origin.ts';
import type { StreamReader } from '../../../wire/stream-reader.ts';
import type { IetfMediaBridge } from '../media-bridge.ts';
import type { ClientSetup } from '../messages.ts';
import type { IetfVersion } from '../version.ts';
import type { IetfSessionCounters } from './counters.ts';
import type { StructuredLogger } from '../../../logger.ts';

export type AuthorizeAction = 'publish' | 'subscribe';

/**
 * Decides whether the peer may publish or subscribe under `path` (the full relay path). `token` is
 * the AUTHORIZATION_TOKEN value from the request, else from CLIENT_SETUP; undefined when neither
 * carried one.
 */
export type Authorize = (action: AuthorizeAction, path: string, token?: Uint8Array) => boolean | Promise<boolean>;

/** A CLIENT_SETUP read off the control stream before the session started (see readClientSetup). */
export interface ReceivedClientSetup {
  stream: WebTransportBidirectionalStream;
  /** Reads `stream.readable`, positioned just after CLIENT_SETUP (it may hold buffered bytes). */
  reader: StreamReader;
  message: ClientSetup;
}

export interface ServeIetfSessionOptions {
  version: IetfVersion;
  origin: Origin;
  /** Relay path prefix this session lives under: namespace ('live','demo') is `${root}/live/demo`. */
  root: string;
  logger: StructuredLogger;
  /** How relay broadcasts look to IETF peers, e.g. hang as MSF/LOC. Default: tracks pass through. */
  media?: IetfMediaBridge;
  authorize?: Authorize;
  /** Set when the gateway already read CLIENT_SETUP to choose between moq-lite and IETF. */
  setup?: ReceivedClientSetup;
  /** Largest object payload accepted from publishers. Default 16 MiB. */
  maxObjectBytes?: number;
  /** How long the client has to send CLIENT_SETUP. Default 10 s. */
  setupTimeoutMs?: number;
  /**
   * How long an upstream SUBSCRIBE to a publisher may go unanswered before the relay gives up
   * (UNSUBSCRIBE) and refuses its subscribers, so a silent publisher cannot hold them forever.
   * Default 10 s.
   */
  upstreamResponseTimeoutMs?: number;
  /** Request IDs granted ahead with MAX_REQUEST_ID. Default 128 (64 requests). */
  requestIdWindow?: number;
  /**
   * Serve a Largest Object SUBSCRIBE from the start of the current group instead of the next
   * object (what moq-rs does). Off by default: the draft forbids objects outside the filter.
   */
  largestObjectJoinsGroup?: boolean;
  /** MOQT_IMPLEMENTATION sent in SERVER_SETUP. */
  implementation?: string;
  /**
   * Bytes queued in the transport for this subscriber across its data streams; past this its
   * least important group streams are reset. Default 4 MiB.
   */
  subscriberQueueBytes?: number;
  /** A subscriber whose transport took no byte this long while bytes waited is closed. Default 30 s. */
  viewerStallTimeoutMs?: number;
}

/** How an IETF session ended. */
export interface IetfSessionCloseInfo {
  code: number;
  reason: string;
}

export interface IetfSessionStats extends IetfSessionCounters {
  /** Bytes queued in the transport for this subscriber now, and at most so far. */
  queuedBytes: number;
  peakQueuedBytes: number;
  /** 1 once the session was closed for making no progress (viewer stall timeout). */
  stalled: number;
}

export interface SessionHandle {
  /** Resolves once the session has ended, whichever side ended it. */
  closed: Promise<IetfSessionCloseInfo>;
  /** Ends the session with a termination code (draft-16 §3.4) and reason. */
  close(code: number, reason: string): void;
  /** What the session has moved so far. */
  stats(): IetfSessionStats;
}
