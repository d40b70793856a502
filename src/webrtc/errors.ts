/**
 * The error types of the WHIP adapter's parsers of network input. Each maps to one HTTP status
 * (see whip-http.ts); anything else thrown while handling a request is a bug (500).
 * Codec bitstream parsers (VP8/VP9/AV1/Opus headers, Annex B) throw src/media's MediaParseError.
 */

/** The SDP (offer or trickle fragment) is malformed: RFC 8866 syntax or a required attribute. 400. */
export class SdpError extends Error {
  override name = 'SdpError';
}

/** A well-formed offer this gateway cannot take: no sendable audio/video, no common codec. 422. */
export class UnsupportedOfferError extends Error {
  override name = 'UnsupportedOfferError';
}
