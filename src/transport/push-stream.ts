/**
 * The fan-out hot path's view of a send stream (issue 14, point 2): written synchronously, with
 * no promise per write. One relay frame's wire bytes are built once and handed by reference to
 * every viewer's stream; the transport holds them in the stream's own queue and moves them to
 * the network (socket buffer, quiche) when it can — highest `sendOrder` first, flushed once per
 * event-loop turn. Bytes still in that queue are the viewer's backlog: resetting the stream
 * drops them at once, so a viewer that stops reading holds at most what its budget allows.
 *
 * WebSocket (QMux, web-transport-ws) and QUIC streams implement it natively; any WHATWG
 * `WritableStream` can be adapted, at the cost of a promise per write.
 */

export interface PushSendStream {
  /** Queues `bytes` after everything written before. Kept by reference: never modify them after. */
  write(bytes: Uint8Array): void;
  /** Bytes written here and not yet handed to the network layer (socket buffer / QUIC stack). */
  readonly queuedBytes: number;
  /** WebTransport send order: higher is sent first. */
  sendOrder: number;
  /** FIN after the queued bytes. */
  finish(): void;
  /** RESET_STREAM with an application error code; queued bytes are dropped (and no longer counted). */
  reset(code: number): void;
  /** True once finished, reset, stopped by the peer, or the session is gone. */
  readonly ended: boolean;
  /** Set by the writer: called synchronously whenever `queuedBytes` fell. */
  onProgress: (() => void) | undefined;
  /**
   * Set by the writer: called once when the stream can take no more bytes because the peer
   * stopped it (STOP_SENDING, `code` = its application error code) or the session ended
   * (`code` undefined). Not called for the writer's own finish() or reset().
   */
  onStopped: ((code: number | undefined) => void) | undefined;
}

/** A session that opens push streams; the open is the only promise, once per stream. */
export interface PushStreamOpener {
  /** Opens a unidirectional stream; waits while the peer's stream limit is reached. */
  openPushStream(sendOrder: number): Promise<PushSendStream>;
}

export function canOpenPushStreams(transport: object): transport is PushStreamOpener {
  return typeof (transport as Partial<PushStreamOpener>).openPushStream === 'function';
}
