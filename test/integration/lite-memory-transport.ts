/**
 * An in-memory WebTransport pair for session tests. Each stream is a TransformStream, so the
 * semantics that matter come for free: a write resolves only once the peer reads (backpressure),
 * `abort()` errors the peer's readable (RESET_STREAM), `cancel()` errors the peer's writable
 * (STOP_SENDING). `close()` ends both sides and errors every open stream.
 */
import type { BidirectionalStream, StreamOptions, WebTransportLike } from '../../src/moq/lite/web-transport.ts';

export interface CloseInfo {
  closeCode: number;
  reason: string;
}

export class MemoryTransport implements WebTransportLike {
  readonly incomingBidirectionalStreams: ReadableStream<BidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  readonly closed: Promise<CloseInfo>;
  /** sendOrder of every uni stream this side opened, in order. */
  readonly sendOrders: number[] = [];
  peer!: MemoryTransport;
  #bidiController!: ReadableStreamDefaultController<BidirectionalStream>;
  #uniController!: ReadableStreamDefaultController<ReadableStream<Uint8Array>>;
  #resolveClosed!: (info: CloseInfo) => void;
  #isClosed = false;
  readonly #pipes = new Set<TransformStreamDefaultController<Uint8Array>>();

  constructor(readonly protocol: string) {
    this.incomingBidirectionalStreams = new ReadableStream({ start: (c) => void (this.#bidiController = c) });
    this.incomingUnidirectionalStreams = new ReadableStream({ start: (c) => void (this.#uniController = c) });
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  async createBidirectionalStream(_options?: StreamOptions): Promise<BidirectionalStream> {
    if (this.#isClosed) throw new Error('transport closed');
    const up = this.#pipe();
    const down = this.#pipe();
    this.peer.#bidiController.enqueue({ readable: up.readable, writable: down.writable });
    return { readable: down.readable, writable: up.writable };
  }

  async createUnidirectionalStream(options?: StreamOptions): Promise<WritableStream<Uint8Array>> {
    if (this.#isClosed) throw new Error('transport closed');
    const pipe = this.#pipe();
    this.sendOrders.push(options?.sendOrder ?? 0);
    this.peer.#uniController.enqueue(pipe.readable);
    return pipe.writable;
  }

  close(info: { closeCode?: number; reason?: string } = {}): void {
    const full = { closeCode: info.closeCode ?? 0, reason: info.reason ?? '' };
    this.#shutdown(full);
    this.peer.#shutdown(full);
  }

  #pipe(): TransformStream<Uint8Array, Uint8Array> {
    let controller!: TransformStreamDefaultController<Uint8Array>;
    const pipe = new TransformStream<Uint8Array, Uint8Array>({ start: (c) => void (controller = c) });
    this.#pipes.add(controller);
    return pipe;
  }

  #shutdown(info: CloseInfo): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const error = new Error(`session closed: ${info.reason}`);
    for (const controller of this.#pipes) {
      try {
        controller.error(error);
      } catch {
        // already finished
      }
    }
    for (const controller of [this.#bidiController, this.#uniController]) {
      try {
        controller.close();
      } catch {
        // already closed
      }
    }
    this.#resolveClosed(info);
  }
}

/** [client, server] sharing one negotiated protocol. */
export function memoryTransportPair(protocol: string): [MemoryTransport, MemoryTransport] {
  const client = new MemoryTransport(protocol);
  const server = new MemoryTransport(protocol);
  client.peer = server;
  server.peer = client;
  return [client, server];
}
