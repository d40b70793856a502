/**
 * The varint at the start of every moq-lite stream (draft-lcurley-moq-lite "STREAM_TYPE").
 *
 * Bidi streams: 0 Session (lite-01/02 native SETUP), 1 Announce, 2 Subscribe, 3 Fetch (03+),
 * 4 Probe (03+), 5 Goaway (04), and 0x20 the `moql` CLIENT_SETUP compat stream, answered with 0x21.
 * Uni streams: 0 Group.
 */

export const BidiStreamType = {
  Session: 0x0,
  Announce: 0x1,
  Subscribe: 0x2,
  Fetch: 0x3,
  Probe: 0x4,
  Goaway: 0x5,
  ClientSetupCompat: 0x20,
} as const;

export type BidiStreamType = (typeof BidiStreamType)[keyof typeof BidiStreamType];

/** Type that starts the server's reply on the compat stream. */
export const SERVER_SETUP_COMPAT = 0x21;

export const UniStreamType = {
  Group: 0x0,
} as const;

export type UniStreamType = (typeof UniStreamType)[keyof typeof UniStreamType];
