/**
 * WebTransport over HTTP/3 codepoints (draft-ietf-webtrans-http3) and the mapping of 32-bit
 * application stream error codes into the HTTP/3 error space (§4.4), skipping the reserved
 * GREASE codepoints 0x1f * N + 0x21 (RFC 9114 §8.1).
 */
export const WebTransportStreamType = {
  /** First varint of a bidirectional WebTransport stream (§4.2). */
  Bidirectional: 0x41,
  /** Unidirectional stream type (§4.1). */
  Unidirectional: 0x54,
} as const;

export const WebTransportErrorCode = {
  BufferedStreamRejected: 0x3994bd84,
  SessionGone: 0x170d7b68,
  FlowControlError: 0x045d4487,
  AlpnError: 0x0817b3dd,
  RequirementsNotMet: 0x212c0d48,
} as const;

const FIRST = 0x52e4a40fa8db;
const LAST = 0x52e5ac983162;

export function applicationCodeToHttp3(code: number): number {
  const n = Math.min(Math.max(Math.trunc(code), 0), 0xffffffff);
  return FIRST + n + Math.floor(n / 0x1e);
}

/** The application code carried by an HTTP/3 code, or null if it is not one (e.g. WT_SESSION_GONE). */
export function http3CodeToApplication(code: number): number | null {
  if (!Number.isSafeInteger(code) || code < FIRST || code > LAST || (code - 0x21) % 0x1f === 0) return null;
  const shifted = code - FIRST;
  return shifted - Math.floor(shifted / 0x1f);
}
