/**
 * Message Parameters: a count, then Key-Value-Pairs whose type numbers are version specific
 * (draft-16 §9.2.1 and its IANA table; draft-14 §9.2.1 "Version Specific Parameters").
 *
 * draft-14 knows only AUTHORIZATION_TOKEN, DELIVERY_TIMEOUT and MAX_CACHE_DURATION and ignores the
 * rest; draft-16 moves priority, group order, filter and forward into parameters and treats an
 * unknown parameter as a PROTOCOL_VIOLATION. A known parameter may not repeat (except the token).
 */
import { ByteReader } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_PARAMETERS } from '../limits.ts';
import type { MessageParameters } from '../messages.ts';
import { decodeGroupOrder, encodeGroupOrder, readFilter, writeFilter } from './filter.ts';
import { formatting, type KeyValuePair, readKeyValuePairs, varintValue, writeKeyValuePairs } from './key-value.ts';
import { readLocation, writeLocation } from './location.ts';
import { decodeToken, encodeToken } from './token.ts';

export type ParameterName = Exclude<keyof MessageParameters, 'authorizationTokens'> | 'authorizationToken';

export interface ParameterDialect {
  /** draft-16 delta-encodes parameter types. */
  encoding: 'absolute' | 'delta';
  /** draft-16: an unknown parameter closes the session. */
  rejectUnknown: boolean;
  types: Readonly<Partial<Record<ParameterName, bigint>>>;
}

export const DRAFT14_PARAMETERS: ParameterDialect = {
  encoding: 'absolute',
  rejectUnknown: false,
  types: { deliveryTimeoutMs: 0x02n, authorizationToken: 0x03n, maxCacheDurationMs: 0x04n },
};

export const DRAFT16_PARAMETERS: ParameterDialect = {
  encoding: 'delta',
  rejectUnknown: true,
  types: {
    deliveryTimeoutMs: 0x02n,
    authorizationToken: 0x03n,
    expiresMs: 0x08n,
    largest: 0x09n,
    forward: 0x10n,
    subscriberPriority: 0x20n,
    filter: 0x21n,
    groupOrder: 0x22n,
    newGroupRequest: 0x32n,
  },
};

export function readParameters(reader: ByteReader, dialect: ParameterDialect): MessageParameters {
  const count = reader.count('parameter count', MAX_PARAMETERS, 2);
  const names = new Map<bigint, ParameterName>();
  for (const [name, type] of Object.entries(dialect.types) as [ParameterName, bigint][]) names.set(type, name);
  const parameters: MessageParameters = { authorizationTokens: [] };
  const seen = new Set<ParameterName>();
  for (const pair of readKeyValuePairs(reader, count, dialect.encoding)) {
    const name = names.get(pair.type);
    if (name === undefined) {
      if (dialect.rejectUnknown) throw violation(`unknown message parameter 0x${pair.type.toString(16)}`);
      continue;
    }
    if (name !== 'authorizationToken') {
      if (seen.has(name)) throw violation(`duplicate message parameter 0x${pair.type.toString(16)}`);
      seen.add(name);
    }
    applyParameter(parameters, name, pair);
  }
  return parameters;
}

