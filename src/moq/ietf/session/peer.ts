/**
 * Who the peer says it is (the MOQT IMPLEMENTATION setup parameter 0x07, draft-16 §9.3.2
 * "Setup Parameters"; draft-14 clients send it too) and the known limits of deployed clients that we work around, keyed by it. A
 * workaround never changes what any other peer gets.
 */
import type { IetfPeer } from '../media-bridge.ts';
import { usesRequestStreams } from '../version.ts';

export interface PeerQuirks {
  /**
   * The peer reads SUBSCRIBE_OK only up to its parameters and parses any Track Extensions after
   * them as the next control message (Shaka Player 5.2.12: "TODO: read track extensions", so
   * DEFAULT_PUBLISHER_PRIORITY 0x0E reads as TRACK_STATUS_OK and its control stream dies).
   * Such a peer gets SUBSCRIBE_OK without them, and "publisher's order" means ascending, which is
   * what an omitted DEFAULT_PUBLISHER_GROUP_ORDER says (draft-16 "DEFAULT PUBLISHER GROUP ORDER",
   * {#group-order-pref}: "If omitted, the publisher's preference is Ascending"). Subgroup headers carry the publisher priority anyway.
   */
  dropsTrackExtensions: boolean;
  /**
   * draft-18+: the peer length-prefixes LARGEST_OBJECT's Location (@moq/net 0.3.4, which names
   * itself `moq-lite-js`; its ietf/parameters.js applies the Key-Value-Pair odd-type rule), where
   * draft-18 §9.2 has "two consecutive varints". We read and write its form so its SUBSCRIBE_OK
   * decode does not fail on tracks that already have objects.
   */
  lengthPrefixedLocation: boolean;
}

const SHAKA = /^ShakaPlayer\//;
const MOQ_NET = 'moq-lite-js';

export function peerQuirks(peer: IetfPeer): PeerQuirks {
  return {
    dropsTrackExtensions: peer.version !== 'draft-14' && SHAKA.test(peer.implementation ?? ''),
    lengthPrefixedLocation: usesRequestStreams(peer.version) && peer.implementation === MOQ_NET,
  };
}
