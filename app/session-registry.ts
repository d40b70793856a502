/**
 * Every live session and what sessions have counted: the per-address limit (MoQ, RTMP, WHIP),
 * the MoQ session list the API shows and kicks from, and the per-protocol totals /metrics reads.
 * Ended sessions' counters are kept by protocol family, so counters never go backwards.
 */
import type { ApiClosedSession as ClosedSession, ApiSession } from '../src/http/api-types.ts';
import { sumBy, type Totals } from '../src/http/metrics.ts';
import type { MoqSessionHandle, MoqSessionStats } from '../src/moq/serve.ts';
import { SessionLimiter, type SharedLimits } from './session-limiter.ts';

interface LiveSession {
  handle: MoqSessionHandle;
  info: ApiSession;
  /** A sibling worker's mesh link: closed at shutdown like the rest, never listed or counted. */
  internal: boolean;
}

export type SessionFacts = Omit<ApiSession, 'id' | 'startedAt'>;

const ZERO: MoqSessionStats = { bytesSent: 0, groupsSent: 0, groupsDropped: 0, bytesReceived: 0, viewersStalled: 0 };
/** Recently closed MoQ sessions the API lists, newest last. */
const CLOSED_KEPT = 100;

export class SessionRegistry {
  readonly #limiter: SessionLimiter;
  readonly #sessions = new Map<number, LiveSession>();
  readonly #ended = new Map<string, MoqSessionStats>();
  readonly #closed: ClosedSession[] = [];
  #nextId: number;
  readonly #idStep: number;
  readonly #worker: number | undefined;

  constructor(
    perAddress: number,
    options: {
      /** Under `--workers N`: what the other workers hold per address. */
      shared?: SharedLimits;
      /** Under `--workers N`: worker i numbers its sessions i+1, i+1+N, … so ids are unique across workers. */
      ids?: { first: number; step: number };
      /** Under `--workers N`: this worker's index, shown on each of its sessions. */
      worker?: number;
    } = {},
  ) {
    this.#limiter = new SessionLimiter(perAddress, options.shared);
    this.#nextId = options.ids?.first ?? 1;
    this.#idStep = options.ids?.step ?? 1;
    this.#worker = options.worker;
  }

  get perAddress(): number {
    return this.#limiter.perAddress;
  }

  /**
   * Whether `address` may open one more session: checked before an upgrade or handshake goes on,
   * so a refused client hears why (429) before it costs a session. `add` and `limited` hold the
   * slot itself once the session is established.
   */
  full(address: string): boolean {
    return this.#limiter.count(address) >= this.#limiter.perAddress;
  }

  /** Runs `open` holding one of `address`'s slots; `open` gets the release (for when its session ends). */
  limited<T>(address: string, open: (release: () => void) => T): T {
    const release = this.#limiter.acquire(address);
    try {
      return open(release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** An id for the next MoQ session (for its logs, before it is added). */
  nextId(): number {
    const id = this.#nextId;
    this.#nextId += this.#idStep;
    return id;
  }

  /**
   * A MoQ session joins: it holds a slot of its address, shows in the API and counts in /metrics
   * until it closes. When its address raced past the limit it is closed, and the refusal returned.
   */
  add(id: number, handle: MoqSessionHandle, facts: SessionFacts, internal = false): Error | undefined {
    let release = () => {};
    let refusal: Error | undefined;
    try {
      if (!internal) release = this.#limiter.acquire(facts.remoteAddress);
    } catch (error) {
      refusal = error as Error;
      handle.close(0x2, refusal.message);
    }
    this.#sessions.set(id, { handle, info: { id, ...facts, startedAt: new Date().toISOString(), ...(this.#worker !== undefined ? { worker: this.#worker } : {}) }, internal });
    void handle.closed.then((closeInfo) => {
      release();
      const live = this.#sessions.get(id);
      this.#sessions.delete(id);
      if (internal) return;
      if (live) {
        this.#closed.push({ ...live.info, closedAt: new Date().toISOString(), reason: closeReason(closeInfo) });
        if (this.#closed.length > CLOSED_KEPT) this.#closed.shift();
      }
      const ended = this.#ended.get(handle.family) ?? { ...ZERO };
      const last = handle.stats();
      for (const key of Object.keys(ended) as (keyof MoqSessionStats)[]) ended[key] += last[key];
      this.#ended.set(handle.family, ended);
    });
    return refusal;
  }

  list(): ApiSession[] {
    return this.#external().map((s) => s.info);
  }

  /** The last closed sessions with why they ended, oldest first. */
  closed(): ClosedSession[] {
    return [...this.#closed];
  }

  kick(id: number): boolean {
    const session = this.#sessions.get(id);
    if (!session || session.internal) return false;
    session.handle.close(0, 'kicked by the API');
    return true;
  }

  /** Live MoQ sessions by protocol family and transport (a gauge). */
  counts(): Totals {
    return sumBy(this.#external().map((s) => ({ labels: { protocol: s.handle.family, transport: s.info.transport }, value: 1 })));
  }

  /** `key` summed over every MoQ session ever served, by protocol family (a counter). */
  totals(key: keyof MoqSessionStats): Totals {
    return sumBy([
      ...[...this.#ended].map(([protocol, s]) => ({ labels: { protocol }, value: s[key] })),
      ...this.#external().map((s) => ({ labels: { protocol: s.handle.family }, value: s.handle.stats()[key] })),
    ]);
  }

  /** Sessions of clients, not of sibling workers' mesh links. */
  #external(): LiveSession[] {
    return [...this.#sessions.values()].filter((s) => !s.internal);
  }

  /** Shutdown, first step: ask peers to go elsewhere where the protocol can. */
  goAwayAll(): void {
    for (const { handle } of this.#sessions.values()) handle.goAway();
  }

  /** Shutdown: close every MoQ session, waiting at most `waitMs` for them to say goodbye. */
  async closeAll(reason: string, waitMs: number): Promise<void> {
    const sessions = [...this.#sessions.values()];
    for (const { handle } of sessions) handle.close(0, reason);
    await Promise.race([Promise.allSettled(sessions.map((s) => s.handle.closed)), new Promise((resolve) => setTimeout(resolve, waitMs))]);
  }
}

/** The close reason of a session's `closed` value (moq-lite and IETF both carry `reason`). */
function closeReason(info: unknown): string {
  if (typeof info === 'object' && info !== null && 'reason' in info && typeof info.reason === 'string') return info.reason;
  return '';
}
