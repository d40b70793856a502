/**
 * A PushSendStream over any WHATWG `WritableStream` (@moq/qmux sessions, browser-shaped
 * WebTransport, test doubles): the fallback for transports without native push streams, at the
 * cost of one promise per write. A write counts as queued until its promise settles, which is
 * when the transport took the bytes.
 */
import { StreamResetReason } from '../wire/errors.ts';
import { canOpenPushStreams, type PushSendStream } from './push-stream.ts';

/** What the adapter needs from a session: W3C `createUnidirectionalStream`. */
export interface UnidirectionalStreamOpener {
  createUnidirectionalStream(options?: { sendOrder?: number }): Promise<WritableStream<Uint8Array>>;
}

/** The transport's own push stream when it has them, else a WHATWG stream adapted. */
export async function openPushSendStream(transport: UnidirectionalStreamOpener, sendOrder: number): Promise<PushSendStream> {
  if (canOpenPushStreams(transport)) return transport.openPushStream(sendOrder);
  return new WritablePushStream(await transport.createUnidirectionalStream({ sendOrder }), sendOrder);
}

type State = 'open' | 'finished' | 'gone';

export class WritablePushStream implements PushSendStream {
  readonly #stream: WritableStream<Uint8Array> & { sendOrder?: number | null };
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #state: State = 'open';
  #queued = 0;
  #sendOrder: number;
  onProgress: (() => void) | undefined;
  onStopped: ((code: number | undefined) => void) | undefined;

  constructor(stream: WritableStream<Uint8Array>, sendOrder: number) {
    this.#stream = stream;
    this.#sendOrder = sendOrder;
    this.#writer = stream.getWriter();
    this.#writer.closed.catch((error: unknown) => this.#fail(error));
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  get ended(): boolean {
    return this.#state !== 'open';
  }

  get sendOrder(): number {
    return this.#sendOrder;
  }

  set sendOrder(value: number) {
    this.#sendOrder = value;
    if ('sendOrder' in this.#stream) this.#stream.sendOrder = value;
  }

  write(bytes: Uint8Array): void {
    if (this.#state !== 'open') return;
    const size = bytes.byteLength;
    this.#queued += size;
    this.#writer.write(bytes).then(
      () => {
        if (this.#state === 'gone') return;
        this.#queued -= size;
        this.onProgress?.();
      },
      (error: unknown) => this.#fail(error),
    );
  }

  finish(): void {
    if (this.#state !== 'open') return;
    this.#state = 'finished';
    this.#writer.close().catch((error: unknown) => this.#fail(error));
  }

  reset(code: number): void {
    if (this.#state === 'gone') return;
    this.#state = 'gone';
    this.#queued = 0;
    this.#writer.abort(new StreamResetReason(code, 'reset')).catch(() => undefined);
  }

  /** The peer stopped the stream or the session ended (not our own reset). */
  #fail(error: unknown): void {
    if (this.#state === 'gone') return;
    this.#state = 'gone';
    this.#queued = 0;
    const code = (error as { streamErrorCode?: unknown } | undefined)?.streamErrorCode;
    this.onStopped?.(typeof code === 'number' ? code : undefined);
  }
}
