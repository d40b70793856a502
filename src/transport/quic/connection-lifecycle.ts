/**
 * The lifecycle of one QUIC connection as seen by the application (RFC 9000 §10):
 *
 *   handshaking ──▶ established ──▶ closing ──▶ draining ──▶ closed
 *        │              │                         ▲
 *        ├──────────────┴──▶ closing              │
 *        └──────────────┴─────────────────────────┘
 *
 * - handshaking: quiche has not completed the handshake.
 * - established: the handshake completed; streams and datagrams flow.
 * - closing: we handed quiche a CONNECTION_CLOSE that it has not sent yet (§10.2.1).
 * - draining: the application has been told the connection ended (we sent or received
 *   CONNECTION_CLOSE, or gave up); quiche still runs out its draining period (§10.2.2).
 * - closed: quiche is done, or we forgot the connection.
 *
 * Each state carries the data only it needs, and timers are owned by the state that armed
 * them: leaving a state clears them, so no callback of an earlier state fires in a later one.
 */
import type { ConnectionCloseInfo } from './quic-errors.ts';

export type ConnectionState =
  | { readonly name: 'handshaking' }
  | {
      readonly name: 'established';
      /** When the handshake completed (Date.now()), to estimate confirmation. */
      readonly since: number;
      /** Whether a packet arrived since then (a client's confirmation needs one, RFC 9001 §4.1.2). */
      heardFromPeer: boolean;
    }
  | {
      readonly name: 'closing';
      /** Whether the close came after the handshake completed: streams keep flowing until draining. */
      readonly afterHandshake: boolean;
      /** Packets generated since the close without quiche entering the draining state. */
      packetsSent: number;
    }
  | { readonly name: 'draining'; readonly info: ConnectionCloseInfo }
  | { readonly name: 'closed'; readonly info: ConnectionCloseInfo };

export type ConnectionStateName = ConnectionState['name'];

/** The transitions allowed from each state; anything else is a bug in the caller. */
const NEXT: { readonly [S in ConnectionStateName]: readonly ConnectionStateName[] } = {
  handshaking: ['established', 'closing', 'draining'],
  established: ['closing', 'draining'],
  closing: ['draining'],
  // The end always passes through draining, so the application is told before it is forgotten.
  draining: ['closed'],
  closed: [],
};

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly from: ConnectionStateName,
    readonly to: ConnectionStateName,
  ) {
    super(`illegal connection state transition ${from} → ${to}`);
  }
}

type Timer = ReturnType<typeof setTimeout>;

export class ConnectionLifecycle {
  #state: ConnectionState = { name: 'handshaking' };
  /** Timers armed by the current state. */
  readonly #timers = new Set<Timer>();

  get state(): ConnectionState {
    return this.#state;
  }

  get name(): ConnectionStateName {
    return this.#state.name;
  }

  /** Before the application learnt of the end: handshaking, established or closing. */
  get isLive(): boolean {
    const name = this.#state.name;
    return name === 'handshaking' || name === 'established' || name === 'closing';
  }

  /** Neither closing nor ended: a close may still be requested. */
  get isOpen(): boolean {
    return this.#state.name === 'handshaking' || this.#state.name === 'established';
  }

  /** How the connection ended, once the application has been told (draining, closed). */
  get closeInfo(): ConnectionCloseInfo | undefined {
    const state = this.#state;
    return state.name === 'draining' || state.name === 'closed' ? state.info : undefined;
  }

  canEnter(next: ConnectionStateName): boolean {
    return NEXT[this.#state.name].includes(next);
  }

  /** The one place the state changes: checks the transition and clears the old state's timers. */
  enter(next: ConnectionState): void {
    const from = this.#state.name;
    if (!NEXT[from].includes(next.name)) throw new IllegalTransitionError(from, next.name);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#state = next;
  }

  /**
   * Runs `callback` after `ms` unless the current state is left first. `repeat` makes it an
   * interval. Unref'd like every connection timer: the UDP socket decides the process's life.
   */
  own(callback: () => void, ms: number, repeat = false): void {
    const timer: Timer = repeat
      ? setInterval(callback, ms)
      : setTimeout(() => {
          this.#timers.delete(timer);
          callback();
        }, ms);
    timer.unref();
    this.#timers.add(timer);
  }
}
