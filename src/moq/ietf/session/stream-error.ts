/**
 * A WebTransportError-shaped reason for `writable.abort()` / `readable.cancel()`: WebTransport
 * implementations (native, @moq/qmux, our QUIC stack) send its `streamErrorCode` in RESET_STREAM /
 * STOP_SENDING.
 */
export interface StreamErrorReason extends Error {
  source: 'stream';
  streamErrorCode: number;
}

export function streamError(code: number, message = `stream error ${code}`): StreamErrorReason {
  return Object.assign(new Error(message), { name: 'WebTransportError', source: 'stream' as const, streamErrorCode: code });
}
