/**
 * Choosing the WebSocket subprotocol for a MoQ session. Clients offer `<framing>.<alpn>` pairs
 * and bare framings (@moq/lite 0.2.2: `qmux-00.X`, `webtransport.X`, `qmux-00`, `webtransport`;
 * @moq/net: `qmux-02/01/00.X` and bare ones). Our preference decides, not the client's
 * (draft-lcurley-qmux-websocket §Negotiation).
 */

import { MOQ_PROTOCOLS, type MoqProtocol } from '../moq-protocols.ts';

/** WebSocket framings, most preferred first: QMux drafts, then web-transport-ws. */
const WS_FRAMINGS = ['qmux-02', 'qmux-01', 'qmux-00', 'webtransport'] as const;
export type WsFraming = (typeof WS_FRAMINGS)[number];

export interface SubprotocolChoice {
  /** The exact `Sec-WebSocket-Protocol` value to accept. */
  wire: string;
  framing: WsFraming;
  /** The MoQ protocol; '' when the client offered only a bare framing (version set in SETUP). */
  protocol: MoqProtocol;
}

export function chooseSubprotocol(offered: Iterable<string>): SubprotocolChoice | undefined {
  const set = new Set([...offered].map((p) => p.trim()).filter((p) => p.length > 0));
  for (const protocol of MOQ_PROTOCOLS) {
    for (const framing of WS_FRAMINGS) {
      const wire = `${framing}.${protocol}`;
      if (set.has(wire)) return { wire, framing, protocol };
    }
  }
  for (const framing of WS_FRAMINGS) {
    if (set.has(framing)) return { wire: framing, framing, protocol: '' };
  }
  return undefined;
}
