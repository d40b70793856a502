/** Errors of the QUIC transport layer (not of the peer's application protocol). */

export class QuicTransportError extends Error {
  override readonly name = 'QuicTransportError';
}

/** How a QUIC connection ended (RFC 9000 §10). */
export interface ConnectionCloseInfo {
  /** Who sent CONNECTION_CLOSE: we did ('local'), the peer did ('peer'), or nobody ('timeout'). */
  readonly initiator: 'local' | 'peer' | 'timeout';
  /** Application close (frame 0x1d) versus transport close (0x1c). */
  readonly isApplication: boolean;
  readonly code: number;
  readonly reason: string;
}

/** The peer reset the receive side of a stream (RESET_STREAM, RFC 9000 §19.4). */
export class StreamResetError extends Error {
  override readonly name = 'StreamResetError';
  constructor(readonly code: number) {
    super(`stream reset by peer with code ${code}`);
  }
}

/** The peer asked us to stop sending (STOP_SENDING, RFC 9000 §19.5). */
export class StreamStoppedError extends Error {
  override readonly name = 'StreamStoppedError';
  constructor(readonly code: number) {
    super(`stream stopped by peer with code ${code}`);
  }
}
