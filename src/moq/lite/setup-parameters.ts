/**
 * Draft-14 setup parameters, as carried by the `moql` CLIENT_SETUP / SERVER_SETUP
 * (draft-ietf-moq-transport-14 §9.3 "Setup Parameters"): a count, then per parameter a type
 * varint; even types carry one varint value, odd types a length-prefixed byte string.
 */
import type { ByteReader } from '../../wire/byte-reader.ts';
import type { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError } from '../../wire/errors.ts';

export const SetupParameter = {
  Path: 0x1n,
  MaxRequestId: 0x2n,
  AuthorizationToken: 0x3n,
  Implementation: 0x7n,
} as const;

/** More than any real client sends; bounds the work a hostile count can cause. */
const MAX_PARAMETERS = 64;

export interface SetupParameters {
  /** Even parameter types. */
  varints: Map<bigint, bigint>;
  /** Odd parameter types. */
  bytes: Map<bigint, Uint8Array>;
}

export function emptySetupParameters(): SetupParameters {
  return { varints: new Map(), bytes: new Map() };
}

export function writeSetupParameters(writer: ByteWriter, parameters: SetupParameters): void {
  writer.varint(parameters.varints.size + parameters.bytes.size);
  for (const [type, value] of parameters.varints) {
    if (type % 2n !== 0n) throw new RangeError(`varint parameter type must be even: ${type}`);
    writer.varint(type).varint(value);
  }
  for (const [type, value] of parameters.bytes) {
    if (type % 2n !== 1n) throw new RangeError(`bytes parameter type must be odd: ${type}`);
    writer.varint(type).lengthPrefixedBytes(value);
  }
}

export function readSetupParameters(reader: ByteReader): SetupParameters {
  // Each parameter is at least two bytes (type + value or length).
  const count = reader.count('setup parameter count', MAX_PARAMETERS, 2);
  const parameters = emptySetupParameters();
  for (let i = 0; i < count; i++) {
    const type = reader.varintBig();
    if (parameters.varints.has(type) || parameters.bytes.has(type)) {
      throw new ProtocolError('invalid-value', `duplicate setup parameter 0x${type.toString(16)}`);
    }
    if (type % 2n === 0n) parameters.varints.set(type, reader.varintBig());
    else parameters.bytes.set(type, reader.lengthPrefixedBytes());
  }
  return parameters;
}