function applyParameter(parameters: MessageParameters, name: ParameterName, pair: KeyValuePair): void {
  switch (name) {
    case 'authorizationToken':
      parameters.authorizationTokens.push(decodeToken(bytesOf(pair, 'AUTHORIZATION_TOKEN')));
      return;
    case 'deliveryTimeoutMs': {
      const value = varintValue(pair, 'DELIVERY_TIMEOUT');
      // draft-16 §9.2.1.2: a zero timeout is a protocol violation.
      if (value === 0) throw violation('DELIVERY_TIMEOUT must be greater than 0');
      parameters.deliveryTimeoutMs = value;
      return;
    }
    case 'maxCacheDurationMs':
      parameters.maxCacheDurationMs = varintValue(pair, 'MAX_CACHE_DURATION');
      return;
    case 'expiresMs':
      parameters.expiresMs = varintValue(pair, 'EXPIRES');
      return;
    case 'newGroupRequest':
      parameters.newGroupRequest = varintValue(pair, 'NEW_GROUP_REQUEST');
      return;
    case 'subscriberPriority': {
      const value = varintValue(pair, 'SUBSCRIBER_PRIORITY');
      if (value > 255) throw violation(`SUBSCRIBER_PRIORITY ${value} exceeds 255`);
      parameters.subscriberPriority = value;
      return;
    }
    case 'groupOrder':
      // draft-16 §9.2.2.4 (GROUP ORDER Parameter) lists only 1 and 2, but §7.1 (Priorities,
      // Definitions) has the publisher's preference used when the subscriber "did not express one
      // (by setting Group Order field to value 0x0)", and Shaka Player's MSF client sends 0 on every
      // SUBSCRIBE: be liberal and read 0 as "no preference", the same as omitting the parameter.
      parameters.groupOrder = decodeGroupOrder(varintValue(pair, 'GROUP_ORDER'));
      return;
    case 'forward': {
      const value = varintValue(pair, 'FORWARD');
      if (value > 1) throw violation(`FORWARD must be 0 or 1, got ${value}`);
      parameters.forward = value === 1;
      return;
    }
    case 'filter': {
      // §9.2.1.5: a filter whose length does not match the parameter length is a violation.
      const reader = new ByteReader(bytesOf(pair, 'SUBSCRIPTION_FILTER'));
      parameters.filter = readFilter(reader);
      if (!reader.atEnd) throw violation('SUBSCRIPTION_FILTER length does not match its filter');
      return;
    }
    case 'largest': {
      const reader = new ByteReader(bytesOf(pair, 'LARGEST_OBJECT'));
      try {
        parameters.largest = readLocation(reader);
        reader.expectEnd('LARGEST_OBJECT');
      } catch {
        throw formatting('LARGEST_OBJECT is not a Location');
      }
      return;
    }
  }
}

function bytesOf(pair: KeyValuePair, what: string): Uint8Array {
  if (!(pair.value instanceof Uint8Array)) throw formatting(`${what} must be bytes`);
  return pair.value;
}

/** Writes the count and the parameters this dialect can carry; others are dropped. */
export function writeParameters(writer: ByteWriter, parameters: MessageParameters, dialect: ParameterDialect): void {
  const pairs: KeyValuePair[] = [];
  const add = (name: ParameterName, value: bigint | Uint8Array | undefined): void => {
    const type = dialect.types[name];
    if (type !== undefined && value !== undefined) pairs.push({ type, value });
  };
  for (const token of parameters.authorizationTokens) add('authorizationToken', encodeToken(token));
  add('deliveryTimeoutMs', optionalBig(parameters.deliveryTimeoutMs));
  add('maxCacheDurationMs', optionalBig(parameters.maxCacheDurationMs));
  add('expiresMs', optionalBig(parameters.expiresMs));
  add('newGroupRequest', optionalBig(parameters.newGroupRequest));
  add('subscriberPriority', optionalBig(parameters.subscriberPriority));
  if (parameters.groupOrder !== undefined) add('groupOrder', BigInt(encodeGroupOrder(parameters.groupOrder)));
  if (parameters.forward !== undefined) add('forward', parameters.forward ? 1n : 0n);
  if (parameters.filter !== undefined) {
    const filter = new ByteWriter(16);
    writeFilter(filter, parameters.filter);
    add('filter', filter.finish());
  }
  if (parameters.largest !== undefined) {
    const location = new ByteWriter(16);
    writeLocation(location, parameters.largest);
    add('largest', location.finish());
  }
  writer.varint(pairs.length);
  writeKeyValuePairs(writer, pairs, dialect.encoding);
}

function optionalBig(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}
