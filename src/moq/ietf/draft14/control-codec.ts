/**
 * draft-ietf-moq-transport-14 control messages (§9): type numbers, field layouts and the per-kind
 * error messages, mapped to and from the version-neutral model in ../messages.ts.
 */
import { ByteReader } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_GOAWAY_URI_BYTES } from '../limits.ts';
import {
  type ControlMessage,
  DEFAULT_PRIORITY,
  type GroupOrder,
  type RequestError,
  type SubscriptionFilter,
  emptyProperties,
} from '../messages.ts';
import type { RawControlMessage } from '../wire/control-framing.ts';
import { decodeGroupOrder, encodeGroupOrder, readFilter, readFlag, writeFilter } from '../wire/filter.ts';
import { readFetchRange, writeFetchRange } from '../wire/fetch-range.ts';
import { readLocation, writeLocation } from '../wire/location.ts';
import { readNamespace, readTrackName, writeNamespace } from '../wire/namespace.ts';
import { DRAFT14_PARAMETERS, readParameters, writeParameters } from '../wire/parameters.ts';
import { readReason, writeReason } from '../wire/reason.ts';
import { readClientSetupBody, readServerSetupBody, writeClientSetupBody, writeServerSetupBody } from '../../setup-codec.ts';
import { setupParameterPairs, setupParametersFromPairs } from '../wire/setup-parameters.ts';

const Draft14MessageType = {
  subscribeUpdate: 0x02,
  subscribe: 0x03,
  subscribeOk: 0x04,
  subscribeError: 0x05,
  publishNamespace: 0x06,
  publishNamespaceOk: 0x07,
  publishNamespaceError: 0x08,
  publishNamespaceDone: 0x09,
  unsubscribe: 0x0a,
  publishDone: 0x0b,
  publishNamespaceCancel: 0x0c,
  trackStatus: 0x0d,
  trackStatusOk: 0x0e,
  trackStatusError: 0x0f,
  goaway: 0x10,
  subscribeNamespace: 0x11,
  subscribeNamespaceOk: 0x12,
  subscribeNamespaceError: 0x13,
  unsubscribeNamespace: 0x14,
  maxRequestId: 0x15,
  fetch: 0x16,
  fetchCancel: 0x17,
  fetchOk: 0x18,
  fetchError: 0x19,
  requestsBlocked: 0x1a,
  publish: 0x1d,
  publishOk: 0x1e,
  publishError: 0x1f,
  clientSetup: 0x20,
  serverSetup: 0x21,
} as const;

const T = Draft14MessageType;
const utf8 = new TextEncoder();
const lenientUtf8 = new TextDecoder('utf-8');

/** The error message type for each request kind (draft-14 has no generic REQUEST_ERROR). */
const ERROR_TYPE: Readonly<Record<Exclude<NonNullable<RequestError['kind']>, 'update'>, number>> = {
  subscribe: T.subscribeError,
  track_status: T.trackStatusError,
  fetch: T.fetchError,
  publish: T.publishError,
  publish_namespace: T.publishNamespaceError,
  subscribe_namespace: T.subscribeNamespaceError,
};

export function decodeDraft14(raw: RawControlMessage): ControlMessage {
  const r = new ByteReader(raw.body);
  const message = decodeBody(raw.type, r);
  r.expectEnd(`control message 0x${raw.type.toString(16)}`);
  return message;
}

