/**
 * The draft-14 style SETUP bodies (draft-ietf-moq-transport-14 §9.3), one codec for everyone
 * who speaks them: IETF draft-14 (ietf/draft14/control-codec.ts), moq-lite's `moql` compat
 * handshake (lite/setup-compat.ts) and, through the IETF codec, the `moql` / raw-QUIC peek
 * (setup-peek.ts).
 *
 *   CLIENT_SETUP body: Number of Supported Versions (i), Supported Versions (i) ...,
 *                      Number of Parameters (i), Setup Parameters ...
 *   SERVER_SETUP body: Selected Version (i), Number of Parameters (i), Setup Parameters ...
 *
 * Parameters are Key-Value-Pairs with absolute types (§1.4.2); each caller maps the pairs to its
 * own view (IETF: typed fields; moq-lite: varint and byte maps).
 */
import type { ByteReader } from '../wire/byte-reader.ts';
import type { ByteWriter } from '../wire/byte-writer.ts';
import { MAX_PARAMETERS, MAX_SETUP_VERSIONS } from './ietf/limits.ts';
import { type KeyValuePair, readKeyValuePairs, writeKeyValuePairs } from './ietf/wire/key-value.ts';

export interface ClientSetupBody {
  versions: number[];
  parameters: KeyValuePair[];
}

export interface ServerSetupBody {
  version: number;
  parameters: KeyValuePair[];
}

export function readClientSetupBody(reader: ByteReader): ClientSetupBody {
  const count = reader.count('version count', MAX_SETUP_VERSIONS, 1);
  const versions: number[] = [];
  for (let i = 0; i < count; i++) versions.push(reader.varint());
  return { versions, parameters: readSetupParameterPairs(reader) };
}

export function writeClientSetupBody(writer: ByteWriter, body: ClientSetupBody): void {
  writer.varint(body.versions.length);
  for (const version of body.versions) writer.varint(version);
  writeSetupParameterPairs(writer, body.parameters);
}

export function readServerSetupBody(reader: ByteReader): ServerSetupBody {
  const version = reader.varint();
  return { version, parameters: readSetupParameterPairs(reader) };
}

export function writeServerSetupBody(writer: ByteWriter, body: ServerSetupBody): void {
  writer.varint(body.version);
  writeSetupParameterPairs(writer, body.parameters);
}

function readSetupParameterPairs(reader: ByteReader): KeyValuePair[] {
  // Each parameter is at least two bytes (type + value or length).
  const count = reader.count('setup parameter count', MAX_PARAMETERS, 2);
  return readKeyValuePairs(reader, count, 'absolute');
}

function writeSetupParameterPairs(writer: ByteWriter, pairs: readonly KeyValuePair[]): void {
  writer.varint(pairs.length);
  writeKeyValuePairs(writer, pairs, 'absolute');
}
