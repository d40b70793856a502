/** The ALPN that selects HTTP/3, and with it WebTransport (RFC 9114 §3.1); MoQ ALPNs are in src/moq-protocols.ts. */
export const H3_ALPN = 'h3';
