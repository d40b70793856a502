import type { Origin, RelayAccess } from '../relay/index.ts';
import type { StructuredLogger } from '../logger.ts';
import { serveLiteSession } from './lite/index.ts';
import { LiteProtocol, LiteVersion } from './lite/version.ts';
import { authorizeWith, type IetfMediaBridge, ietfVersionFromProtocol, type ReceivedClientSetup, selectIetfVersion, serveIetfSession, type IetfVersion } from './ietf/index.ts';
import { peekClientSetup } from './setup-peek.ts';
import { normalizePath } from '../relay/path.ts';

export interface MoqSessionInfo {
  /** Negotiated protocol ('' = decided in SETUP). */
  protocol: string;
  url: URL;
  remoteAddress: string;
  transport: string;
  /** The CLIENT_SETUP when the caller already read it (raw QUIC PATH): not read again. */
  setup?: ReceivedClientSetup;
}

/** Bounds for any MoQ session, mapped onto each protocol's own. */
export interface MoqLimits {
  controlMessageBytes?: number;
  frameBytes?: number;
  subscriberQueueBytes?: number;
  setupTimeoutMs?: number;
  /** A subscriber that takes no bytes this long (bytes waiting) is closed (moq-lite and IETF). */
  viewerStallTimeoutMs?: number;
}

export interface MoqSessionDeps {
  origin: Origin;
  logger: StructuredLogger;
  limits?: MoqLimits;
  /** What the peer may publish and read, from its credential (app/access-policy.ts). Absent = everything. */
  access?: RelayAccess;
  observeLatency?: (ms: number) => void;
  /** How relay broadcasts look to IETF peers (e.g. hang as MSF/LOC); absent = tracks pass through. */
  ietfMedia?: IetfMediaBridge;
}

/** Counters every MoQ session keeps, whatever its protocol. */
export interface MoqSessionStats {
  bytesSent: number;
  groupsSent: number;
  groupsDropped: number;
  bytesReceived: number;
  /** Sessions closed because their viewer stopped taking bytes (0 or 1 per session). */
  viewersStalled: number;
}

/** What the gateway holds of any MoQ session, whatever its protocol. */
export interface MoqSessionHandle {
  /** `moq-lite` or `moqt` once known (for the API and metrics). */
  readonly family: string;
  readonly closed: Promise<unknown>;
  close(code: number, reason: string): void;
  /** Tell the peer to go elsewhere before we close (shutdown), where the protocol can. */
  goAway(): void;
  stats(): MoqSessionStats;
}

const NO_STATS: MoqSessionStats = { bytesSent: 0, groupsSent: 0, groupsDropped: 0, bytesReceived: 0, viewersStalled: 0 };
const LITE_SETUP_VERSIONS: readonly number[] = [LiteVersion.Draft02, LiteVersion.Draft01];
const SETUP_TIMEOUT_MS = 10_000;

type Inner = Omit<MoqSessionHandle, 'closed'> & { closed: Promise<unknown> };

/**
 * Runs the MoQ session the client negotiated on an accepted transport: moq-lite for
 * `moq-lite-04/03`, IETF moq-transport for `moqt-16` / `moq-00`, and on `moql` (or no protocol)
 * whichever the CLIENT_SETUP's version list asks for, moq-lite first. The URL path is the
 * session root: client paths are relative to it (moq-lite §Connection).
 */
export function serveMoqSession(transport: WebTransport, info: MoqSessionInfo, deps: MoqSessionDeps): MoqSessionHandle {
  const root = normalizePath(info.url.pathname);
  const pinned = ietfVersionFromProtocol(info.protocol);
  if (pinned) return ietf(transport, pinned, root, deps, info.setup);
  if (info.protocol === LiteProtocol.Draft04 || info.protocol === LiteProtocol.Draft03) return lite(transport, info, root, deps);
  if (info.protocol !== LiteProtocol.Compat && info.protocol !== '') {
    deps.logger.warn({ protocol: info.protocol }, 'unsupported MoQ protocol');
    transport.close({ closeCode: 1, reason: `unsupported protocol ${info.protocol}` });
    return { family: 'unknown', closed: Promise.resolve(), close: () => {}, goAway: () => {}, stats: () => NO_STATS };
  }
  return deferred(transport, async () => {
    // SETUP is read once, here or by the caller; the session that answers it gets it decoded.
    const peeked = info.setup ? { versions: info.setup.message.versions, setup: info.setup, transport } : await peekClientSetup(transport, deps.limits?.setupTimeoutMs ?? SETUP_TIMEOUT_MS);
    const offersLite = peeked.versions === undefined || peeked.versions.some((v) => LITE_SETUP_VERSIONS.includes(v));
    const ietfVersion = peeked.versions && selectIetfVersion(peeked.versions);
    if (!offersLite && ietfVersion) return ietf(peeked.transport, ietfVersion, root, deps, peeked.setup);
    return lite(peeked.transport, info, root, deps, peeked.setup);
  }, deps.logger);
}

