/**
 * moq-lite versions this gateway speaks and what each one carries on the wire.
 *
 * How the version is chosen (draft-lcurley-moq-lite Appendix A):
 * - `moq-lite-03`, `moq-lite-04`: the WebTransport/ALPN protocol pins it; no SETUP at all.
 * - `moql` or no protocol: the client opens a bidi stream with a draft-14 style CLIENT_SETUP
 *   (stream type 0x20) listing versions; the server answers 0x21 SERVER_SETUP (lite-01/02 only).
 */
import { MoqProtocolName } from '../../moq-protocols.ts';

export const LiteVersion = {
  Draft01: 0xff0dad01,
  Draft02: 0xff0dad02,
  Draft03: 0xff0dad03,
  Draft04: 0xff0dad04,
} as const;

export type LiteVersion = (typeof LiteVersion)[keyof typeof LiteVersion];

/** WebTransport subprotocol / ALPN strings. */
export const LiteProtocol = {
  /** Version negotiated inside CLIENT_SETUP. */
  Compat: MoqProtocolName.compat,
  Draft03: MoqProtocolName.lite03,
  Draft04: MoqProtocolName.lite04,
} as const;

/** Versions a `moql` CLIENT_SETUP may select, in our order of preference. */
export const SETUP_NEGOTIATED_VERSIONS: readonly LiteVersion[] = [LiteVersion.Draft02, LiteVersion.Draft01];

export function isLiteVersion(value: number): value is LiteVersion {
  return (Object.values(LiteVersion) as number[]).includes(value);
}

/** The version pinned by the negotiated protocol, or undefined when SETUP must decide (`moql`, ''). */
export function versionFromProtocol(protocol: string): LiteVersion | undefined {
  switch (protocol) {
    case LiteProtocol.Draft04:
      return LiteVersion.Draft04;
    case LiteProtocol.Draft03:
      return LiteVersion.Draft03;
    default:
      return undefined;
  }
}

export function versionName(version: LiteVersion): string {
  return `moq-lite-0${version & 0xf}`;
}

/** lite-01/02: ANNOUNCE_INIT lists the active suffixes before the ANNOUNCE updates. */
export function hasAnnounceInit(version: LiteVersion): boolean {
  return version <= LiteVersion.Draft02;
}

/**
 * lite-03+: SUBSCRIBE/SUBSCRIBE_UPDATE/SUBSCRIBE_OK carry ordered, max latency, start and end
 * group; SUBSCRIBE_OK is prefixed with a response type (OK or DROP); FETCH and PROBE exist.
 */
export function hasSubscribeRanges(version: LiteVersion): boolean {
  return version >= LiteVersion.Draft03;
}

export function hasFetch(version: LiteVersion): boolean {
  return version >= LiteVersion.Draft03;
}

export function hasProbe(version: LiteVersion): boolean {
  return version >= LiteVersion.Draft03;
}

/** lite-04: PROBE carries an RTT after the bitrate. */
export function hasProbeRtt(version: LiteVersion): boolean {
  return version >= LiteVersion.Draft04;
}

/** lite-04: GOAWAY stream. */
export function hasGoaway(version: LiteVersion): boolean {
  return version >= LiteVersion.Draft04;
}

