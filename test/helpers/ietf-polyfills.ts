import { WebSocket as NodeWebSocket } from 'ws';

/**
 * Node 20 lacks what the published @moq/net client takes for granted: Promise.withResolvers,
 * Set.prototype.difference and a global WebSocket (it falls back to QMux over WebSocket when
 * there is no WebTransport).
 */
export function installIetfClientPolyfills(): void {
  const promise = Promise as unknown as { withResolvers?: unknown };
  promise.withResolvers ??= function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const created = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: created, resolve, reject };
  };
  const sets = Set.prototype as unknown as { difference?: unknown };
  sets.difference ??= function difference<T>(this: Set<T>, other: ReadonlySet<T>): Set<T> {
    const out = new Set<T>();
    for (const value of this) if (!other.has(value)) out.add(value);
    return out;
  };
  const global = globalThis as unknown as { WebSocket?: unknown };
  global.WebSocket ??= NodeWebSocket;
}
