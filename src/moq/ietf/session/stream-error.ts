import { withoutStack } from '../../../wire/errors.ts';

/**
 * A WebTransportError-shaped reason for `writable.abort()` / `readable.cancel()`: WebTransport
 * implementations (native, @moq/qmux, our QUIC stack) send its `streamErrorCode` in RESET_STREAM /
 * STOP_SENDING. It has no stack: it only carries a code to the peer (see withoutStack).
 */
export interface StreamErrorReason extends Error {
  source: 'stream';
  streamErrorCode: number;
}

export function streamError(code: number, message = `stream error ${code}`): StreamErrorReason {
  return Object.assign(
    withoutStack(() => new Error(message)),
    { name: 'WebTransportError', source: 'stream' as const, streamErrorCode: code },
  );
}
