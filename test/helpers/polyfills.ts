import { WebSocket as NodeWebSocket } from 'ws';

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
