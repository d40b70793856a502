/**
 * Where the leading rendition (the default video) cut its segments and parts, on the
 * broadcast's µs timeline, so the other renditions cut at the same instants and carry the same
 * Media Sequence Numbers. Aligned boundaries across renditions are what players switching or
 * combining renditions expect (RFC 8216bis §6.2.4 "Media Segments ... aligned"; Apple HLS
 * authoring spec 1.11 for audio/video).
 */
export interface Cut {
  timeUs: number;
  kind: 'segment' | 'part';
  /** Media Sequence Number of the segment that the cut starts or continues. */
  msn: number;
  /** The segment starts a discontinuity (new init segment): followers mark theirs too, so
   * discontinuity sequence numbers agree across renditions (RFC 8216bis §6.2.2). */
  discontinuity?: boolean;
}

/** Cuts remembered for followers that start late or lag; older ones are forgotten. */
const MAX_CUTS = 1024;

export class CutSchedule {
  readonly #cuts: Cut[] = [];
  readonly #listeners = new Set<() => void>();
  #progressUs = Number.NEGATIVE_INFINITY;
  #leaderActive = false;
  #targetDuration: number | undefined;

  /** True while a leader is running: followers wait for its decisions. */
  get leaderActive(): boolean {
    return this.#leaderActive;
  }

  /** Every cut at or before this time is known. */
  get progressUs(): number {
    return this.#progressUs;
  }

  /** EXT-X-TARGETDURATION the leader settled on, shared so every playlist declares the same. */
  get targetDuration(): number | undefined {
    return this.#targetDuration;
  }

  setLeaderActive(active: boolean): void {
    this.#leaderActive = active;
    this.#changed();
  }

  setTargetDuration(seconds: number): void {
    this.#targetDuration = seconds;
    this.#changed();
  }

  announce(cut: Cut): void {
    this.#cuts.push(cut);
    if (this.#cuts.length > MAX_CUTS) this.#cuts.splice(0, this.#cuts.length - MAX_CUTS);
  }

  advance(timeUs: number): void {
    if (timeUs <= this.#progressUs) return;
    this.#progressUs = timeUs;
    this.#changed();
  }

  /** Cuts in (afterUs, uptoUs], in order. */
  cutsBetween(afterUs: number, uptoUs: number): Cut[] {
    return this.#cuts.filter((c) => c.timeUs > afterUs && c.timeUs <= uptoUs);
  }

  /** The segment a leader cut covering `timeUs` belongs to, if known. */
  segmentAt(timeUs: number): number | undefined {
    for (let i = this.#cuts.length - 1; i >= 0; i--) if (this.#cuts[i]!.timeUs <= timeUs) return this.#cuts[i]!.msn;
    return undefined;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
