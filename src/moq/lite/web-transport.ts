/**
 * The part of the W3C `WebTransport` interface a moq-lite session uses. Native WebTransport
 * (HTTP/3), our QUIC layer, @moq/qmux over WebSocket and test doubles all fit it.
 */

export interface BidirectionalStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

export interface StreamOptions {
  /** Higher is sent first (WebTransport `sendOrder`). */
  sendOrder?: number;
}

export interface WebTransportLike {
  readonly incomingBidirectionalStreams: ReadableStream<BidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  createBidirectionalStream(options?: StreamOptions): Promise<BidirectionalStream>;
  createUnidirectionalStream(options?: StreamOptions): Promise<WritableStream<Uint8Array>>;
  /** Settles (either way) when the session is over. */
  readonly closed: Promise<unknown>;
  close(info?: { closeCode?: number; reason?: string }): void;
}
