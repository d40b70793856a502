/**
 * Setup Parameters (draft-16 §9.3.2, draft-14 §9.3.2). Their type numbers are shared by every
 * version; draft-16 delta-encodes the types. Unknown setup parameters are ignored and may repeat.
 */
import type { ByteReader, IntegerFormat } from '../../../wire/byte-reader.ts';
import type { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_PARAMETERS } from '../limits.ts';
import type { SetupParameters } from '../messages.ts';
import { type KeyValuePair, readKeyValuePairs, type TypeEncoding, varintValue, writeKeyValuePairs } from './key-value.ts';
import { decodeToken, encodeToken } from './token.ts';

const SetupParameterType = {
  path: 0x01n,
  maxRequestId: 0x02n,
  authorizationToken: 0x03n,
  maxAuthTokenCacheSize: 0x04n,
  authority: 0x05n,
  implementation: 0x07n,
} as const;

const lenientUtf8 = new TextDecoder('utf-8');
const utf8 = new TextEncoder();

export function readSetupParameters(reader: ByteReader, encoding: TypeEncoding): SetupParameters {
  const count = reader.count('setup parameter count', MAX_PARAMETERS, 2);
  return setupParametersFromPairs(readKeyValuePairs(reader, count, encoding));
}

/** The typed parameters of decoded pairs (draft-14 bodies come from src/moq/setup-codec.ts). */
export function setupParametersFromPairs(pairs: readonly KeyValuePair[], integers: IntegerFormat = 'quic'): SetupParameters {
  const parameters: SetupParameters = { authorizationTokens: [] };
  const seen = new Set<bigint>();
  for (const pair of pairs) {
    const known = Object.values(SetupParameterType).includes(pair.type as (typeof SetupParameterType)[keyof typeof SetupParameterType]);
    if (known && pair.type !== SetupParameterType.authorizationToken) {
      if (seen.has(pair.type)) throw violation(`duplicate setup parameter 0x${pair.type.toString(16)}`);
      seen.add(pair.type);
    }
    applySetupParameter(parameters, pair, integers);
  }
  return parameters;
}

function applySetupParameter(parameters: SetupParameters, pair: KeyValuePair, integers: IntegerFormat): void {
  switch (pair.type) {
    case SetupParameterType.path:
      parameters.path = text(pair);
      break;
    case SetupParameterType.authority:
      parameters.authority = text(pair);
      break;
    case SetupParameterType.implementation:
      parameters.implementation = text(pair);
      break;
    case SetupParameterType.maxRequestId:
      parameters.maxRequestId = varintValue(pair, 'MAX_REQUEST_ID');
      break;
    case SetupParameterType.maxAuthTokenCacheSize:
      parameters.maxAuthTokenCacheSize = varintValue(pair, 'MAX_AUTH_TOKEN_CACHE_SIZE');
      break;
    case SetupParameterType.authorizationToken:
      if (pair.value instanceof Uint8Array) parameters.authorizationTokens.push(decodeToken(pair.value, integers));
      break;
    default:
      break;
  }
}

function text(pair: KeyValuePair): string | undefined {
  return pair.value instanceof Uint8Array ? lenientUtf8.decode(pair.value) : undefined;
}

export function writeSetupParameters(writer: ByteWriter, parameters: SetupParameters, encoding: TypeEncoding): void {
  const pairs = setupParameterPairs(parameters);
  writer.varint(pairs.length);
  writeKeyValuePairs(writer, pairs, encoding);
}

/** The pairs that carry `parameters`, in the order they go out. */
export function setupParameterPairs(parameters: SetupParameters, integers: IntegerFormat = 'quic'): KeyValuePair[] {
  const pairs: KeyValuePair[] = [];
  if (parameters.path !== undefined) pairs.push({ type: SetupParameterType.path, value: utf8.encode(parameters.path) });
  if (parameters.maxRequestId !== undefined) pairs.push({ type: SetupParameterType.maxRequestId, value: BigInt(parameters.maxRequestId) });
  for (const token of parameters.authorizationTokens) pairs.push({ type: SetupParameterType.authorizationToken, value: encodeToken(token, integers) });
  if (parameters.maxAuthTokenCacheSize !== undefined) {
    pairs.push({ type: SetupParameterType.maxAuthTokenCacheSize, value: BigInt(parameters.maxAuthTokenCacheSize) });
  }
  if (parameters.authority !== undefined) pairs.push({ type: SetupParameterType.authority, value: utf8.encode(parameters.authority) });
  if (parameters.implementation !== undefined) pairs.push({ type: SetupParameterType.implementation, value: utf8.encode(parameters.implementation) });
  return pairs;
}
