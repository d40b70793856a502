/**
 * The `moql` compat handshake: a client that negotiated `moql` (or no WebTransport protocol)
 * opens a bidi stream with type 0x20 and a draft-14 CLIENT_SETUP; the server answers on the same
 * stream with 0x21 and a draft-14 SERVER_SETUP naming the chosen version. Both messages use a
 * big-endian u16 length (draft-ietf-moq-transport-14 §9.3), not the lite varint length.
 *
 * A lite-01/02 client offers e.g. [0xff0dad02, 0xff0dad01, 0xff00000e]; the last is IETF draft-14,
 * which the caller may route to the moq-transport session instead. The bodies are the IETF
 * draft-14 ones, read and written by the shared codec (src/moq/setup-codec.ts).
 */
import { ByteReader } from '../../wire/byte-reader.ts';
import { ByteWriter, withU16Length } from '../../wire/byte-writer.ts';
import { readClientSetupBody, readServerSetupBody, writeClientSetupBody, writeServerSetupBody } from '../setup-codec.ts';
import { type SetupParameters, setupParameterPairs, setupParametersFromPairs } from './setup-parameters.ts';

export interface ClientSetup {
  versions: number[];
  parameters: SetupParameters;
}

export interface ServerSetup {
  version: number;
  parameters: SetupParameters;
}

/** Full CLIENT_SETUP message (u16 length + body), without the 0x20 stream type. */
export function encodeClientSetup(message: ClientSetup): Uint8Array {
  const body = new ByteWriter();
  writeClientSetupBody(body, { versions: message.versions, parameters: setupParameterPairs(message.parameters) });
  return withU16Length(body.finish());
}

/** Decodes a CLIENT_SETUP body (after the u16 length). */
export function decodeClientSetup(body: Uint8Array): ClientSetup {
  const reader = new ByteReader(body);
  const { versions, parameters } = readClientSetupBody(reader);
  reader.expectEnd('CLIENT_SETUP');
  return { versions, parameters: setupParametersFromPairs(parameters) };
}

/** Full SERVER_SETUP message (u16 length + body), without the 0x21 type. */
export function encodeServerSetup(message: ServerSetup): Uint8Array {
  const body = new ByteWriter();
  writeServerSetupBody(body, { version: message.version, parameters: setupParameterPairs(message.parameters) });
  return withU16Length(body.finish());
}

export function decodeServerSetup(body: Uint8Array): ServerSetup {
  const reader = new ByteReader(body);
  const { version, parameters } = readServerSetupBody(reader);
  reader.expectEnd('SERVER_SETUP');
  return { version, parameters: setupParametersFromPairs(parameters) };
}

/** The first of our `preferred` versions that the client offered. */
export function chooseVersion<V extends number>(offered: readonly number[], preferred: readonly V[]): V | undefined {
  return preferred.find((version) => offered.includes(version));
}
