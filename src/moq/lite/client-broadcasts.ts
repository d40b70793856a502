/**
 * Broadcasts the client publishes. moq-lite is pull-only: the server opens an announce stream
 * to the client (ANNOUNCE_PLEASE for every path) and mirrors each active announcement into the
 * relay Origin as a Broadcast whose tracks are fetched on demand — the first relay subscriber
 * of a track makes one SUBSCRIBE to the client (UpstreamTrack), shared by all later ones.
 * The announce stream ending (or the session closing) ends every broadcast cleanly.
 */
import { Broadcast, joinPath, normalizePath, RelayErrorCode, Track } from '../../relay/index.ts';
import { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError, StreamResetReason } from '../../wire/errors.ts';
import { StreamReader } from '../../wire/stream-reader.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import { decodeAnnounce, decodeAnnounceInit, encodeAnnouncePlease } from './announce.ts';
import type { SessionContext, Stoppable } from './context.ts';
import { decodeGroupHeader } from './group.ts';
import { BidiStreamType } from './stream-type.ts';
import { UpstreamTrack } from './upstream-track.ts';
import { hasAnnounceInit, versionName } from './version.ts';

export class ClientBroadcasts implements Stoppable {
  /** By the client's own path (relative to the session root). */
  readonly #broadcasts = new Map<string, Broadcast>();
  readonly #upstreams = new Map<number, UpstreamTrack>();
  #nextSubscribeId = 0;
  #announceReader: StreamReader | undefined;
  #stopped = false;

  constructor(private readonly ctx: SessionContext) {}

  get broadcastCount(): number {
    return this.#broadcasts.size;
  }

  /** Asks for the client's announcements and follows them; rejects only with ProtocolError. */
  async run(): Promise<void> {
    const { ctx } = this;
    try {
      const bidi = await ctx.transport.createBidirectionalStream();
      const reader = new StreamReader(bidi.readable);
      const writer = new StreamWriter(bidi.writable);
      this.#announceReader = reader;
      if (this.#stopped) return void reader.cancel();
      const please = encodeAnnouncePlease({ prefix: '', excludeHop: 0 }, ctx.version);
      await writer.write(new ByteWriter(please.byteLength + 1).varint(BidiStreamType.Announce).bytes(please).finish());
      if (hasAnnounceInit(ctx.version)) {
        const init = decodeAnnounceInit(await reader.message(ctx.limits.maxMessageBytes), ctx.version);
        for (const suffix of init.suffixes) this.#activate(suffix);
      }
      for (;;) {
        const body = await reader.messageOrEnd(ctx.limits.maxMessageBytes);
        if (body === undefined) break;
        const announce = decodeAnnounce(body, ctx.version);
        if (announce.active) this.#activate(announce.suffix);
        else this.#deactivate(announce.suffix);
      }
      void writer.close();
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      // The client reset the announce stream, or the transport is closing: nothing more is published.
      ctx.logger.debug({ err: error }, 'announce stream to client ended');
    } finally {
      this.#endAll();
    }
  }

  /** A uni stream of type GROUP from the client (the type is already read). */
  async receiveGroup(reader: StreamReader): Promise<void> {
    const header = decodeGroupHeader(await reader.message(this.ctx.limits.maxMessageBytes));
    const upstream = this.#upstreams.get(header.subscribeId);
    if (!upstream) {
      // A subscription that already ended (or never existed): not worth the session.
      await reader.cancel(new StreamResetReason(RelayErrorCode.cancelled, 'unknown subscription'));
      return;
    }
    await upstream.receiveGroup(header.sequence, reader);
  }

  stop(): void {
    this.#stopped = true;
    void this.#announceReader?.cancel();
    this.#endAll();
  }

  #activate(suffix: string): void {
    const { ctx } = this;
    const clientPath = normalizePath(suffix);
    // A repeated "active" is a restart: the old broadcast ends first.
    this.#deactivate(clientPath);
    const path = joinPath(ctx.root, clientPath);
    if (this.#stopped) return;
    if (!ctx.allowPublish(path)) {
      ctx.logger.warn({ path }, 'client may not publish this broadcast; ignored');
      return;
    }
    const broadcast = new Broadcast(path, {
      onTrackRequest: (name, priority) => this.#requestTrack(clientPath, name, priority),
      trackDefaults: ctx.trackOptions,
      info: { ...ctx.broadcastInfo, protocol: versionName(ctx.version) },
    });
    try {
      ctx.origin.publish(broadcast);
    } catch (error) {
      ctx.logger.warn({ path, err: error }, 'client broadcast not published');
      return;
    }
    this.#broadcasts.set(clientPath, broadcast);
    ctx.counters.publishedBroadcasts++;
    ctx.logger.info({ path }, 'client broadcast published');
  }

  #deactivate(suffix: string): void {
    const clientPath = normalizePath(suffix);
    const broadcast = this.#broadcasts.get(clientPath);
    if (!broadcast) return;
    this.#broadcasts.delete(clientPath);
    broadcast.close();
    this.ctx.logger.info({ path: broadcast.path }, 'client broadcast ended');
  }

  #requestTrack(clientPath: string, name: string, priority: number): Track | undefined {
    if (this.#stopped || !this.#broadcasts.has(clientPath)) return undefined;
    const track = new Track(name, this.ctx.trackOptions);
    const id = this.#nextSubscribeId++;
    const upstream = new UpstreamTrack(this.ctx, id, clientPath, track, priority);
    this.#upstreams.set(id, upstream);
    void upstream
      .run()
      .catch((error: unknown) => this.ctx.onFatal(error))
      .finally(() => this.#upstreams.delete(id));
    return track;
  }

  #endAll(): void {
    for (const clientPath of [...this.#broadcasts.keys()]) this.#deactivate(clientPath);
    for (const upstream of this.#upstreams.values()) upstream.stop();
  }
}