function decodeBody(type: number, r: ByteReader): ControlMessage {
  switch (type) {
    case T.clientSetup: {
      const body = readClientSetupBody(r);
      return { type: 'client_setup', versions: body.versions, parameters: setupParametersFromPairs(body.parameters) };
    }
    case T.serverSetup: {
      const body = readServerSetupBody(r);
      return { type: 'server_setup', version: body.version, parameters: setupParametersFromPairs(body.parameters) };
    }
    case T.goaway:
      return { type: 'goaway', uri: readUri(r) };
    case T.maxRequestId:
      return { type: 'max_request_id', maxRequestId: r.varint() };
    case T.requestsBlocked:
      return { type: 'requests_blocked', maxRequestId: r.varint() };
    case T.subscribe:
    case T.trackStatus: {
      const requestId = r.varint();
      const namespace = readNamespace(r);
      const name = readTrackName(r, namespace);
      const subscriberPriority = r.u8();
      const groupOrder = decodeGroupOrder(r.u8());
      const forward = readFlag(r, 'Forward');
      const filter = readFilter(r);
      const parameters = readParameters(r, DRAFT14_PARAMETERS);
      if (type === T.trackStatus) return { type: 'track_status', requestId, namespace, name, parameters };
      return { type: 'subscribe', requestId, namespace, name, subscriberPriority, groupOrder, forward, filter, parameters };
    }
    case T.subscribeOk:
    case T.trackStatusOk: {
      const requestId = r.varint();
      const trackAlias = r.varint();
      const expiresMs = r.varint();
      const groupOrder = decodeGroupOrder(r.u8()) ?? 'ascending';
      const largest = readFlag(r, 'Content Exists') ? readLocation(r) : undefined;
      const parameters = readParameters(r, DRAFT14_PARAMETERS);
      if (type === T.trackStatusOk) return { type: 'track_status_ok', requestId, largest, groupOrder, expiresMs };
      const properties = { ...emptyProperties(), deliveryTimeoutMs: parameters.deliveryTimeoutMs, maxCacheDurationMs: parameters.maxCacheDurationMs };
      return { type: 'subscribe_ok', requestId, trackAlias, expiresMs, groupOrder, largest, properties };
    }
    case T.subscribeError:
      return readError(r, 'subscribe');
    case T.trackStatusError:
      return readError(r, 'track_status');
    case T.fetchError:
      return readError(r, 'fetch');
    case T.publishError:
      return readError(r, 'publish');
    case T.publishNamespaceError:
      return readError(r, 'publish_namespace');
    case T.subscribeNamespaceError:
      return readError(r, 'subscribe_namespace');
    case T.subscribeUpdate: {
      const requestId = r.varint();
      const existingRequestId = r.varint();
      const start = readLocation(r);
      const endGroupPlusOne = r.varint();
      const subscriberPriority = r.u8();
      const forward = readFlag(r, 'Forward');
      const parameters = readParameters(r, DRAFT14_PARAMETERS);
      // §9.10: End Group is the end group plus one; 0 leaves the subscription open-ended.
      const filter: SubscriptionFilter =
        endGroupPlusOne === 0 ? { type: 'absoluteStart', start } : { type: 'absoluteRange', start, endGroup: endGroupPlusOne - 1 };
      return { type: 'request_update', requestId, existingRequestId, subscriberPriority, forward, filter, parameters };
    }
    case T.unsubscribe:
      return { type: 'unsubscribe', requestId: r.varint() };
    case T.publishDone: {
      const requestId = r.varint();
      const statusCode = r.varint();
      const streamCount = r.varintBig();
      return { type: 'publish_done', requestId, statusCode, streamCount, reason: readReason(r) };
    }
    case T.publish: {
      const requestId = r.varint();
      const namespace = readNamespace(r);
      const name = readTrackName(r, namespace);
      const trackAlias = r.varint();
      const groupOrder = decodeGroupOrder(r.u8());
      const largest = readFlag(r, 'Content Exists') ? readLocation(r) : undefined;
      const forward = readFlag(r, 'Forward');
      const parameters = readParameters(r, DRAFT14_PARAMETERS);
      const properties = { ...emptyProperties(), groupOrder, deliveryTimeoutMs: parameters.deliveryTimeoutMs, maxCacheDurationMs: parameters.maxCacheDurationMs };
      return { type: 'publish', requestId, namespace, name, trackAlias, largest, forward, properties, parameters };
    }
    case T.publishOk: {
      const requestId = r.varint();
      const forward = readFlag(r, 'Forward');
      const subscriberPriority = r.u8();
      const groupOrder = decodeGroupOrder(r.u8());
      const filter = readFilter(r);
      return { type: 'publish_ok', requestId, forward, subscriberPriority, groupOrder, filter, parameters: readParameters(r, DRAFT14_PARAMETERS) };
    }
    case T.fetch: {
      const requestId = r.varint();
      const subscriberPriority = r.u8();
      const groupOrder = decodeGroupOrder(r.u8());
      const range = readFetchRange(r);
      return { type: 'fetch', requestId, subscriberPriority, groupOrder, range, parameters: readParameters(r, DRAFT14_PARAMETERS) };
    }
    case T.fetchOk: {
      const requestId = r.varint();
      const groupOrder = decodeGroupOrder(r.u8()) ?? 'ascending';
      const endOfTrack = readFlag(r, 'End Of Track');
      const endLocation = readLocation(r);
      const parameters = readParameters(r, DRAFT14_PARAMETERS);
      const properties = { ...emptyProperties(), maxCacheDurationMs: parameters.maxCacheDurationMs };
      return { type: 'fetch_ok', requestId, groupOrder, endOfTrack, endLocation, properties };
    }
    case T.fetchCancel:
      return { type: 'fetch_cancel', requestId: r.varint() };
    case T.publishNamespace: {
      const requestId = r.varint();
      const namespace = readNamespace(r);
      return { type: 'publish_namespace', requestId, namespace, parameters: readParameters(r, DRAFT14_PARAMETERS) };
    }
    case T.publishNamespaceOk:
      return { type: 'request_ok', kind: 'publish_namespace', requestId: r.varint(), parameters: { authorizationTokens: [] } };
    case T.subscribeNamespaceOk:
      return { type: 'request_ok', kind: 'subscribe_namespace', requestId: r.varint(), parameters: { authorizationTokens: [] } };
    case T.publishNamespaceDone:
      return { type: 'publish_namespace_done', namespace: readNamespace(r) };
    case T.publishNamespaceCancel: {
      const namespace = readNamespace(r);
      const code = r.varint();
      return { type: 'publish_namespace_cancel', namespace, code, reason: readReason(r) };
    }
    case T.subscribeNamespace: {
      const requestId = r.varint();
      // §9.25 asks for 1..32 fields, but clients subscribe to everything with an empty prefix.
      const prefix = readNamespace(r, { allowEmpty: true });
      return { type: 'subscribe_namespace', requestId, prefix, options: 'namespace', parameters: readParameters(r, DRAFT14_PARAMETERS) };
    }
    case T.unsubscribeNamespace:
      return readUnsubscribeNamespace(r);
    default:
      throw violation(`unknown draft-14 control message type 0x${type.toString(16)}`, 'unexpected-message');
  }
}

