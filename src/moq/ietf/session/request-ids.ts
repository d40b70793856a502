/**
 * Request ID flow control (draft-16 §9.1, §9.5–9.6; draft-14 the same): client IDs are even from 0,
 * server IDs odd from 1, each new request takes the next one, and a peer may only use IDs below
 * the MAX_REQUEST_ID it was granted.
 */
import { IetfProtocolError, SessionErrorCode, violation } from '../errors.ts';

/** IDs the peer (the client) uses for its requests to us. */
export class InboundRequestIds {
  #next = 0;
  #max: number;
  #window: number;

  /** `initialMax` is what SERVER_SETUP granted. */
  constructor(initialMax: number, window: number) {
    this.#max = initialMax;
    this.#window = window;
  }

  get max(): number {
    return this.#max;
  }

  /** Validates a new request's ID; a wrong one closes the session. */
  accept(requestId: number): void {
    if (requestId !== this.#next) {
      throw new IetfProtocolError(SessionErrorCode.invalidRequestId, `request ID ${requestId}, expected ${this.#next}`);
    }
    if (requestId >= this.#max) {
      throw new IetfProtocolError(SessionErrorCode.tooManyRequests, `request ID ${requestId} is not below MAX_REQUEST_ID ${this.#max}`);
    }
    this.#next += 2;
  }

  /** A new MAX_REQUEST_ID to send when less than half the window is left, else undefined. */
  replenish(): number | undefined {
    if (this.#max - this.#next > this.#window / 2) return undefined;
    this.#max = this.#next + this.#window;
    return this.#max;
  }
}

/** IDs we use for our requests to the peer (SUBSCRIBE upstream, PUBLISH_NAMESPACE downstream). */
export class OutboundRequestIds {
  #next = 1;
  #max: number;
  #blockedAt = -1;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(initialMax: number) {
    this.#max = initialMax;
  }

  /** The next ID; waits for MAX_REQUEST_ID when exhausted. `onBlocked` fires once per limit. */
  async next(onBlocked: (max: number) => void): Promise<number | undefined> {
    while (!this.#closed && this.#next >= this.#max) {
      if (this.#blockedAt !== this.#max) {
        this.#blockedAt = this.#max;
        onBlocked(this.#max);
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#closed) return undefined;
    const id = this.#next;
    this.#next += 2;
    return id;
  }

  /** MAX_REQUEST_ID from the peer; it may only grow (§9.5). */
  raise(max: number): void {
    if (max <= this.#max) throw violation(`MAX_REQUEST_ID ${max} does not exceed ${this.#max}`);
    this.#max = max;
    this.#wake();
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
