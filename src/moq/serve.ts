import type { Origin } from './index.ts';
import { serveLiteSession, type LiteLimits, type SessionLogger } from './lite/index.ts';
import { normalizePath } from './path.ts';

export interface MoqSessionInfo {
  /** Negotiated protocol ('' = decided in SETUP). */
  protocol: string;
  url: URL;
  remoteAddress: string;
  transport: string;
}

export interface MoqSessionDeps {
  origin: Origin;
  logger: SessionLogger;
  limits?: Partial<LiteLimits>;
  onPublishAllowed?: (path: string) => boolean;
  onSubscribeAllowed?: (path: string) => boolean;
  observeLatency?: (ms: number) => void;
}

/** Counters every MoQ session keeps, whatever its protocol. */
export interface MoqSessionStats {
  bytesSent: number;
  groupsSent: number;
  groupsDropped: number;
  bytesReceived: number;
}

/** What the gateway holds of any MoQ session, whatever its protocol. */
export interface MoqSessionHandle {
  /** `moq-lite`, `moqt` — for the API and metrics. */
  readonly family: string;
  readonly closed: Promise<unknown>;
  close(code: number, reason: string): void;
  stats(): MoqSessionStats;
}

const NO_STATS: MoqSessionStats = { bytesSent: 0, groupsSent: 0, groupsDropped: 0, bytesReceived: 0 };

/**
 * Runs the MoQ session the client negotiated on an accepted transport. The URL path is the
 * session root: client paths are relative to it (moq-lite §Connection).
 */
export function serveMoqSession(transport: WebTransport, info: MoqSessionInfo, deps: MoqSessionDeps): MoqSessionHandle {
  const root = normalizePath(info.url.pathname);
  switch (info.protocol) {
    case 'moq-lite-04':
    case 'moq-lite-03':
    case 'moql':
    case '': {
      const session = serveLiteSession(transport, {
        protocol: info.protocol,
        origin: deps.origin,
        root,
        limits: deps.limits,
        logger: deps.logger,
        onPublishAllowed: deps.onPublishAllowed,
        onSubscribeAllowed: deps.onSubscribeAllowed,
        broadcastInfo: { protocol: 'moq-lite', remoteAddress: info.remoteAddress },
        observeLatency: deps.observeLatency,
      });
      return {
        family: 'moq-lite',
        closed: session.closed,
        close: (code, reason) => session.close(code, reason),
        stats: () => {
          const s = session.stats();
          return { bytesSent: s.bytesSent, groupsSent: s.groupsSent, groupsDropped: s.groupsDropped + s.groupsSkipped, bytesReceived: s.bytesReceived };
        },
      };
    }
    default: {
      deps.logger.warn({ protocol: info.protocol }, 'unsupported MoQ protocol');
      transport.close({ closeCode: 1, reason: `unsupported protocol ${info.protocol}` });
      return { family: 'unknown', closed: Promise.resolve(), close: () => {}, stats: () => NO_STATS };
    }
  }
}
