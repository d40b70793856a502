/**
 * Draft-14 setup parameters, as carried by the `moql` CLIENT_SETUP / SERVER_SETUP
 * (draft-ietf-moq-transport-14 §9.3 "Setup Parameters"): even types carry one varint value,
 * odd types a length-prefixed byte string. The bytes are read and written by the shared
 * codec (src/moq/setup-codec.ts); this is moq-lite's view of them.
 */
import { ProtocolError } from '../../wire/errors.ts';
import type { KeyValuePair } from '../ietf/wire/key-value.ts';

export const SetupParameter = {
  Path: 0x1n,
  MaxRequestId: 0x2n,
  AuthorizationToken: 0x3n,
  Implementation: 0x7n,
} as const;

export interface SetupParameters {
  /** Even parameter types. */
  varints: Map<bigint, bigint>;
  /** Odd parameter types. */
  bytes: Map<bigint, Uint8Array>;
}

export function emptySetupParameters(): SetupParameters {
  return { varints: new Map(), bytes: new Map() };
}

/** The pairs that carry `parameters`: varints, then byte strings. */
export function setupParameterPairs(parameters: SetupParameters): KeyValuePair[] {
  const pairs: KeyValuePair[] = [];
  for (const [type, value] of parameters.varints) {
    if (type % 2n !== 0n) throw new RangeError(`varint parameter type must be even: ${type}`);
    pairs.push({ type, value });
  }
  for (const [type, value] of parameters.bytes) {
    if (type % 2n !== 1n) throw new RangeError(`bytes parameter type must be odd: ${type}`);
    pairs.push({ type, value });
  }
  return pairs;
}

/** Decoded pairs as parameters; moq-lite refuses a repeated type, known or not. */
export function setupParametersFromPairs(pairs: readonly KeyValuePair[]): SetupParameters {
  const parameters = emptySetupParameters();
  for (const { type, value } of pairs) {
    if (parameters.varints.has(type) || parameters.bytes.has(type)) {
      throw new ProtocolError('invalid-value', `duplicate setup parameter 0x${type.toString(16)}`);
    }
    if (typeof value === 'bigint') parameters.varints.set(type, value);
    else parameters.bytes.set(type, value);
  }
  return parameters;
}
