/**
 * Message Parameters from draft-18 on (draft-ietf-moq-transport-18 §9.2): a count, then per
 * parameter a Type Delta (vi64) and a value whose form the type fixes — uint8, varint, Location or
 * length-prefixed bytes — rather than draft-16's even/odd Key-Value-Pairs. Parameters go out in
 * ascending type order; an unknown type is a PROTOCOL_VIOLATION (there is no length to skip it by),
 * and only AUTHORIZATION_TOKEN may repeat.
 *
 * The types and forms are a table (`TypedParameterDialect`) so a later draft is one more table.
 */
import { ByteReader } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_KEY_VALUE_BYTES, MAX_PARAMETERS } from '../limits.ts';
import type { MessageParameters } from '../messages.ts';
import { decodeGroupOrder, encodeGroupOrder, readFilter, writeFilter } from './filter.ts';
import { formatting } from './key-value.ts';
import { readLocation, writeLocation } from './location.ts';
import { readNamespace, writeNamespace } from './namespace.ts';
import { decodeToken, encodeToken } from './token.ts';

export type TypedParameterName =
  | 'authorizationToken'
  | 'deliveryTimeoutMs'
  | 'subgroupDeliveryTimeoutMs'
  | 'rendezvousTimeoutMs'
  | 'fillTimeoutMs'
  | 'expiresMs'
  | 'largest'
  | 'forward'
  | 'subscriberPriority'
  | 'filter'
  | 'groupOrder'
  | 'newGroupRequest'
  | 'namespacePrefix';

/** How a parameter's value is written (§9.2 "The encodings defined in this draft"). */
export type ValueForm = 'uint8' | 'varint' | 'location' | 'bytes' | 'namespace';

export interface TypedParameterDialect {
  types: Readonly<Partial<Record<TypedParameterName, { type: bigint; form: ValueForm }>>>;
  /** AbsoluteRange End Group as a delta from the start group (draft-17+ §5.1.2). */
  endGroupDelta: boolean;
  /**
   * Peer quirk, not a draft rule: a Location value (LARGEST_OBJECT) with a length prefix, as
   * @moq/net 0.3.4 writes and expects it ("odd type ⇒ Key-Value-Pair length"); §9.2 says "two
   * consecutive varints". Off unless the session turns it on for such a peer (session/peer.ts).
   */
  lengthPrefixedLocation?: boolean;
}

/** draft-18 §14 "Message Parameters" table, with the forms of §9.2.x. */
export const DRAFT18_PARAMETERS: TypedParameterDialect = {
  endGroupDelta: true,
  types: {
    deliveryTimeoutMs: { type: 0x02n, form: 'varint' }, // OBJECT_DELIVERY_TIMEOUT §9.2.4
    authorizationToken: { type: 0x03n, form: 'bytes' }, // §9.2.2
    rendezvousTimeoutMs: { type: 0x04n, form: 'varint' }, // §9.2.6
    subgroupDeliveryTimeoutMs: { type: 0x06n, form: 'varint' }, // §9.2.3
    expiresMs: { type: 0x08n, form: 'varint' }, // §9.2.10
    largest: { type: 0x09n, form: 'location' }, // §9.2.11
    fillTimeoutMs: { type: 0x0an, form: 'varint' }, // §9.2.5
    forward: { type: 0x10n, form: 'uint8' }, // §9.2.12
    subscriberPriority: { type: 0x20n, form: 'uint8' }, // §9.2.7
    filter: { type: 0x21n, form: 'bytes' }, // §9.2.9
    groupOrder: { type: 0x22n, form: 'uint8' }, // §9.2.8
    newGroupRequest: { type: 0x32n, form: 'varint' }, // §9.2.13
    namespacePrefix: { type: 0x34n, form: 'namespace' }, // §9.2.14
  },
};

type Value = number | Uint8Array | MessageParameters['largest'] | MessageParameters['namespacePrefix'];

const MAX_TYPE = (1n << 64n) - 1n;

export function readTypedParameters(reader: ByteReader, dialect: TypedParameterDialect): MessageParameters {
  const count = reader.count('parameter count', MAX_PARAMETERS, 2);
  const byType = new Map<bigint, [TypedParameterName, ValueForm]>();
  for (const [name, entry] of Object.entries(dialect.types) as [TypedParameterName, { type: bigint; form: ValueForm }][]) byType.set(entry.type, [name, entry.form]);
  const parameters: MessageParameters = { authorizationTokens: [] };
  const seen = new Set<TypedParameterName>();
  let type = 0n;
  for (let i = 0; i < count; i++) {
    type += reader.varintBig();
    if (type > MAX_TYPE) throw violation('parameter type delta overflows 2^64-1');
    const known = byType.get(type);
    if (known === undefined) throw violation(`unknown message parameter 0x${type.toString(16)}`);
    const [name, form] = known;
    if (name !== 'authorizationToken') {
      if (seen.has(name)) throw violation(`duplicate message parameter 0x${type.toString(16)}`);
      seen.add(name);
    }
    apply(parameters, name, readValue(reader, form, dialect), dialect, reader);
  }
  return parameters;
}