function readError(r: ByteReader, kind: NonNullable<RequestError['kind']>): RequestError {
  const requestId = r.varint();
  const code = r.varint();
  return { type: 'request_error', kind, requestId, code, retryInterval: 0, reason: readReason(r) };
}


/**
 * §9.28 carries the prefix tuple; @moq/net sends its SUBSCRIBE_NAMESPACE request ID instead. A body
 * that parses as a tuple is reported as one, and one that is exactly a varint as a request ID.
 */
function readUnsubscribeNamespace(r: ByteReader): ControlMessage {
  const body = r.rest();
  const asRequestId = tryRead(body, (reader) => reader.varint());
  const asPrefix = tryRead(body, (reader) => readNamespace(reader, { allowEmpty: true }));
  if (asRequestId === undefined && asPrefix === undefined) throw violation('malformed UNSUBSCRIBE_NAMESPACE');
  return { type: 'unsubscribe_namespace', prefix: asPrefix, requestId: asRequestId };
}

function tryRead<V>(body: Uint8Array, read: (reader: ByteReader) => V): V | undefined {
  const reader = new ByteReader(body);
  try {
    const value = read(reader);
    return reader.atEnd ? value : undefined;
  } catch {
    return undefined;
  }
}

function readUri(r: ByteReader): string {
  const length = r.varint();
  if (length > MAX_GOAWAY_URI_BYTES) throw violation(`GOAWAY URI of ${length} bytes exceeds ${MAX_GOAWAY_URI_BYTES}`, 'message-too-large');
  return lenientUtf8.decode(r.bytes(length));
}

