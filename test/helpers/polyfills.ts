import { WebSocket as NodeWebSocket } from 'ws';

/**
 * What the published @moq clients expect from a browser that Node 20 lacks:
 * Promise.withResolvers, Set.prototype.difference (ES2024/2025) and a global WebSocket.
 */
export function installMoqClientPolyfills(): void {
  const promise = Promise as unknown as { withResolvers?: unknown };
  promise.withResolvers ??= function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  const setProto = Set.prototype as unknown as { difference?: unknown };
  setProto.difference ??= function difference<T>(this: Set<T>, other: ReadonlySet<T>): Set<T> {
    const out = new Set<T>();
    for (const value of this) if (!other.has(value)) out.add(value);
    return out;
  };
  const g = globalThis as unknown as { WebSocket?: unknown };
  g.WebSocket ??= NodeWebSocket;
}

/**
 * A global WebSocket that only offers the subprotocols matching `keep`, so a test can force
 * one framing (e.g. only `webtransport*` or only `qmux-00*`).
 */
export function restrictWebSocketProtocols(keep: (protocol: string) => boolean): () => void {
  const g = globalThis as unknown as { WebSocket: unknown };
  const previous = g.WebSocket;
  class Restricted extends NodeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      const list = (Array.isArray(protocols) ? protocols : protocols ? [protocols] : []).filter(keep);
      super(url, list);
    }
  }
  g.WebSocket = Restricted;
  return () => {
    g.WebSocket = previous;
  };
}
