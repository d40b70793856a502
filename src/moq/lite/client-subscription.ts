/**
 * One SUBSCRIBE the client holds (bidi type 2): groups the server sends for it on uni streams
 * are written into a relay Track.
 *
 * Lifetimes (draft-lcurley-moq-lite §Subscribe): the server FINing the subscribe stream ends the
 * track cleanly; a reset aborts it with the server's code (e.g. not found); the relay ending the
 * track (its last viewer left) FINs our side, which the server answers by ending its own.
 */
import { RelayError, RelayErrorCode, type Track } from '../../relay/index.ts';
import { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError, StreamAbortedError, StreamResetReason } from '../../wire/errors.ts';
import { StreamReader } from '../../wire/stream-reader.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import type { RequestStream } from './request-stream.ts';
import { BidiStreamType } from './stream-type.ts';
import { encodeSubscribe, readSubscribeResponse } from './subscribe.ts';
import { receiveGroup } from './receive-group.ts';
import { hasSubscribeRanges, type LiteVersion } from './version.ts';
import type { WebTransportLike } from './web-transport.ts';

export interface SubscriptionRequest {
  id: number;
  broadcast: string;
  priority: number;
  ordered: boolean;
}

export interface ClientCounters {
  subscriptions: number;
  subscriptionsOpened: number;
  groupsReceived: number;
  bytesReceived: number;
}

export interface ClientLimits {
  maxMessageBytes: number;
  maxFrameBytes: number;
}

export class ClientSubscription {
  readonly #groupReaders = new Set<StreamReader>();
  #stream: RequestStream | undefined;
  #stopped = false;

  constructor(
    private readonly transport: WebTransportLike,
    private readonly version: LiteVersion,
    private readonly limits: ClientLimits,
    private readonly counters: ClientCounters,
    readonly request: SubscriptionRequest,
    readonly track: Track,
  ) {}

  /** Runs until the track or the subscribe stream ends; rejects only with ProtocolError. */
  async run(): Promise<void> {
    const { track, request } = this;
    this.counters.subscriptions++;
    this.counters.subscriptionsOpened++;
    try {
      const bidi = await this.transport.createBidirectionalStream();
      const stream = { reader: new StreamReader(bidi.readable), writer: new StreamWriter(bidi.writable) };
      this.#stream = stream;
      if (this.#stopped) return this.#unsubscribe();
      const subscribe = encodeSubscribe(
        { id: request.id, broadcast: request.broadcast, track: track.name, priority: clampPriority(request.priority), ordered: request.ordered, maxLatency: 0 },
        this.version,
      );
      await stream.writer.write(new ByteWriter(subscribe.byteLength + 1).varint(BidiStreamType.Subscribe).bytes(subscribe).finish());
      const trackEnded = track.closed().then(() => 'track-ended' as const);
      const outcome = await Promise.race([trackEnded, this.#readResponses(stream.reader)]);
      if (outcome === 'finished') track.close();
    } catch (error) {
      if (error instanceof ProtocolError) {
        track.abort(new RelayError(`publisher protocol error: ${error.message}`, RelayErrorCode.publisherGone));
        throw error;
      }
      track.abort(this.#endedBy(error));
    } finally {
      this.#unsubscribe();
      this.#stopGroups();
      this.counters.subscriptions--;
    }
  }

  /** The session is over: the track ends cleanly, or with `error` when the connection failed. */
  stop(error?: RelayError): void {
    this.#stopped = true;
    if (error) this.track.abort(error);
    else this.track.close();
    this.#unsubscribe();
    this.#stopGroups();
  }

  /** Writes one group stream (after its GROUP header) into the track. */
  receiveGroup(sequence: number, reader: StreamReader): Promise<void> {
    return receiveGroup(
      { track: this.track, maxFrameBytes: this.limits.maxFrameBytes, counters: this.counters, readers: this.#groupReaders, stopped: () => this.#stopped },
      sequence,
      reader,
    );
  }

  /** SUBSCRIBE_OK, then (lite-03+) any SUBSCRIBE_DROPs, until the server FINs. */
  async #readResponses(reader: StreamReader): Promise<'finished'> {
    const first = await readSubscribeResponse(reader, this.version, this.limits.maxMessageBytes);
    if (first.kind !== 'ok') throw new ProtocolError('unexpected-message', 'first subscribe response must be SUBSCRIBE_OK');
    if (hasSubscribeRanges(this.version)) {
      while (!(await reader.atEnd())) await readSubscribeResponse(reader, this.version, this.limits.maxMessageBytes);
    } else if (!(await reader.atEnd())) {
      throw new ProtocolError('unexpected-message', 'data after SUBSCRIBE_OK');
    }
    return 'finished';
  }

  /** The relay error for a subscription the server reset (or a stream we could not open). */
  #endedBy(error: unknown): RelayError {
    const what = `${this.request.broadcast}/${this.track.name}`;
    if (!(error instanceof StreamAbortedError)) return new RelayError(`${what}: session closed`, RelayErrorCode.publisherGone);
    const code = streamErrorCode(error.cause);
    return new RelayError(`${what}: ended by the publisher (${error.message})`, code ?? RelayErrorCode.publisherGone);
  }

  /** FIN only: the server then ends its side cleanly. */
  #unsubscribe(): void {
    void this.#stream?.writer.close();
  }

  #stopGroups(): void {
    for (const reader of this.#groupReaders) void reader.cancel(new StreamResetReason(RelayErrorCode.cancelled, 'track ended'));
    this.#groupReaders.clear();
  }
}

/** moq-lite priorities are a u8. */
function clampPriority(priority: number): number {
  return Math.max(0, Math.min(255, Math.round(priority)));
}

/** The RESET_STREAM code a WebTransport stream error carries, if any. */
function streamErrorCode(cause: unknown): number | undefined {
  if (typeof cause !== 'object' || cause === null) return undefined;
  const code = (cause as { streamErrorCode?: unknown }).streamErrorCode;
  return typeof code === 'number' ? code : undefined;
}
