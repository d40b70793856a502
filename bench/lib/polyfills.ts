import { WebSocket as NodeWebSocket } from 'ws';

/** Only offer WebSocket subprotocols matching `keep` (e.g. force moqt-16 for @moq/net). */
export function restrictWebSocketProtocols(keep: (protocol: string) => boolean): void {
  const g = globalThis as unknown as { WebSocket: unknown };
  class Restricted extends NodeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      const list = (Array.isArray(protocols) ? protocols : protocols ? [protocols] : []).filter(keep);
      super(url, list);
    }
  }
  g.WebSocket = Restricted;
}