export function encodeDraft14(message: ControlMessage): RawControlMessage {
  const w = new ByteWriter();
  const type = encodeBody(message, w);
  return { type, body: w.finish() };
}

function encodeBody(m: ControlMessage, w: ByteWriter): number {
  switch (m.type) {
    case 'client_setup':
      writeClientSetupBody(w, { versions: m.versions, parameters: setupParameterPairs(m.parameters) });
      return T.clientSetup;
    case 'server_setup':
      writeServerSetupBody(w, { version: m.version ?? 0, parameters: setupParameterPairs(m.parameters) });
      return T.serverSetup;
    case 'goaway':
      w.lengthPrefixedBytes(utf8.encode(m.uri));
      return T.goaway;
    case 'max_request_id':
      w.varint(m.maxRequestId);
      return T.maxRequestId;
    case 'requests_blocked':
      w.varint(m.maxRequestId);
      return T.requestsBlocked;
    case 'subscribe':
      writeSubscribeFields(w, m.requestId, m.namespace, m.name, m.subscriberPriority, m.groupOrder, m.forward, m.filter ?? { type: 'absoluteStart', start: { group: 0, object: 0 } });
      writeParameters(w, m.parameters, DRAFT14_PARAMETERS);
      return T.subscribe;
    case 'track_status':
      writeSubscribeFields(w, m.requestId, m.namespace, m.name, DEFAULT_PRIORITY, undefined, false, { type: 'largestObject' });
      writeParameters(w, m.parameters, DRAFT14_PARAMETERS);
      return T.trackStatus;
    case 'subscribe_ok':
      w.varint(m.requestId).varint(m.trackAlias).varint(m.expiresMs).u8(encodeGroupOrder(m.groupOrder));
      writeContent(w, m.largest);
      writeParameters(w, { authorizationTokens: [], deliveryTimeoutMs: m.properties.deliveryTimeoutMs, maxCacheDurationMs: m.properties.maxCacheDurationMs }, DRAFT14_PARAMETERS);
      return T.subscribeOk;
    case 'track_status_ok':
      w.varint(m.requestId).varint(0).varint(m.expiresMs).u8(encodeGroupOrder(m.groupOrder));
      writeContent(w, m.largest);
      writeParameters(w, { authorizationTokens: [] }, DRAFT14_PARAMETERS);
      return T.trackStatusOk;
    case 'request_error': {
      if (m.kind === undefined || m.kind === 'update') throw new RangeError('draft-14 has no error message for this request');
      w.varint(m.requestId).varint(m.code);
      writeReason(w, m.reason);
      return ERROR_TYPE[m.kind];
    }
    case 'request_ok':
      w.varint(m.requestId);
      if (m.kind === 'publish_namespace') return T.publishNamespaceOk;
      if (m.kind === 'subscribe_namespace') return T.subscribeNamespaceOk;
      throw new RangeError(`draft-14 has no OK message for ${m.kind ?? 'this request'}`);
    case 'request_update': {
      const filter = m.filter;
      const start = filter && (filter.type === 'absoluteStart' || filter.type === 'absoluteRange') ? filter.start : { group: 0, object: 0 };
      const endGroupPlusOne = filter?.type === 'absoluteRange' ? filter.endGroup + 1 : 0;
      w.varint(m.requestId).varint(m.existingRequestId);
      writeLocation(w, start);
      w.varint(endGroupPlusOne).u8(m.subscriberPriority ?? DEFAULT_PRIORITY).bool(m.forward ?? true);
      writeParameters(w, m.parameters, DRAFT14_PARAMETERS);
      return T.subscribeUpdate;
    }
    case 'unsubscribe':
      w.varint(m.requestId);
      return T.unsubscribe;
    case 'publish_done':
      w.varint(m.requestId).varint(m.statusCode).varint(m.streamCount);
      writeReason(w, m.reason);
      return T.publishDone;
    case 'publish':
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      w.lengthPrefixedBytes(m.name).varint(m.trackAlias).u8(encodeGroupOrder(m.properties.groupOrder ?? 'ascending'));
      writeContent(w, m.largest);
      w.bool(m.forward);
      writeParameters(w, m.parameters, DRAFT14_PARAMETERS);
      return T.publish;
    case 'publish_ok':
      w.varint(m.requestId).bool(m.forward).u8(m.subscriberPriority).u8(encodeGroupOrder(m.groupOrder ?? 'ascending'));
      writeFilter(w, m.filter ?? { type: 'absoluteStart', start: { group: 0, object: 0 } });
      writeParameters(w, m.parameters, DRAFT14_PARAMETERS);
      return T.publishOk;
    case 'fetch':
      w.varint(m.requestId).u8(m.subscriberPriority).u8(encodeGroupOrder(m.groupOrder));
      writeFetchRange(w, m.range);
      writeParameters(w, m.parameters, DRAFT14_PARAMETERS);
      return T.fetch;
    case 'fetch_ok':
      w.varint(m.requestId).u8(encodeGroupOrder(m.groupOrder)).bool(m.endOfTrack);
      writeLocation(w, m.endLocation);
      writeParameters(w, { authorizationTokens: [], maxCacheDurationMs: m.properties.maxCacheDurationMs }, DRAFT14_PARAMETERS);
      return T.fetchOk;
    case 'fetch_cancel':
      w.varint(m.requestId);
      return T.fetchCancel;
    case 'publish_namespace':
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      writeParameters(w, m.parameters, DRAFT14_PARAMETERS);
      return T.publishNamespace;
    case 'publish_namespace_done':
      writeNamespace(w, required(m.namespace, 'PUBLISH_NAMESPACE_DONE namespace'));
      return T.publishNamespaceDone;
    case 'publish_namespace_cancel':
      writeNamespace(w, required(m.namespace, 'PUBLISH_NAMESPACE_CANCEL namespace'));
      w.varint(m.code);
      writeReason(w, m.reason);
      return T.publishNamespaceCancel;
    case 'subscribe_namespace':
      w.varint(m.requestId);
      writeNamespace(w, m.prefix);
      writeParameters(w, m.parameters, DRAFT14_PARAMETERS);
      return T.subscribeNamespace;
    case 'unsubscribe_namespace':
      writeNamespace(w, required(m.prefix, 'UNSUBSCRIBE_NAMESPACE prefix'));
      return T.unsubscribeNamespace;
    case 'publish_blocked':
      throw new RangeError('PUBLISH_BLOCKED exists from draft-18 on');
    case 'namespace':
    case 'namespace_done':
      throw new RangeError(`${m.type} does not exist in draft-14`);
  }
}

function writeSubscribeFields(
  w: ByteWriter,
  requestId: number,
  namespace: readonly Uint8Array[],
  name: Uint8Array,
  priority: number,
  groupOrder: GroupOrder | undefined,
  forward: boolean,
  filter: SubscriptionFilter,
): void {
  w.varint(requestId);
  writeNamespace(w, namespace);
  w.lengthPrefixedBytes(name).u8(priority).u8(encodeGroupOrder(groupOrder)).bool(forward);
  writeFilter(w, filter);
}

function writeContent(w: ByteWriter, largest: { group: number; object: number } | undefined): void {
  w.bool(largest !== undefined);
  if (largest) writeLocation(w, largest);
}


function required<V>(value: V | undefined, what: string): V {
  if (value === undefined) throw new RangeError(`${what} is required in draft-14`);
  return value;
}
