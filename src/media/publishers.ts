import { normalizePath, type Origin, type TrackOptions } from '../relay/index.ts';
import type { MediaFrame, MediaSink, TrackInfo } from './frame.ts';
import { HangBroadcastWriter } from './hang/publisher.ts';

export class PublishRefusedError extends Error {
  override name = 'PublishRefusedError';
}

export interface PublisherMeta {
  /** `rtmp`, `whip`, ... */
  protocol: string;
  remoteAddress: string;
  /** Ask the encoder for a keyframe (WHIP: PLI) when a new viewer joins a video track. */
  requestKeyframe?: () => void;
}

export interface PublisherRegistryOptions {
  /** How long a broadcast outlives its publisher, waiting for the encoder to reconnect. */
  reconnectGraceMs?: number;
  /** A second publisher to a live name replaces the first instead of being refused. */
  takeover?: boolean;
  /** Relay bounds for the tracks publishers create. */
  trackOptions?: TrackOptions;
}

export const DEFAULT_RECONNECT_GRACE_MS = 5000;

interface Entry {
  writer: HangBroadcastWriter;
  active: PublisherSink | undefined;
  meta: PublisherMeta;
  graceTimer: NodeJS.Timeout | undefined;
}

/**
 * Ingest publishers by broadcast path. Owns the rules that span publisher sessions: one live
 * publisher per name (refuse or take over), and the reconnect grace during which viewers stay
 * subscribed and the next publisher continues the same broadcast and timeline.
 */
export class PublisherRegistry {
  readonly #entries = new Map<string, Entry>();
  /** What ended publishers had received, by protocol, so counters never go backwards. */
  readonly #endedTotals = new Map<string, { frames: number; bytes: number }>();
  readonly #graceMs: number;
  readonly #takeover: boolean;
  readonly #trackOptions: TrackOptions;

  constructor(
    private readonly origin: Origin,
    options: PublisherRegistryOptions = {},
  ) {
    this.#graceMs = options.reconnectGraceMs ?? DEFAULT_RECONNECT_GRACE_MS;
    this.#takeover = options.takeover ?? false;
    this.#trackOptions = options.trackOptions ?? {};
  }

