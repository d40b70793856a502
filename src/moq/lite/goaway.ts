/**
 * GOAWAY (bidi type 5, lite-04): graceful shutdown, optionally naming a URI to reconnect to
 * (empty = just close).
 */
import { ProtocolError } from '../../wire/errors.ts';
import { decodeMessage, encodeMessage } from './message.ts';
import { hasGoaway, type LiteVersion } from './version.ts';

export interface Goaway {
  uri: string;
}

export function encodeGoaway(message: Goaway, version: LiteVersion): Uint8Array {
  if (!hasGoaway(version)) throw new RangeError('GOAWAY exists only in lite-04');
  return encodeMessage((w) => w.string(message.uri));
}

export function decodeGoaway(body: Uint8Array, version: LiteVersion): Goaway {
  if (!hasGoaway(version)) throw new ProtocolError('unsupported-version', 'GOAWAY exists only in lite-04');
  return decodeMessage(body, 'GOAWAY', (r) => ({ uri: r.string() }));
}
