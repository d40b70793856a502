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
}

/** What the gateway holds of any MoQ session, whatever its protocol. */
export interface MoqSessionHandle {
  readonly closed: Promise<unknown>;
  close(code: number, reason: string): void;
}

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
      });
      void session.closed.then((closeInfo) => deps.logger.info({ ...closeInfo }, 'session closed'));
      return { closed: session.closed, close: (code, reason) => session.close(code, reason) };
    }
    default: {
      deps.logger.warn({ protocol: info.protocol }, 'unsupported MoQ protocol');
      transport.close({ closeCode: 1, reason: `unsupported protocol ${info.protocol}` });
      return { closed: Promise.resolve(), close: () => {} };
    }
  }
}
