/**
 * Application protocols served on the QUIC port, most preferred first: moq-lite drafts,
 * the `moql` compat handshake, IETF moq-transport draft-16 and draft-14 (`moq-00`). They are
 * raw-QUIC ALPNs and WebTransport subprotocols alike; `h3` selects WebTransport.
 */
export const MOQ_PROTOCOLS: readonly string[] = ['moq-lite-04', 'moq-lite-03', 'moql', 'moqt-16', 'moq-00'];

export const H3_ALPN = 'h3';