  /**
   * A sink for a new publisher of `path`. `terminate` is called when the gateway ends the
   * session (takeover, kick, shutdown). Throws PublishRefusedError when the name is taken.
   */
  open(rawPath: string, meta: PublisherMeta, terminate: (reason: string) => void = () => {}): MediaSink {
    const path = normalizePath(rawPath);
    if (path === '') throw new PublishRefusedError('empty broadcast name');
    let entry = this.#entries.get(path);
    if (entry?.active) {
      if (!this.#takeover) throw new PublishRefusedError(`broadcast ${path} is already being published`);
      const previous = entry.active;
      entry.active = undefined;
      previous.detach();
      previous.terminate('taken over by a new publisher');
    }
    if (entry?.writer.broadcast.ended) entry = undefined;
    if (entry) {
      clearTimeout(entry.graceTimer);
      entry.graceTimer = undefined;
      entry.meta = meta;
      entry.writer.onKeyframeWanted = meta.requestKeyframe;
    } else {
      // Throws if another kind of publisher (e.g. a MoQ client) holds the path in the origin.
      let writer: HangBroadcastWriter;
      try {
        writer = new HangBroadcastWriter(this.origin, path, { protocol: meta.protocol, remoteAddress: meta.remoteAddress }, this.#trackOptions);
      } catch (error) {
        throw new PublishRefusedError((error as Error).message);
      }
      writer.onKeyframeWanted = meta.requestKeyframe;
      entry = { writer, active: undefined, meta, graceTimer: undefined };
      this.#entries.set(path, entry);
    }
    const sink = new PublisherSink(entry.writer, terminate, (final) => this.#onSinkClosed(path, sink, final));
    entry.active = sink;
    return sink;
  }

  #onSinkClosed(path: string, sink: PublisherSink, final: boolean): void {
    const entry = this.#entries.get(path);
    if (!entry || entry.active !== sink) return;
    entry.active = undefined;
    entry.writer.suspend();
    const end = () => {
      if (this.#entries.get(path) !== entry || entry.active) return;
      this.#retire(path, entry);
    };
    if (final || this.#graceMs <= 0) end();
    else entry.graceTimer = setTimeout(end, this.#graceMs).unref();
  }

  /** Live and reconnect-pending publishers. */
  list(): { path: string; meta: PublisherMeta; connected: boolean; writer: HangBroadcastWriter }[] {
    return [...this.#entries].map(([path, e]) => ({ path, meta: e.meta, connected: e.active !== undefined, writer: e.writer }));
  }

  /**
   * A new publisher of `path` arrived in another process (`--workers N`: an encoder reconnecting
   * within its grace lands on any worker). Gives the name up, as open() would here: at once when
   * the encoder is away (reconnect grace) or with takeover on; 'held' while it is connected.
   */
  yieldTo(rawPath: string): 'released' | 'held' | 'absent' {
    const path = normalizePath(rawPath);
    const entry = this.#entries.get(path);
    if (!entry) return 'absent';
    if (entry.active && !this.#takeover) return 'held';
    this.kick(path, entry.active ? 'taken over by a new publisher' : 'its encoder reconnected to another worker');
    return 'released';
  }

  /** A viewer lost a picture: ask the publisher of `path` for a key frame, if it can (WHIP: PLI). */
  requestKeyframe(rawPath: string): void {
    this.#entries.get(normalizePath(rawPath))?.meta.requestKeyframe?.();
  }

  /** End a publisher now (API kick): no reconnect grace. Returns false if unknown. */
  kick(rawPath: string, reason = 'kicked'): boolean {
    const path = normalizePath(rawPath);
    const entry = this.#entries.get(path);
    if (!entry) return false;
    clearTimeout(entry.graceTimer);
    entry.active?.detach();
    entry.active?.terminate(reason);
    this.#retire(path, entry);
    return true;
  }

  #retire(path: string, entry: Entry): void {
    this.#entries.delete(path);
    entry.writer.close();
    const stats = entry.writer.stats();
    const total = this.#endedTotals.get(entry.meta.protocol) ?? { frames: 0, bytes: 0 };
    total.frames += stats.framesIn;
    total.bytes += stats.bytesIn;
    this.#endedTotals.set(entry.meta.protocol, total);
  }

  /** Frames and bytes received, by publisher protocol, since start. */
  totals(): Map<string, { frames: number; bytes: number }> {
    const out = new Map([...this.#endedTotals].map(([p, t]) => [p, { ...t }]));
    for (const entry of this.#entries.values()) {
      const stats = entry.writer.stats();
      const total = out.get(entry.meta.protocol) ?? { frames: 0, bytes: 0 };
      total.frames += stats.framesIn;
      total.bytes += stats.bytesIn;
      out.set(entry.meta.protocol, total);
    }
    return out;
  }

  /** End every publisher (shutdown). */
  closeAll(reason = 'server shutting down'): void {
    for (const [path] of this.#entries) this.kick(path, reason);
  }
}

/** One publisher session's view of its broadcast: a MediaSink that can be detached. */
class PublisherSink implements MediaSink {
  #attached = true;

  constructor(
    private readonly writer: HangBroadcastWriter,
    readonly terminate: (reason: string) => void,
    private readonly onClose: (final: boolean) => void,
  ) {}

  detach(): void {
    this.#attached = false;
  }

  setTrack(name: string, info: TrackInfo): void {
    if (this.#attached) this.writer.setTrack(name, info);
  }

  writeFrame(name: string, frame: MediaFrame): void {
    if (this.#attached) this.writer.writeFrame(name, frame);
  }

  removeTrack(name: string): void {
    if (this.#attached) this.writer.removeTrack(name);
  }

  close(_reason?: string, options: { final?: boolean } = {}): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.onClose(options.final ?? false);
  }
}
