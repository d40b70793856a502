/**
 * Node stand-in for the W3C `WebTransportError` (which Node lacks): `source` says whether a
 * stream or the whole session failed; `streamErrorCode` is the application code the peer put
 * in RESET_STREAM / STOP_SENDING, or null when there is none.
 */
export type WebTransportErrorSource = 'stream' | 'session';

export class WebTransportError extends Error {
  override readonly name = 'WebTransportError';
  readonly source: WebTransportErrorSource;
  readonly streamErrorCode: number | null;

  /** No stack: it reports a peer's or a session's end, and lives on as streams' stored error (see withoutStack). */
  constructor(message: string, options: { source?: WebTransportErrorSource; streamErrorCode?: number | null } = {}) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.source = options.source ?? 'stream';
    this.streamErrorCode = options.streamErrorCode ?? null;
  }
}

/**
 * The stream error code to put on the wire for an abort/cancel reason: an error carrying
 * `streamErrorCode` (our WebTransportError, the browser's, or any look-alike) keeps its code;
 * anything else becomes 0.
 */
export function streamErrorCodeOf(reason: unknown): number {
  if (typeof reason === 'object' && reason !== null && 'streamErrorCode' in reason) {
    const code = (reason as { streamErrorCode: unknown }).streamErrorCode;
    if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 0xffffffff) return code;
  }
  return 0;
}
