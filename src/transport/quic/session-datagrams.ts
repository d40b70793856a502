/**
 * W3C `WebTransportDatagramDuplexStream` over a session carrier. Datagrams are unreliable by
 * design (RFC 9221), so incoming ones beyond the readable's high-water mark and outgoing ones
 * larger than `maxDatagramSize` are dropped rather than queued without bound.
 */
import type { SessionCarrier } from './session-types.ts';

export class SessionDatagrams implements WebTransportDatagramDuplexStream {
  incomingHighWaterMark = 256;
  incomingMaxAge: number | null = null;
  outgoingHighWaterMark = 256;
  outgoingMaxAge: number | null = null;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly #carrier: SessionCarrier;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #ended = false;
  dropped = 0;

  constructor(carrier: SessionCarrier, ready: Promise<void>) {
    this.#carrier = carrier;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => {
          this.#ended = true;
        },
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream<Uint8Array>(
      {
        write: async (chunk) => {
          await ready;
          const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBuffer);
          if (bytes.byteLength > this.maxDatagramSize || !this.#carrier.sendDatagram(bytes)) this.dropped++;
        },
      },
      { highWaterMark: this.outgoingHighWaterMark },
    );
  }

  get maxDatagramSize(): number {
    return this.#carrier.maxDatagramSize();
  }

  deliver(payload: Uint8Array): void {
    if (this.#ended) return;
    // desiredSize counts queued datagrams against incomingHighWaterMark (highWaterMark 0 above).
    if ((this.#controller.desiredSize ?? 0) + this.incomingHighWaterMark <= 0) {
      this.dropped++;
      return;
    }
    this.#controller.enqueue(payload);
  }

  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    if (error) this.#controller.error(error);
    else this.#controller.close();
  }
}
