/**
 * The lifecycle every moq-lite endpoint shares, server (session.ts) or client (client.ts): it
 * accepts the peer's bidi and uni streams and hands them to the endpoint's role, reads the
 * lite-01/02 session stream, turns a protocol violation into a close the peer can read, and
 * ends exactly once (the transport closing, or close()). What the streams mean is the role's.
 */
import { ProtocolError, StreamAbortedError } from '../../wire/errors.ts';
import { StreamReader } from '../../wire/stream-reader.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import { LiteCloseCode } from './close-code.ts';
import type { SessionLogger } from './options.ts';
import type { RequestStream } from './request-stream.ts';
import { decodeSessionInfo } from './session-setup.ts';
import type { BidirectionalStream, WebTransportLike } from './web-transport.ts';

export interface LiteCloseInfo {
  code: number;
  reason: string;
}

export interface LiteEndInfo extends LiteCloseInfo {
  /** The connection was lost rather than closed by either side. */
  failed: boolean;
}

/** What one endpoint does with the peer's streams once the version is known. */
export interface LiteRole {
  serveBidi(stream: RequestStream): Promise<void>;
  serveUni(reader: StreamReader): Promise<void>;
  /**
   * A stream handler failed with something other than a protocol violation (which closes the
   * session) or the peer's reset (its business): the role decides (log, reset that stream).
   */
  streamFailed(error: unknown, stream: RequestStream | undefined, reader: StreamReader | undefined): void;
}

export interface LiteConnectionOptions {
  logger: SessionLogger;
  maxMessageBytes: number;
  /** Who the peer is, for logs. */
  peer: 'client' | 'server';
  /** A failure that is not a protocol violation but has a close code of its own (e.g. setup timeout). */
  classify?: (error: unknown) => LiteCloseInfo | undefined;
  /** The session ended (once), before `closed` resolves: the endpoint lets go of what it holds. */
  finished(info: LiteEndInfo): void;
}

/** WebTransport close reasons are limited to 1024 bytes. */
const MAX_REASON_CHARS = 256;

export class LiteConnection {
  readonly closed: Promise<LiteEndInfo>;
  readonly #bidis: ReadableStreamDefaultReader<BidirectionalStream>;
  readonly #unis: ReadableStreamDefaultReader<ReadableStream<Uint8Array>>;
  #resolveClosed!: (info: LiteEndInfo) => void;
  #sessionStream: RequestStream | undefined;
  #closing = false;

  constructor(
    readonly transport: WebTransportLike,
    private readonly options: LiteConnectionOptions,
  ) {
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#bidis = transport.incomingBidirectionalStreams.getReader();
    this.#unis = transport.incomingUnidirectionalStreams.getReader();
    transport.closed.then(
      (info) => this.#finish({ ...closeInfoFrom(info), failed: false }),
      (error: unknown) => this.#finish({ code: LiteCloseCode.internal, reason: `connection lost: ${describe(error)}`, failed: true }),
    );
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** The peer's next bidi stream (for SETUP, before start()); undefined once there are no more. */
  async nextBidi(): Promise<BidirectionalStream | undefined> {
    const next = await this.#bidis.read();
    return next.done ? undefined : next.value;
  }

  /** Serves the peer's streams with `role`; `sessionStream` is lite-01/02's SETUP stream, kept open. */
  start(role: LiteRole, sessionStream?: RequestStream): void {
    this.#sessionStream = sessionStream;
    if (this.#closing) return;
    void this.#acceptBidis(role);
    void this.#acceptUnis(role);
    void this.#readSessionStream();
  }

  close(code: number = LiteCloseCode.normal, reason = ''): void {
    if (this.#closing) return;
    const info = { code, reason: reason.slice(0, MAX_REASON_CHARS), failed: false };
    try {
      this.transport.close({ closeCode: info.code, reason: info.reason });
    } catch {
      // already closed
    }
    this.#finish(info);
  }

  /** Closes the session because of `error`, with a reason the peer can read. */
  fail(error: unknown): void {
    if (this.#closing) return;
    const { logger, peer } = this.options;
    if (error instanceof ProtocolError) {
      logger.warn({ code: error.code, reason: error.message }, `moq-lite ${peer} violated the protocol; closing the session`);
      return this.close(error.code === 'unsupported-version' ? LiteCloseCode.unsupportedVersion : LiteCloseCode.protocolViolation, error.message);
    }
    const classified = this.options.classify?.(error);
    if (classified) return this.close(classified.code, classified.reason);
    logger.error({ err: error }, 'moq-lite session failed');
    this.close(LiteCloseCode.internal, 'internal error');
  }

  async #acceptBidis(role: LiteRole): Promise<void> {
    for (;;) {
      let next: ReadableStreamReadResult<BidirectionalStream>;
      try {
        next = await this.#bidis.read();
      } catch {
        return;
      }
      if (next.done) return;
      const stream: RequestStream = { reader: new StreamReader(next.value.readable), writer: new StreamWriter(next.value.writable) };
      void role.serveBidi(stream).catch((error: unknown) => this.#streamFailed(role, error, stream, undefined));
    }
  }

  async #acceptUnis(role: LiteRole): Promise<void> {
    for (;;) {
      let next: ReadableStreamReadResult<ReadableStream<Uint8Array>>;
      try {
        next = await this.#unis.read();
      } catch {
        return;
      }
      if (next.done) return;
      const reader = new StreamReader(next.value);
      void role.serveUni(reader).catch((error: unknown) => this.#streamFailed(role, error, undefined, reader));
    }
  }

  #streamFailed(role: LiteRole, error: unknown, stream: RequestStream | undefined, reader: StreamReader | undefined): void {
    if (error instanceof StreamAbortedError) return; // the peer reset a stream: its business
    if (error instanceof ProtocolError) return this.fail(error);
    role.streamFailed(error, stream, reader);
  }

  /** lite-01/02: the SETUP stream stays open and may carry SESSION_INFO (ignored). */
  async #readSessionStream(): Promise<void> {
    const stream = this.#sessionStream;
    if (!stream) return;
    try {
      for (;;) {
        const body = await stream.reader.messageOrEnd(this.options.maxMessageBytes);
        if (body === undefined) return;
        decodeSessionInfo(body);
      }
    } catch (error) {
      if (!(error instanceof StreamAbortedError)) this.fail(error);
    }
  }

  #finish(info: LiteEndInfo): void {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.options.finished(info);
    } catch (error) {
      this.options.logger.error({ err: error }, 'moq-lite close handler failed');
    }
    void this.#sessionStream?.reader.cancel();
    this.#bidis.cancel().catch(() => undefined);
    this.#unis.cancel().catch(() => undefined);
    this.#resolveClosed(info);
  }
}

/** A WebTransportCloseInfo-shaped value, or defaults. */
function closeInfoFrom(value: unknown): LiteCloseInfo {
  const info = typeof value === 'object' && value !== null ? (value as { closeCode?: unknown; reason?: unknown }) : {};
  return {
    code: typeof info.closeCode === 'number' ? info.closeCode : LiteCloseCode.normal,
    reason: typeof info.reason === 'string' ? info.reason : 'closed by peer',
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
