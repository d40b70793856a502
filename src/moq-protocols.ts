/**
 * The MoQ application protocols this gateway serves, most preferred first. Each string is a
 * raw-QUIC ALPN and a WebTransport subprotocol alike, and follows a framing in a WebSocket
 * subprotocol (`qmux-00.moq-lite-04`, src/transport/subprotocol.ts).
 *
 * - `moq-lite-04`, `moq-lite-03`: moq-lite, the version pinned by the protocol, no SETUP
 *   (draft-lcurley-moq-lite Appendix A).
 * - `moql`: a draft-14 style CLIENT_SETUP whose version list picks moq-lite-01/02 or IETF draft-14.
 * - `moqt-16`: IETF moq-transport draft-16 (draft-ietf-moq-transport-16 §3.1).
 * - `moq-00`: IETF moq-transport draft-14.
 * - `moqt-18`: IETF moq-transport draft-18 (draft-ietf-moq-transport-18 §3.1). Its session lacks
 *   SUBSCRIBE_TRACKS (src/moq/ietf/version.ts), so it ranks after `moqt-16`: a peer that offers
 *   both gets the full draft-16 session, one that speaks only 18 (MediaMTX) gets draft-18.
 * - `moqt-19`: IETF moq-transport draft-19 (draft-ietf-moq-transport-19 §3.1), preferred to 18.
 *
 * The one list: transports offer it, sessions (src/moq/lite/version.ts, src/moq/ietf/version.ts)
 * name their entries from it.
 */
export const MoqProtocolName = {
  lite04: 'moq-lite-04',
  lite03: 'moq-lite-03',
  compat: 'moql',
  ietf19: 'moqt-19',
  ietf18: 'moqt-18',
  ietf16: 'moqt-16',
  ietf14: 'moq-00',
} as const;

export const MOQ_PROTOCOLS = [MoqProtocolName.lite04, MoqProtocolName.lite03, MoqProtocolName.compat, MoqProtocolName.ietf16, MoqProtocolName.ietf19, MoqProtocolName.ietf18, MoqProtocolName.ietf14] as const;

/** A protocol we serve, or '' when none was negotiated (the version is then set in SETUP). */
export type MoqProtocol = (typeof MOQ_PROTOCOLS)[number] | '';
