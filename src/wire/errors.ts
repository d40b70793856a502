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
 * Runs `make` (which constructs an Error) with stack capture off. For errors that only carry a
 * code and message to a stream or a peer (resets, stops, a session gone): V8 captures a stack
 * lazily, holding every frame's receiver and function until someone formats it, and such errors
 * live on as a stream's stored error or a promise's reason — a reset stream of a stalled
 * viewer then kept its group sender and the frames it pointed at alive (issue 24.1).
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Reason passed to `abort()` / `cancel()` to reset a stream with an application error code:
 * WebTransport derives the RESET_STREAM / STOP_SENDING code from a reason's `streamErrorCode`.
 * It has no stack (see withoutStack).
 */
export class StreamResetReason extends Error {
  override readonly name = 'StreamResetReason';
  constructor(
    readonly streamErrorCode: number,
    message: string,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}
