/**
 * The two error types this adapter's parsers of network bytes throw. Callers catch exactly
 * these: anything else (TypeError, RangeError) is a bug in our code and must not be masked.
 */

/**
 * The RTMP connection itself is unusable: bad handshake, broken chunk stream, undecodable AMF
 * command, limit exceeded. The session closes that one connection.
 */
export class RtmpProtocolError extends Error {
  override name = 'RtmpProtocolError';
}

/**
 * One FLV audio/video tag body is malformed (truncated header, overrunning track size). The
 * session drops that message and keeps the connection.
 */
export class FlvTagError extends Error {
  override name = 'FlvTagError';
}
