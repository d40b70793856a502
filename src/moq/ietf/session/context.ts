/**
 * What request handlers get from their session: the negotiated codecs, the relay, the control
 * stream, request IDs, authorization and a way to end the session on a protocol error.
 */
import type { Origin } from '../../../relay/origin.ts';
import type { SendBudget } from '../../send-budget.ts';
import type { ControlCodec } from '../control-codec.ts';
import type { DataCodec } from '../data/data-codec.ts';
import type { IetfMediaBridge, IetfPeer } from '../media-bridge.ts';
import type { ControlMessage } from '../messages.ts';
import type { IetfVersion } from '../version.ts';
import type { AuthToken } from '../wire/token.ts';
import type { IetfSessionCounters } from './counters.ts';
import type { StructuredLogger } from '../../../logger.ts';
import type { AuthorizeAction } from './options.ts';
import type { PeerQuirks } from './peer.ts';

export interface SessionTuning {
  maxObjectBytes: number;
  largestObjectJoinsGroup: boolean;
  /** How long a data stream may wait for its track alias to be established. */
  aliasWaitMs: number;
  /** How long a subscription waits for a broadcast's catalog to pick the object format. */
  catalogProbeMs: number;
  /** Group streams one subscription may have open at once; older ones are reset past this. */
  maxGroupStreams: number;
}

export type AuthorizationResult = 'ok' | 'unauthorized';

export interface SessionContext {
  readonly version: IetfVersion;
  /** The peer's draft and implementation (known once CLIENT_SETUP was read). */
  readonly peer: IetfPeer;
  /** Workarounds for the peer's known limits (see peer.ts). */
  readonly quirks: PeerQuirks;
  readonly codec: ControlCodec;
  readonly data: DataCodec;
  readonly transport: WebTransport;
  readonly origin: Origin;
  readonly root: string;
  readonly logger: StructuredLogger;
  /** How relay broadcasts look to IETF peers (injected media knowledge). */
  readonly media: IetfMediaBridge;
  readonly tuning: SessionTuning;
  /** What the session has moved (for the gateway's metrics). */
  readonly counters: IetfSessionCounters;
  /** Bytes queued for this subscriber across its data streams, bounded by `--subscriber-queue-bytes`. */
  readonly budget: SendBudget;
  /** Resolves when the session ends. */
  readonly ended: Promise<void>;
  isClosed(): boolean;
  /** Sends on the control stream; a failure ends the session. */
  send(message: ControlMessage): void;
  /** Hands one datagram to the transport without waiting; false when it was dropped (queue full). */
  sendDatagram(datagram: Uint8Array): boolean;
  /** Ends the session because of `error` (a ProtocolError picks the termination code). */
  fail(error: unknown): void;
  /** The next request ID for a request we send, or undefined once the session is over. */
  nextRequestId(): Promise<number | undefined>;
  /** Checks the peer's tokens (and the session's) with the gateway's authorize callback. */
  authorize(action: AuthorizeAction, path: string, tokens: readonly AuthToken[]): Promise<AuthorizationResult>;
}
