/**
 * One relay track fed by the client: the session SUBSCRIBEs to the client (bidi type 2) and
 * writes the groups the client sends on uni streams into the relay Track.
 *
 * Lifetimes: the relay ending the track (its last subscriber left, or the broadcast ended)
 * FINs the subscribe stream — the reference publisher then closes its side; the client FINing
 * the subscribe stream ends the track cleanly; a reset aborts it with the client's reason.
 */
import { RelayError, RelayErrorCode, type Track } from '../../relay/index.ts';
import { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError, StreamAbortedError, StreamResetReason } from '../../wire/errors.ts';
import { StreamReader } from '../../wire/stream-reader.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import type { SessionContext } from './context.ts';
import { encodeSubscribe, readSubscribeResponse } from './subscribe.ts';
import { BidiStreamType } from './stream-type.ts';
import { receiveGroup } from './receive-group.ts';
import { hasSubscribeRanges } from './version.ts';

export class UpstreamTrack {
  readonly #groupReaders = new Set<StreamReader>();
  #stream: { reader: StreamReader; writer: StreamWriter } | undefined;
  #stopped = false;

  constructor(
    private readonly ctx: SessionContext,
    readonly subscribeId: number,
    readonly broadcast: string,
    readonly track: Track,
    readonly priority: number,
  ) {}

  /** Runs the subscription until the track or the stream ends; rejects only with ProtocolError. */
  async run(): Promise<void> {
    const { ctx, track } = this;
    ctx.counters.upstreamSubscriptions++;
    try {
      const bidi = await ctx.transport.createBidirectionalStream();
      const stream = { reader: new StreamReader(bidi.readable), writer: new StreamWriter(bidi.writable) };
      this.#stream = stream;
      if (this.#stopped) return this.#unsubscribe();
      const subscribe = encodeSubscribe(
        { id: this.subscribeId, broadcast: this.broadcast, track: track.name, priority: this.priority, ordered: false, maxLatency: 0 },
        ctx.version,
      );
      await stream.writer.write(new ByteWriter(subscribe.byteLength + 1).varint(BidiStreamType.Subscribe).bytes(subscribe).finish());
      const trackEnded = track.closed().then(() => 'track-ended' as const);
      const outcome = await Promise.race([trackEnded, this.#readResponses(stream.reader)]);
      if (outcome === 'track-ended') this.#unsubscribe();
      else track.close();
    } catch (error) {
      if (error instanceof StreamAbortedError) {
        track.abort(new RelayError(`publisher ended ${this.broadcast}/${track.name}: ${error.message}`, RelayErrorCode.publisherGone));
      } else if (error instanceof ProtocolError) {
        track.abort(new RelayError(`publisher protocol error: ${error.message}`, RelayErrorCode.publisherGone));
        throw error;
      } else {
        // Opening the stream failed: the session is closing.
        track.abort(new RelayError('session closed', RelayErrorCode.publisherGone));
      }
    } finally {
      this.#stopGroups();
      ctx.counters.upstreamSubscriptions--;
    }
  }

  /** The session is closing. */
  stop(): void {
    this.#stopped = true;
    this.track.close();
    this.#unsubscribe();
    void this.#stream?.reader.cancel();
    this.#stopGroups();
  }

  /** Writes one group stream (after its GROUP header) into the track. */
  receiveGroup(sequence: number, reader: StreamReader): Promise<void> {
    return receiveGroup(
      { track: this.track, maxFrameBytes: this.ctx.limits.maxFrameBytes, counters: this.ctx.counters, readers: this.#groupReaders, stopped: () => this.#stopped },
      sequence,
      reader,
    );
  }

  /** Reads SUBSCRIBE_OK, then later responses (lite-03+ drops), until the client FINs. */
  async #readResponses(reader: StreamReader): Promise<'finished'> {
    const first = await readSubscribeResponse(reader, this.ctx.version, this.ctx.limits.maxMessageBytes);
    if (first.kind !== 'ok') throw new ProtocolError('unexpected-message', 'first subscribe response must be SUBSCRIBE_OK');
    if (hasSubscribeRanges(this.ctx.version)) {
      while (!(await reader.atEnd())) await readSubscribeResponse(reader, this.ctx.version, this.ctx.limits.maxMessageBytes);
    } else if (!(await reader.atEnd())) {
      throw new ProtocolError('unexpected-message', 'data after SUBSCRIBE_OK');
    }
    return 'finished';
  }

  /**
   * FIN only: the publisher answers by closing its side. A STOP_SENDING here would make the
   * reference publisher end the track with an error instead of cleanly.
   */
  #unsubscribe(): void {
    void this.#stream?.writer.close();
  }

  #stopGroups(): void {
    for (const reader of this.#groupReaders) void reader.cancel(new StreamResetReason(RelayErrorCode.cancelled, 'track ended'));
    this.#groupReaders.clear();
  }
}
