/**
 * The QUIC connection's lifecycle (src/transport/quic/connection-lifecycle.ts) on its own:
 * which transitions are legal, that every path to the end passes through draining (where the
 * application is told), and that a state's timers die with it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionLifecycle, type ConnectionState, type ConnectionStateName, IllegalTransitionError } from '../../src/transport/quic/connection-lifecycle.ts';
import type { ConnectionCloseInfo } from '../../src/transport/quic/quic-errors.ts';

const INFO: ConnectionCloseInfo = { initiator: 'local', isApplication: true, code: 7, reason: 'bye' };

function stateNamed(name: ConnectionStateName): ConnectionState {
  switch (name) {
    case 'handshaking':
      return { name };
    case 'established':
      return { name, since: 0, heardFromPeer: false };
    case 'closing':
      return { name, afterHandshake: true, packetsSent: 0 };
    case 'draining':
    case 'closed':
      return { name, info: INFO };
  }
}

/** A lifecycle walked to `name` along legal transitions. */
function lifecycleIn(name: ConnectionStateName): ConnectionLifecycle {
  const path: Record<ConnectionStateName, ConnectionStateName[]> = {
    handshaking: [],
    established: ['established'],
    closing: ['established', 'closing'],
    draining: ['established', 'closing', 'draining'],
    closed: ['established', 'closing', 'draining', 'closed'],
  };
  const lifecycle = new ConnectionLifecycle();
  for (const step of path[name]) lifecycle.enter(stateNamed(step));
  expect(lifecycle.name).toBe(name);
  return lifecycle;
}

const ALL: ConnectionStateName[] = ['handshaking', 'established', 'closing', 'draining', 'closed'];
const LEGAL = new Set([
  'handshaking→established',
  'handshaking→closing',
  'handshaking→draining',
  'established→closing',
  'established→draining',
  'closing→draining',
  'draining→closed',
]);

describe('connection lifecycle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts handshaking, open and live, without close info', () => {
    const lifecycle = new ConnectionLifecycle();
    expect(lifecycle.name).toBe('handshaking');
    expect(lifecycle.isOpen).toBe(true);
    expect(lifecycle.isLive).toBe(true);
    expect(lifecycle.closeInfo).toBeUndefined();
  });

  for (const from of ALL) {
    for (const to of ALL) {
      const legal = LEGAL.has(`${from}→${to}`);
      it(`${from} → ${to} is ${legal ? 'allowed' : 'refused'}`, () => {
        const lifecycle = lifecycleIn(from);
        expect(lifecycle.canEnter(to)).toBe(legal);
        if (legal) {
          lifecycle.enter(stateNamed(to));
          expect(lifecycle.name).toBe(to);
        } else {
          expect(() => lifecycle.enter(stateNamed(to))).toThrow(IllegalTransitionError);
          expect(lifecycle.name).toBe(from); // a refused transition changes nothing
        }
      });
    }
  }

  it('reaches closed from every live state, and only through draining', () => {
    for (const from of ['handshaking', 'established', 'closing'] as const) {
      const lifecycle = lifecycleIn(from);
      expect(() => lifecycle.enter(stateNamed('closed'))).toThrow(IllegalTransitionError);
      lifecycle.enter(stateNamed('draining'));
      expect(lifecycle.isLive).toBe(false);
      expect(lifecycle.closeInfo).toBe(INFO);
      lifecycle.enter(stateNamed('closed'));
      expect(lifecycle.closeInfo).toBe(INFO);
    }
  });

  it('is open (a close may be requested) only while handshaking or established', () => {
    const open = ALL.filter((name) => lifecycleIn(name).isOpen);
    expect(open).toEqual(['handshaking', 'established']);
    const live = ALL.filter((name) => lifecycleIn(name).isLive);
    expect(live).toEqual(['handshaking', 'established', 'closing']);
  });

  it("clears a state's timers when the state is left", () => {
    const lifecycle = new ConnectionLifecycle();
    const handshakeTimeout = vi.fn();
    lifecycle.own(handshakeTimeout, 100);
    lifecycle.enter(stateNamed('established'));
    const keepAlive = vi.fn();
    lifecycle.own(keepAlive, 10, true);
    vi.advanceTimersByTime(35);
    expect(handshakeTimeout).not.toHaveBeenCalled();
    expect(keepAlive).toHaveBeenCalledTimes(3);
    lifecycle.enter(stateNamed('closing'));
    vi.advanceTimersByTime(200);
    expect(keepAlive).toHaveBeenCalledTimes(3);
    expect(handshakeTimeout).not.toHaveBeenCalled();
  });

  it('fires a timer that its state outlives, once', () => {
    const lifecycle = new ConnectionLifecycle();
    const fired = vi.fn();
    lifecycle.own(fired, 50);
    vi.advanceTimersByTime(60);
    expect(fired).toHaveBeenCalledTimes(1);
    lifecycle.enter(stateNamed('established')); // clearing a fired timer is harmless
    vi.advanceTimersByTime(60);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('keeps a refused transition from clearing timers', () => {
    const lifecycle = lifecycleIn('established');
    const keepAlive = vi.fn();
    lifecycle.own(keepAlive, 10, true);
    expect(() => lifecycle.enter(stateNamed('handshaking'))).toThrow(IllegalTransitionError);
    vi.advanceTimersByTime(25);
    expect(keepAlive).toHaveBeenCalledTimes(2);
  });
});
