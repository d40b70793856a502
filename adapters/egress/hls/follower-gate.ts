import type { CutSchedule } from './cut-schedule.ts';
import type { ForcedCut } from './segmenter.ts';
import type { TimedSample } from './timed-sample.ts';

export interface FollowerGateOptions {
  /** Longest a sample waits for the leader's decision (wall clock) before going on alone. */
  maxWaitMs?: number;
  /** Most samples held at once (bounded memory whatever the leader does). */
  maxQueued?: number;
}

/**
 * Holds a follower's samples (audio) until the leader (video) has decided every cut up to
 * their time, then hands each on with the cuts to make before it. Video decides a little late
 * (its DTS and durations wait for later frames), so audio waits that long. The wait is bounded
 * in wall-clock time, not media time: when a backlog is read in a burst the leader is as fast
 * as the follower, but when it stalls or stops the follower goes on by itself.
 */
export class FollowerGate {
  readonly #queue: { sample: TimedSample; arrivedAt: number }[] = [];
  readonly #unsubscribe: () => void;
  readonly #maxWaitMs: number;
  readonly #maxQueued: number;
  #lastTimeUs = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly schedule: CutSchedule,
    private readonly sink: (sample: TimedSample, forced: ForcedCut) => void,
    options: FollowerGateOptions = {},
  ) {
    this.#maxWaitMs = options.maxWaitMs ?? 1000;
    this.#maxQueued = options.maxQueued ?? 500;
    this.#unsubscribe = schedule.onChange(() => this.#pump());
  }

  push(samples: readonly TimedSample[]): void {
    const now = Date.now();
    for (const sample of samples) this.#queue.push({ sample, arrivedAt: now });
    this.#pump();
  }

  /** End of stream: release everything. */
  flush(): void {
    while (this.#queue.length > 0) this.#release(this.#queue.shift()!.sample);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#unsubscribe();
    this.#queue.length = 0;
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    while (this.#queue.length > 0) {
      const { sample, arrivedAt } = this.#queue[0]!;
      const overdue = now - arrivedAt >= this.#maxWaitMs || this.#queue.length > this.#maxQueued;
      const waitForLeader = this.schedule.leaderActive && !overdue;
      if (waitForLeader && sample.timeUs > this.schedule.progressUs) {
        this.#timer = setTimeout(() => this.#pump(), arrivedAt + this.#maxWaitMs - now);
        this.#timer.unref();
        return;
      }
      this.#queue.shift();
      // Before the leader's first segment there is no video to go with: drop it, so segments
      // stay aligned and numbered like the leader's.
      if (waitForLeader && this.schedule.segmentAt(sample.timeUs) === undefined) continue;
      this.#release(sample);
    }
  }

  #release(sample: TimedSample): void {
    const cuts = this.schedule.cutsBetween(this.#lastTimeUs, sample.timeUs);
    this.#lastTimeUs = sample.timeUs;
    const forced: ForcedCut = {};
    for (const cut of cuts) {
      if (cut.kind === 'segment') {
        forced.segmentMsn = cut.msn;
        if (cut.discontinuity) forced.discontinuity = true;
      } else {
        forced.part = true;
      }
    }
    this.sink(sample, forced);
  }
}
