import { Notify } from '../../../src/relay/notify.ts';

export interface PartEntry {
  /** Index within the parent segment, from 0 (RFC 8216bis §6.2.5.2 _HLS_part). */
  index: number;
  /** Seconds. */
  duration: number;
  /** Starts with a sync sample (EXT-X-PART INDEPENDENT=YES). */
  independent: boolean;
  bytes: Uint8Array;
}

export interface SegmentEntry {
  msn: number;
  /** Broadcast µs timeline, for EXT-X-PROGRAM-DATE-TIME. */
  startUs: number;
  parts: PartEntry[];
  /** Seconds: the sum of the parts. */
  duration: number;
  byteLength: number;
  complete: boolean;
  /** A new init segment or timeline starts here (EXT-X-DISCONTINUITY). */
  discontinuity: boolean;
  initVersion: number;
}

export interface PlaylistWindowOptions {
  /** Complete segments listed (at least three target durations are always kept, §6.2.2). */
  segmentWindow: number;
  /** Bytes of media kept for this playlist, including segments just removed from it. */
  maxBytes: number;
  /** Seconds (EXT-X-PART-INF PART-TARGET). */
  partTarget: number;
}

/** Segments removed from the playlist stay fetchable a little longer (§6.2.2). */
const RETIRED_SEGMENTS = 2;

/**
 * The state behind one media playlist: a sliding window of segments and their parts, the init
 * segments they reference, and the wake-up that blocked requests wait on. Memory is bounded by
 * the segment count and by bytes.
 */
export class PlaylistWindow {
  readonly options: PlaylistWindowOptions;
  /** Listed segments, oldest first; the last one may be in progress. */
  readonly segments: SegmentEntry[] = [];
  /** Segments dropped from the playlist but still served for late fetches. */
  readonly #retired: SegmentEntry[] = [];
  readonly #inits = new Map<number, Uint8Array>();
  readonly #changed = new Notify();
  #targetDuration: number | undefined;
  #discontinuitySequence = 0;
  #ended = false;
  #bytes = 0;

  constructor(options: PlaylistWindowOptions) {
    this.options = options;
  }

  get targetDuration(): number | undefined {
    return this.#targetDuration;
  }

  /** EXT-X-TARGETDURATION; fixed once set (§6.2.1: it MUST NOT change). */
  setTargetDuration(seconds: number): void {
    if (this.#targetDuration !== undefined) return;
    this.#targetDuration = seconds;
    this.#changed.notify();
  }

  get ended(): boolean {
    return this.#ended;
  }

  get discontinuitySequence(): number {
    return this.#discontinuitySequence;
  }

  get byteLength(): number {
    return this.#bytes;
  }

  /** Resolves at the next change (part, segment, end). */
  changed(): Promise<void> {
    return this.#changed.wait();
  }

  setInit(version: number, bytes: Uint8Array): void {
    this.#inits.set(version, bytes);
  }

  init(version: number): Uint8Array | undefined {
    return this.#inits.get(version);
  }

  get current(): SegmentEntry | undefined {
    return this.segments.at(-1);
  }

  beginSegment(entry: { msn: number; startUs: number; discontinuity: boolean; initVersion: number }): void {
    if (this.#ended) return;
    const last = this.current;
    if (last && !last.complete) throw new Error('previous segment still open');
    if (last && entry.msn !== last.msn + 1) throw new Error(`media sequence ${entry.msn} after ${last.msn}`);
    this.segments.push({ ...entry, parts: [], duration: 0, byteLength: 0, complete: false });
    this.#changed.notify();
  }

  addPart(part: { duration: number; independent: boolean; bytes: Uint8Array }): void {
    const segment = this.current;
    if (this.#ended || !segment || segment.complete) return;
    segment.parts.push({ index: segment.parts.length, ...part });
    segment.duration += part.duration;
    segment.byteLength += part.bytes.byteLength;
    this.#bytes += part.bytes.byteLength;
    this.#evictForBytes();
    this.#changed.notify();
  }

  completeSegment(): void {
    const segment = this.current;
    if (!segment || segment.complete) return;
    if (segment.parts.length === 0) {
      // Nothing was written into it: forget it rather than list an empty segment.
      this.segments.pop();
    } else {
      segment.complete = true;
    }
    this.#slide();
    this.#changed.notify();
  }

  /** No more media (EXT-X-ENDLIST): an open segment is closed as it is. */
  end(): void {
    if (this.#ended) return;
    this.completeSegment();
    this.#ended = true;
    this.#changed.notify();
  }

  /** The latest part: (msn, index), or undefined before the first. */
  lastPart(): { msn: number; index: number } | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i]!;
      if (s.parts.length > 0) return { msn: s.msn, index: s.parts.length - 1 };
    }
    return undefined;
  }

  lastCompleteMsn(): number | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i]!.complete) return this.segments[i]!.msn;
    return undefined;
  }

  /** A listed or recently retired segment. */
  segment(msn: number): SegmentEntry | undefined {
    return this.segments.find((s) => s.msn === msn) ?? this.#retired.find((s) => s.msn === msn);
  }

  /** Whether a blocking reload for (msn, part) can be answered (§6.2.5.2). */
  satisfies(msn: number, part: number | undefined): boolean {
    if (this.#ended) return true;
    if (part === undefined) {
      const complete = this.lastCompleteMsn();
      return complete !== undefined && complete >= msn;
    }
    const last = this.lastPart();
    return last !== undefined && (last.msn > msn || (last.msn === msn && last.index >= part));
  }

  /**
   * Whether (msn, part) may still appear: the part a client was hinted to (or the segment it
   * belongs to) is not there yet but the stream is live and has not moved past it.
   */
  mayStillAppear(msn: number, part: number | undefined): boolean {
    if (this.#ended) return false;
    const current = this.current;
    if (!current) return true;
    if (msn > current.msn) return msn <= current.msn + 1;
    if (msn < current.msn) return false;
    return !current.complete && (part === undefined || part >= current.parts.length);
  }

  #slide(): void {
    const target = this.#targetDuration ?? 0;
    for (;;) {
      const complete = this.segments.filter((s) => s.complete);
      if (complete.length <= this.options.segmentWindow) break;
      const first = this.segments[0]!;
      const remaining = complete.reduce((sum, s) => sum + s.duration, 0) - first.duration;
      if (remaining < 3 * target) break;
      this.#retire();
    }
  }

  #retire(): void {
    const first = this.segments.shift()!;
    // The discontinuity sequence counts the discontinuities that scrolled out (§4.4.3.3).
    if (first.discontinuity) this.#discontinuitySequence++;
    this.#retired.push(first);
    while (this.#retired.length > RETIRED_SEGMENTS) this.#bytes -= this.#retired.shift()!.byteLength;
    this.#dropUnusedInits();
  }

  #evictForBytes(): void {
    while (this.#bytes > this.options.maxBytes && this.#retired.length > 0) this.#bytes -= this.#retired.shift()!.byteLength;
    // Then the oldest listed segments, keeping the current one and the one before it.
    while (this.#bytes > this.options.maxBytes && this.segments.length > 2 && this.segments[0]!.complete) {
      this.#retire();
      while (this.#retired.length > 0) this.#bytes -= this.#retired.shift()!.byteLength;
    }
  }

  #dropUnusedInits(): void {
    const used = new Set([...this.#retired, ...this.segments].map((s) => s.initVersion));
    const newest = Math.max(...this.#inits.keys());
    for (const version of this.#inits.keys()) if (!used.has(version) && version !== newest) this.#inits.delete(version);
  }
}
