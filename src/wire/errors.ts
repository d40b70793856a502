/**
 * Errors raised while decoding peer bytes.
 *
 * Every decoder of network input throws only `ProtocolError` on malformed or oversized input, so
 * a session can tell "the peer broke the protocol" (close the session with the code as reason)
 * from "the peer went away" (`StreamAbortedError`: a stream was reset or the transport closed).
 */

export type ProtocolErrorCode =
  /** The stream (or message body) ended in the middle of a value. */
  | 'unexpected-end'
  /** A length prefix exceeds the configured limit. */
  | 'message-too-large'
  /** A message body had bytes left over after its last field. */
  | 'trailing-bytes'
  /** A varint exceeds what the field allows (e.g. > 2^53-1 for a JS number). */
  | 'value-too-large'
  /** A field holds a value the protocol does not allow (bad bool, too many entries, ...). */
  | 'invalid-value'
  /** A string is not valid UTF-8. */
  | 'invalid-utf8'
  /** A stream starts with a type this endpoint does not know (or not in this direction). */
  | 'unknown-stream-type'
  /** The peer offered no version we speak, or used a message its version lacks. */
  | 'unsupported-version'
  /** A message arrived that is valid on the wire but not allowed at this point. */
  | 'unexpected-message';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The underlying stream errored (peer reset it, or the transport closed). Not a protocol violation. */
export class StreamAbortedError extends Error {
  override readonly name = 'StreamAbortedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Reason passed to `abort()` / `cancel()` to reset a stream with an application error code:
 * WebTransport derives the RESET_STREAM / STOP_SENDING code from a reason's `streamErrorCode`.
 */
export class StreamResetReason extends Error {
  override readonly name = 'StreamResetReason';
  constructor(
    readonly streamErrorCode: number,
    message: string,
  ) {
    super(message);
  }
}
