/**
 * The WebTransport-shaped session our MoQ session layers consume, for WebTransport over
 * HTTP/3 and raw QUIC alike: the W3C `WebTransport` interface plus `protocol`, the
 * negotiated WT subprotocol (draft-ietf-webtrans-http3 §3.3) or the QUIC ALPN.
 */
import type { ConnectionStats } from './quic-connection.ts';
import type { QuicStream } from './quic-stream.ts';

/** The subset of W3C `WebTransportConnectionStats` we can fill from quiche. */
export interface SessionStats {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  /** Milliseconds. */
  readonly smoothedRtt: number;
  /** Bits per second (delivery rate estimate). */
  readonly estimatedSendRate: number | null;
}

export interface WebTransportBidiStream extends WebTransportBidirectionalStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array> & { sendOrder: number | null };
}

export interface WebTransportSession extends WebTransport {
  /** Negotiated `wt-protocol` over HTTP/3 ('' when none), or the ALPN over raw QUIC. */
  readonly protocol: string;
  /** 'webtransport' over HTTP/3, 'quic' for raw QUIC. */
  readonly transportKind: 'webtransport' | 'quic';
  readonly ready: Promise<void>;
  readonly closed: Promise<WebTransportCloseInfo>;
  /** Resolves when the peer asks to wind the session down (WT_DRAIN_SESSION / GOAWAY). */
  readonly draining: Promise<void>;
  readonly incomingBidirectionalStreams: ReadableStream<WebTransportBidiStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  readonly datagrams: WebTransportDatagramDuplexStream;
  close(closeInfo?: WebTransportCloseInfo): void;
  /**
   * Not in the W3C API: asks the peer to wind the session down (WT_DRAIN_SESSION,
   * draft-ietf-webtrans-http3 §4.6). A no-op over raw QUIC, whose protocols have their own GOAWAY.
   */
  drain(): void;
  /** W3C `getStats()` (connection-wide for WebTransport over HTTP/3). */
  getStats(): Promise<SessionStats>;
  createBidirectionalStream(options?: WebTransportSendStreamOptions): Promise<WebTransportBidiStream>;
  createUnidirectionalStream(options?: WebTransportSendStreamOptions): Promise<WritableStream<Uint8Array> & { sendOrder: number | null }>;
}

/**
 * What differs between WebTransport over HTTP/3 and raw QUIC, supplied to the shared session
 * implementation by the layer that owns the connection.
 */
export interface SessionCarrier {
  /**
   * Bytes each receive stream pulls out of QUIC ahead of its reader (default 256 KiB); 0 pulls
   * only for a pending read, so unread bytes hold back the peer through flow control at once.
   */
  readonly receiveHighWaterMark?: number;
  /** Opens a QUIC stream for this session; `header` (if any) must precede application data. */
  openStream(bidirectional: boolean): Promise<{ stream: QuicStream; header?: Uint8Array }>;
  /** Sends one datagram; false if it was dropped. */
  sendDatagram(payload: Uint8Array): boolean;
  /** Largest application payload of one datagram. */
  maxDatagramSize(): number;
  /** Counters of the underlying QUIC connection. */
  stats(): ConnectionStats;
  /** Sends WT_DRAIN_SESSION where the protocol has it. */
  drain(): void;
  /** Ends the session on the wire (WT_CLOSE_SESSION capsule, or CONNECTION_CLOSE). */
  close(code: number, reason: string): void;
  /** Code to reset/stop a session's streams with when the session ends (WT_SESSION_GONE), if any. */
  readonly sessionGoneCode: number | undefined;
  /** Application stream error code → wire code. */
  toWireCode(code: number): number;
  /** Wire code → application code, null when the code is not an application code. */
  fromWireCode(code: number): number | null;
}