function lite(transport: WebTransport, info: MoqSessionInfo, root: string, deps: MoqSessionDeps, setup?: ReceivedClientSetup): Inner {
  const session = serveLiteSession(transport, {
    protocol: info.protocol,
    setup: setup && { versions: setup.message.versions, reader: setup.reader, writable: setup.stream.writable },
    origin: deps.origin,
    root,
    limits: {
      ...(deps.limits?.controlMessageBytes ? { maxMessageBytes: deps.limits.controlMessageBytes } : {}),
      ...(deps.limits?.frameBytes ? { maxFrameBytes: deps.limits.frameBytes } : {}),
      ...(deps.limits?.subscriberQueueBytes ? { subscriberQueueBytes: deps.limits.subscriberQueueBytes } : {}),
      ...(deps.limits?.setupTimeoutMs ? { setupTimeoutMs: deps.limits.setupTimeoutMs } : {}),
      ...(deps.limits?.viewerStallTimeoutMs ? { viewerStallTimeoutMs: deps.limits.viewerStallTimeoutMs } : {}),
    },
    logger: deps.logger,
    access: deps.access,
    broadcastInfo: { protocol: 'moq-lite', remoteAddress: info.remoteAddress },
    observeLatency: deps.observeLatency,
  });
  return {
    family: 'moq-lite',
    closed: session.closed,
    close: (code, reason) => session.close(code, reason),
    goAway: () => session.goAway(),
    stats: () => {
      const s = session.stats();
      return { bytesSent: s.bytesSent, groupsSent: s.groupsSent, groupsDropped: s.groupsDropped + s.groupsSkipped, bytesReceived: s.bytesReceived, viewersStalled: s.stalled };
    },
  };
}

function ietf(transport: WebTransport, version: IetfVersion, root: string, deps: MoqSessionDeps, setup?: ReceivedClientSetup): Inner {
  const session = serveIetfSession(transport, {
    version,
    setup,
    origin: deps.origin,
    root,
    logger: deps.logger,
    media: deps.ietfMedia,
    authorize: deps.access && authorizeWith(deps.access),
    maxObjectBytes: deps.limits?.frameBytes,
    setupTimeoutMs: deps.limits?.setupTimeoutMs,
    subscriberQueueBytes: deps.limits?.subscriberQueueBytes,
    viewerStallTimeoutMs: deps.limits?.viewerStallTimeoutMs,
    // @moq/net and other players without a joining FETCH need the current group from its
    // start to see the catalog (as moq-rs serves it).
    largestObjectJoinsGroup: true,
  });
  return { family: 'moqt', closed: session.closed, close: (code, reason) => session.close(code, reason), goAway: () => session.goAway(), stats: () => {
      const s = session.stats();
      return { bytesSent: s.bytesSent, groupsSent: s.groupsSent, groupsDropped: s.groupsDropped, bytesReceived: s.bytesReceived, viewersStalled: s.stalled };
    },
  };
}

/** A handle for a session whose protocol is decided asynchronously (after SETUP). */
function deferred(transport: WebTransport, start: () => Promise<Inner>, logger: StructuredLogger): MoqSessionHandle {
  let inner: Inner | undefined;
  let family = 'moq';
  const closed = start().then(
    (session) => {
      inner = session;
      family = session.family;
      return session.closed;
    },
    (error: unknown) => {
      logger.info({ reason: (error as Error).message }, 'session ended before SETUP');
      transport.close({ closeCode: 0x3, reason: (error as Error).message });
      return { code: 0x3, reason: (error as Error).message };
    },
  );
  return {
    get family() {
      return family;
    },
    closed,
    close: (code, reason) => (inner ? inner.close(code, reason) : transport.close({ closeCode: code, reason })),
    goAway: () => inner?.goAway(),
    stats: () => inner?.stats() ?? NO_STATS,
  };
}
