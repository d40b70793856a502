/**
 * FETCH (bidi type 3, lite-03+): one group of one track, HTTP-like. The publisher answers with
 * FRAMEs (varint size + payload) on the same stream and FINs after the last one, or resets it.
 */
import { ProtocolError } from '../../wire/errors.ts';
import { decodeMessage, encodeMessage } from './message.ts';
import { hasFetch, type LiteVersion } from './version.ts';

export interface Fetch {
  broadcast: string;
  track: string;
  priority: number;
  group: number;
}

export function encodeFetch(message: Fetch, version: LiteVersion): Uint8Array {
  if (!hasFetch(version)) throw new RangeError('FETCH exists only in lite-03+');
  return encodeMessage((w) => w.string(message.broadcast).string(message.track).u8(message.priority).varint(message.group));
}

export function decodeFetch(body: Uint8Array, version: LiteVersion): Fetch {
  if (!hasFetch(version)) throw new ProtocolError('unsupported-version', 'FETCH exists only in lite-03+');
  return decodeMessage(body, 'FETCH', (r) => ({ broadcast: r.string(), track: r.string(), priority: r.u8(), group: r.varint() }));
}
