/**
 * WHIP ingest (RFC 9725): browsers and WebRTC encoders publish `POST /whip/<broadcast>` with an
 * SDP offer; RTP from werift becomes the frame model in a MediaSink.
 */
export { createWhipService, type OpenWhipPublisher, type WhipService, type WhipServiceOptions } from './whip-service.ts';
export { DEFAULT_VIDEO_CODECS, type VideoCodecName } from './offer-plan.ts';
export { SdpError, UnsupportedOfferError } from '../../../src/webrtc/errors.ts';
export type { StructuredLogger } from './logger.ts';
