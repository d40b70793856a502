/**
 * Track aliases chosen by the peer as publisher (draft-16 §10.1): SUBSCRIBE_OK and PUBLISH bind
 * them to tracks. Data can outrun the control message that binds its alias, so lookups wait a
 * little; an alias bound to two live tracks is DUPLICATE_TRACK_ALIAS.
 */
import { IetfProtocolError, SessionErrorCode } from '../errors.ts';
import { withTimeout } from '../session/timers.ts';
import type { IngestSink } from './sink.ts';

export class InboundAliases {
  readonly #sinks = new Map<number, IngestSink>();
  readonly #waiters = new Map<number, ((sink: IngestSink) => void)[]>();

  bind(alias: number, sink: IngestSink): void {
    const existing = this.#sinks.get(alias);
    if (existing && existing !== sink && !existing.track.ended) {
      throw new IetfProtocolError(SessionErrorCode.duplicateTrackAlias, `track alias ${alias} is already in use`);
    }
    this.#sinks.set(alias, sink);
    const waiters = this.#waiters.get(alias) ?? [];
    this.#waiters.delete(alias);
    for (const wake of waiters) wake(sink);
  }

  unbind(alias: number, sink: IngestSink): void {
    if (this.#sinks.get(alias) === sink) this.#sinks.delete(alias);
  }

  get(alias: number): IngestSink | undefined {
    return this.#sinks.get(alias);
  }

  /** The sink for `alias`, waiting up to `waitMs` for it to be bound. */
  async lookup(alias: number, waitMs: number): Promise<IngestSink | undefined> {
    const bound = this.#sinks.get(alias);
    if (bound) return bound;
    let wake!: (sink: IngestSink) => void;
    const found = new Promise<IngestSink>((resolve) => {
      wake = resolve;
    });
    const waiters = this.#waiters.get(alias) ?? [];
    waiters.push(wake);
    this.#waiters.set(alias, waiters);
    const sink = await withTimeout(found, waitMs, undefined);
    if (!sink) {
      const remaining = (this.#waiters.get(alias) ?? []).filter((w) => w !== wake);
      if (remaining.length > 0) this.#waiters.set(alias, remaining);
      else this.#waiters.delete(alias);
    }
    return sink;
  }

  clear(): void {
    this.#sinks.clear();
    this.#waiters.clear();
  }
}
