/**
 * moq-lite (versions 01–04, as spoken by @moq/lite 0.2.2): server sessions over any
 * WebTransport-shaped transport, and the wire codec underneath.
 */
export { serveLiteSession, type LiteSession, type LiteSessionCloseInfo, type LiteSessionStats } from './session.ts';
export { DEFAULT_LITE_LIMITS, SILENT_LOGGER, type LiteLimits, type LiteSessionOptions, type SessionLogger } from './options.ts';
export { LiteCloseCode } from './close-code.ts';
export { LiteProtocol, LiteVersion, versionFromProtocol, versionName } from './version.ts';
export type { BidirectionalStream, StreamOptions, WebTransportLike } from './web-transport.ts';
