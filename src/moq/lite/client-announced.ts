/**
 * The client's view of an announce stream (bidi type 1): ANNOUNCE_PLEASE with a prefix, then the
 * server's broadcasts under it as they start and end (draft-lcurley-moq-lite §Announce). lite-01/02
 * begin with one ANNOUNCE_INIT; lite-03+ send the initial set as ANNOUNCE messages.
 *
 * Messages are read only when the consumer asks for the next one, so a slow consumer leaves
 * them in the transport's flow-controlled stream instead of a queue here.
 */
import { joinPath, normalizePath, type Announcement } from '../../relay/index.ts';
import { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError } from '../../wire/errors.ts';
import { StreamReader } from '../../wire/stream-reader.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import { decodeAnnounce, decodeAnnounceInit, encodeAnnouncePlease } from './announce.ts';
import type { RequestStream } from './request-stream.ts';
import { BidiStreamType } from './stream-type.ts';
import { hasAnnounceInit, type LiteVersion } from './version.ts';
import type { WebTransportLike } from './web-transport.ts';

export class LiteAnnounced implements AsyncIterableIterator<Announcement> {
  readonly prefix: string;
  /** lite-01/02: the ANNOUNCE_INIT entries not yet handed out. */
  readonly #initial: Announcement[] = [];
  readonly #opened: Promise<RequestStream | undefined>;
  #initRead = false;
  #closed = false;

  constructor(
    transport: WebTransportLike,
    private readonly version: LiteVersion,
    prefix: string,
    private readonly maxMessageBytes: number,
    private readonly hooks: {
      /** A ProtocolError ends the whole session, not just this stream. */
      onProtocolError(error: ProtocolError): void;
      onClose(): void;
    },
  ) {
    this.prefix = normalizePath(prefix);
    this.#opened = this.#open(transport).catch(() => undefined);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next change, or done when the stream or the session ended. Rejects only with ProtocolError. */
  async next(): Promise<IteratorResult<Announcement>> {
    try {
      const announcement = await this.#read();
      if (announcement) return { done: false, value: announcement };
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.close();
        this.hooks.onProtocolError(error);
        throw error;
      }
    }
    this.close();
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<Announcement>> {
    this.close();
    return { done: true, value: undefined };
  }

  /** Stops following announcements (FIN, as the server expects nothing more from us). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#initial.length = 0;
    this.hooks.onClose();
    void this.#opened.then((stream) => {
      void stream?.writer.close();
      void stream?.reader.cancel();
    });
  }

  async #open(transport: WebTransportLike): Promise<RequestStream> {
    const bidi = await transport.createBidirectionalStream();
    const stream: RequestStream = { reader: new StreamReader(bidi.readable), writer: new StreamWriter(bidi.writable) };
    const please = encodeAnnouncePlease({ prefix: this.prefix, excludeHop: 0 }, this.version);
    await stream.writer.write(new ByteWriter(please.byteLength + 1).varint(BidiStreamType.Announce).bytes(please).finish());
    return stream;
  }

  async #read(): Promise<Announcement | undefined> {
    const stream = await this.#opened;
    if (!stream || this.#closed) return undefined;
    if (!this.#initRead && hasAnnounceInit(this.version)) {
      this.#initRead = true;
      const init = decodeAnnounceInit(await stream.reader.message(this.maxMessageBytes), this.version);
      for (const suffix of init.suffixes) this.#initial.push({ path: joinPath(this.prefix, suffix), active: true });
    }
    const queued = this.#initial.shift();
    if (queued) return queued;
    const body = await stream.reader.messageOrEnd(this.maxMessageBytes);
    if (body === undefined || this.#closed) return undefined;
    const announce = decodeAnnounce(body, this.version);
    return { path: joinPath(this.prefix, announce.suffix), active: announce.active };
  }
}
