/**
 * `--viewer-stall-timeout` for any MoQ session (moq-lite and IETF alike): a subscriber whose
 * transport has taken no byte for `timeoutMs` while bytes waited for it (it stopped reading its
 * socket, or stopped granting flow control) is reported once, so its session can close and
 * release everything it holds. Progress is the session's SendBudget's (see stalledMs there).
 */

export interface StallSource {
  /** How long bytes have waited with none taken (ms); 0 when nothing is queued. */
  stalledMs(): number;
  readonly queuedBytes: number;
}

export interface Stall {
  /** For the close reason, the log and the session API: `viewer stalled: ...`. */
  reason: string;
  stalledMs: number;
  queuedBytes: number;
}

export class StallWatch {
  readonly #timer: ReturnType<typeof setInterval>;
  #stall: Stall | undefined;

  /** Starts watching; `onStall` is called at most once, after which the watch stops. */
  constructor(source: StallSource, timeoutMs: number, onStall: (stall: Stall) => void) {
    this.#timer = setInterval(
      () => {
        const stalledMs = source.stalledMs();
        if (stalledMs < timeoutMs) return;
        this.stop();
        const queuedBytes = source.queuedBytes;
        this.#stall = { reason: `viewer stalled: no bytes taken for ${Math.round(stalledMs / 1000)} s with ${queuedBytes} bytes queued`, stalledMs: Math.round(stalledMs), queuedBytes };
        onStall(this.#stall);
      },
      Math.min(1000, Math.max(10, timeoutMs / 4)),
    );
    this.#timer.unref();
  }

  /** The stall reported, if any. */
  get stall(): Stall | undefined {
    return this.#stall;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
