/**
 * IETF moq-transport (drafts 14, 16, 18 and 19; DRAFTS.md) beside moq-lite, on the same relay.
 *
 * - `serveIetfSession(transport, options)`: runs one session over any WebTransport-shaped
 *   transport. IETF publishers (PUBLISH_NAMESPACE or PUBLISH) become relay broadcasts every
 *   session can read; how their tracks map to relay tracks is the injected `media` bridge's call
 *   (e.g. hang ⇄ MSF/LOC, adapters/bridge/msf-loc), else they pass through.
 * - `readClientSetup(stream)` + `selectIetfVersion(versions)`: for the shared `moql` / no-protocol
 *   path, where CLIENT_SETUP must be read before choosing moq-lite or IETF draft-14.
 * - `ietfVersionFromProtocol(alpn)`: `moqt-19`/`moqt-18`/`moqt-16` → that draft, `moq-00` → draft-14.
 */
import { IetfSession } from './session/session.ts';
import type { ServeIetfSessionOptions, SessionHandle } from './session/options.ts';

export type { Authorize, AuthorizeAction, ReceivedClientSetup, ServeIetfSessionOptions, SessionHandle } from './session/options.ts';
export { authorizeWith } from './session/authorization.ts';
export { readClientSetup } from './setup.ts';
export { IETF_ALPN, IETF_VERSION_NUMBER, type IetfVersion, ietfVersionFromProtocol, selectIetfVersion } from './version.ts';
export { SessionErrorCode, IetfProtocolError } from './errors.ts';
export type { IetfMediaBridge } from './media-bridge.ts';
export type { ClientSetup, SetupParameters } from './messages.ts';

export interface IetfSessionHandle extends SessionHandle {
  /** Sends GOAWAY (draft-16 §9.4), optionally naming where to reconnect. */
  goAway(uri?: string): void;
}

/** Serves one IETF moq-transport session; returns at once, `closed` tells when it is over. */
export function serveIetfSession(transport: WebTransport, options: ServeIetfSessionOptions): IetfSessionHandle {
  const session = new IetfSession(transport, options);
  session.start();
  return {
    closed: session.closed,
    close: (code, reason) => session.close(code, reason),
    goAway: (uri) => session.goAway(uri),
    stats: () => session.stats(),
  };
}