function readValue(reader: ByteReader, form: ValueForm, dialect: TypedParameterDialect): Value {
  if (form === 'location' && dialect.lengthPrefixedLocation) {
    const inner = new ByteReader(reader.bytes(reader.varintAtMost(MAX_KEY_VALUE_BYTES, 'Location length')), reader.integers);
    const location = readLocation(inner);
    if (!inner.atEnd) throw formatting('Location parameter length does not match');
    return location;
  }
  switch (form) {
    case 'uint8':
      return reader.u8();
    case 'varint':
      return reader.varint();
    case 'location':
      return readLocation(reader);
    case 'namespace':
      return readNamespace(reader, { allowEmpty: true });
    case 'bytes': {
      const length = reader.varint();
      if (length > MAX_KEY_VALUE_BYTES) throw violation(`parameter length ${length} exceeds ${MAX_KEY_VALUE_BYTES}`, 'message-too-large');
      return reader.bytes(length);
    }
  }
}

function apply(parameters: MessageParameters, name: TypedParameterName, value: Value, dialect: TypedParameterDialect, outer: ByteReader): void {
  switch (name) {
    case 'authorizationToken':
      parameters.authorizationTokens.push(decodeToken(value as Uint8Array, outer.integers));
      return;
    case 'deliveryTimeoutMs':
    case 'subgroupDeliveryTimeoutMs':
    case 'rendezvousTimeoutMs':
    case 'fillTimeoutMs':
    case 'expiresMs':
    case 'newGroupRequest':
      // draft-18 §9.2.3/§9.2.4: a delivery timeout of 0 means "no timeout", no longer a violation.
      parameters[name] = value as number;
      return;
    case 'subscriberPriority':
      parameters.subscriberPriority = value as number;
      return;
    case 'groupOrder':
      // 0 read as "no preference", as for draft-16 (see wire/parameters.ts).
      parameters.groupOrder = decodeGroupOrder(value as number);
      return;
    case 'forward':
      if ((value as number) > 1) throw violation(`FORWARD must be 0 or 1, got ${value as number}`);
      parameters.forward = value === 1;
      return;
    case 'largest':
      parameters.largest = value as MessageParameters['largest'];
      return;
    case 'namespacePrefix':
      parameters.namespacePrefix = value as MessageParameters['namespacePrefix'];
      return;
    case 'filter': {
      // §9.2.9: a filter that does not fill its length is malformed.
      const reader = new ByteReader(value as Uint8Array, outer.integers);
      parameters.filter = readFilter(reader, dialect.endGroupDelta);
      if (!reader.atEnd) throw formatting('SUBSCRIPTION_FILTER length does not match its filter');
      return;
    }
  }
}

/** Writes the count and the parameters the dialect carries, in ascending type order. */
export function writeTypedParameters(writer: ByteWriter, parameters: MessageParameters, dialect: TypedParameterDialect): void {
  const out: { type: bigint; write: (w: ByteWriter) => void }[] = [];
  const add = (name: TypedParameterName, write: ((w: ByteWriter) => void) | undefined): void => {
    const entry = dialect.types[name];
    if (entry !== undefined && write !== undefined) out.push({ type: entry.type, write });
  };
  const varint = (value: number | undefined) => (value === undefined ? undefined : (w: ByteWriter) => void w.varint(value));
  const u8 = (value: number | undefined) => (value === undefined ? undefined : (w: ByteWriter) => void w.u8(value));
  for (const token of parameters.authorizationTokens) add('authorizationToken', (w) => void w.lengthPrefixedBytes(encodeToken(token, w.integers)));
  add('deliveryTimeoutMs', varint(parameters.deliveryTimeoutMs));
  add('subgroupDeliveryTimeoutMs', varint(parameters.subgroupDeliveryTimeoutMs));
  add('rendezvousTimeoutMs', varint(parameters.rendezvousTimeoutMs));
  add('fillTimeoutMs', varint(parameters.fillTimeoutMs));
  add('expiresMs', varint(parameters.expiresMs));
  add('newGroupRequest', varint(parameters.newGroupRequest));
  add('subscriberPriority', u8(parameters.subscriberPriority));
  add('groupOrder', u8(parameters.groupOrder === undefined ? undefined : encodeGroupOrder(parameters.groupOrder)));
  add('forward', u8(parameters.forward === undefined ? undefined : parameters.forward ? 1 : 0));
  const { largest, namespacePrefix, filter } = parameters;
  if (largest !== undefined) {
    add('largest', (w) => {
      if (!dialect.lengthPrefixedLocation) return writeLocation(w, largest);
      const inner = new ByteWriter(20, w.integers);
      writeLocation(inner, largest);
      w.lengthPrefixedBytes(inner.finish());
    });
  }
  if (namespacePrefix !== undefined) add('namespacePrefix', (w) => writeNamespace(w, namespacePrefix));
  if (filter !== undefined) {
    add('filter', (w) => {
      const inner = new ByteWriter(16, w.integers);
      writeFilter(inner, filter, dialect.endGroupDelta);
      w.lengthPrefixedBytes(inner.finish());
    });
  }
  out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  writer.varint(out.length);
  let previous = 0n;
  for (const { type, write } of out) {
    writer.varint(type - previous);
    previous = type;
    write(writer);
  }
}
