/**
 * IETF moq-transport versions this gateway speaks and how each one is chosen.
 *
 * - draft-16: the WebTransport protocol / ALPN `moqt-16` pins the version; CLIENT_SETUP carries no
 *   version list (draft-ietf-moq-transport-16 §3.1 "Always use ALPN for version negotiation").
 * - draft-14: ALPN `moq-00`, or the shared `moql` / no-protocol path, where the version is picked
 *   from CLIENT_SETUP's list (draft-14 §9.3.1); 0xff00000e is draft-14.
 *
 * - draft-18: `moqt-18` pins the version (draft-18 §3.1); vi64 integers, one SETUP (0x2F00) per peer
 *   on a unidirectional control stream, one bidi stream per request (see DRAFTS.md). The session
 *   serves SUBSCRIBE, FETCH, TRACK_STATUS, SUBSCRIBE_NAMESPACE, REQUEST_UPDATE, PUBLISH_NAMESPACE
 *   (subscribing upstream on request streams it opens) and PUBLISH; it refuses SUBSCRIBE_TRACKS.
 *   It ranks after `moqt-16` in MOQ_PROTOCOLS.
 * - draft-19: `moqt-19`, draft-18's streams and codecs with the draft-19 row of the dialect table
 *   (draft18/control-codec.ts: GOAWAY without Request ID, PUBLISH answered by REQUEST_OK,
 *   PUBLISH_SKIPPED for PUBLISH_BLOCKED). Range filters (0x25–0x29) are not implemented.
 *   On raw QUIC the SETUP PATH option is not read yet (src/moq/session-target.ts): the default path.
 *
 * The relay below never sees versions.
 */
import { MoqProtocolName } from '../../moq-protocols.ts';

export type IetfVersion = 'draft-14' | 'draft-16' | 'draft-18' | 'draft-19';

/** Version numbers as carried in SETUP (0xff000000 + draft number). */
export const IETF_VERSION_NUMBER: Readonly<Record<IetfVersion, number>> = {
  'draft-14': 0xff00000e,
  'draft-16': 0xff000010,
  'draft-18': 0xff000012,
  'draft-19': 0xff000013,
};

/** WebTransport subprotocol / ALPN for each version. */
export const IETF_ALPN: Readonly<Record<IetfVersion, string>> = {
  'draft-14': MoqProtocolName.ietf14,
  'draft-16': MoqProtocolName.ietf16,
  'draft-18': MoqProtocolName.ietf18,
  'draft-19': MoqProtocolName.ietf19,
};

/** The version pinned by a negotiated protocol; undefined for `moql`, '' and anything unknown. */
export function ietfVersionFromProtocol(protocol: string): IetfVersion | undefined {
  if (protocol === IETF_ALPN['draft-19']) return 'draft-19';
  if (protocol === IETF_ALPN['draft-18']) return 'draft-18';
  if (protocol === IETF_ALPN['draft-16']) return 'draft-16';
  if (protocol === IETF_ALPN['draft-14']) return 'draft-14';
  return undefined;
}

/**
 * The IETF version to answer a CLIENT_SETUP version list with, or undefined when it offers none we
 * speak. Only draft-14 negotiates in SETUP; later drafts are pinned by ALPN and never appear here.
 */
export function selectIetfVersion(offered: readonly number[]): IetfVersion | undefined {
  return offered.includes(IETF_VERSION_NUMBER['draft-14']) ? 'draft-14' : undefined;
}

/** Drafts 18+ put each request on its own bidi stream and the control on uni streams (draft-18 §3.3). */
export function usesRequestStreams(version: IetfVersion): boolean {
  return version === 'draft-18' || version === 'draft-19';
}
