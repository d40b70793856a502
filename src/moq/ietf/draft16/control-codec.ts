/**
 * draft-ietf-moq-transport-16 control messages (§9): REQUEST_OK / REQUEST_ERROR for every request,
 * priority/group order/filter/forward as delta-encoded Message Parameters, Track Extensions at the
 * end of SUBSCRIBE_OK, PUBLISH and FETCH_OK, and NAMESPACE / NAMESPACE_DONE on the
 * SUBSCRIBE_NAMESPACE stream. Mapped to and from the version-neutral model in ../messages.ts.
 */
import { ByteReader } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_GOAWAY_URI_BYTES } from '../limits.ts';
import { type ControlMessage, DEFAULT_PRIORITY, type SubscribeNamespaceOptions } from '../messages.ts';
import type { RawControlMessage } from '../wire/control-framing.ts';
import { readFlag } from '../wire/filter.ts';
import { readFetchRange, writeFetchRange } from '../wire/fetch-range.ts';
import { readLocation, writeLocation } from '../wire/location.ts';
import { readNamespace, readTrackName, writeNamespace } from '../wire/namespace.ts';
import { DRAFT16_PARAMETERS, readParameters, writeParameters } from '../wire/parameters.ts';
import { readReason, writeReason } from '../wire/reason.ts';
import { readSetupParameters, writeSetupParameters } from '../wire/setup-parameters.ts';
import { readTrackExtensions, writeTrackExtensions } from './track-extensions.ts';

const Draft16MessageType = {
  requestUpdate: 0x02,
  subscribe: 0x03,
  subscribeOk: 0x04,
  requestError: 0x05,
  publishNamespace: 0x06,
  requestOk: 0x07,
  namespace: 0x08,
  publishNamespaceDone: 0x09,
  unsubscribe: 0x0a,
  publishDone: 0x0b,
  publishNamespaceCancel: 0x0c,
  trackStatus: 0x0d,
  namespaceDone: 0x0e,
  goaway: 0x10,
  subscribeNamespace: 0x11,
  maxRequestId: 0x15,
  fetch: 0x16,
  fetchCancel: 0x17,
  fetchOk: 0x18,
  requestsBlocked: 0x1a,
  publish: 0x1d,
  publishOk: 0x1e,
  clientSetup: 0x20,
  serverSetup: 0x21,
} as const;

const T = Draft16MessageType;
const SUBSCRIBE_OPTIONS: readonly SubscribeNamespaceOptions[] = ['publish', 'namespace', 'both'];
const utf8 = new TextEncoder();
const lenientUtf8 = new TextDecoder('utf-8');

export function decodeDraft16(raw: RawControlMessage): ControlMessage {
  const r = new ByteReader(raw.body);
  const message = decodeBody(raw.type, r);
  r.expectEnd(`control message 0x${raw.type.toString(16)}`);
  return message;
}

function decodeBody(type: number, r: ByteReader): ControlMessage {
  switch (type) {
    case T.clientSetup:
      return { type: 'client_setup', versions: [], parameters: readSetupParameters(r, 'delta') };
    case T.serverSetup:
      return { type: 'server_setup', parameters: readSetupParameters(r, 'delta') };
    case T.goaway: {
      const length = r.varint();
      if (length > MAX_GOAWAY_URI_BYTES) throw violation(`GOAWAY URI of ${length} bytes exceeds ${MAX_GOAWAY_URI_BYTES}`, 'message-too-large');
      return { type: 'goaway', uri: lenientUtf8.decode(r.bytes(length)) };
    }
    case T.maxRequestId:
      return { type: 'max_request_id', maxRequestId: r.varint() };
    case T.requestsBlocked:
      return { type: 'requests_blocked', maxRequestId: r.varint() };
    case T.subscribe: {
      const requestId = r.varint();
      const namespace = readNamespace(r);
      const name = readTrackName(r, namespace);
      const parameters = readParameters(r, DRAFT16_PARAMETERS);
      return {
        type: 'subscribe',
        requestId,
        namespace,
        name,
        subscriberPriority: parameters.subscriberPriority ?? DEFAULT_PRIORITY,
        groupOrder: parameters.groupOrder,
        forward: parameters.forward ?? true,
        filter: parameters.filter,
        parameters,
      };
    }
    case T.subscribeOk: {
      const requestId = r.varint();
      const trackAlias = r.varint();
      const parameters = readParameters(r, DRAFT16_PARAMETERS);
      const properties = readTrackExtensions(r);
      return {
        type: 'subscribe_ok',
        requestId,
        trackAlias,
        expiresMs: parameters.expiresMs ?? 0,
        groupOrder: properties.groupOrder ?? 'ascending',
        largest: parameters.largest,
        properties,
      };
    }
    case T.requestError: {
      const requestId = r.varint();
      const code = r.varint();
      const retryInterval = r.varint();
      return { type: 'request_error', requestId, code, retryInterval, reason: readReason(r) };
    }
    case T.requestOk: {
      const requestId = r.varint();
      return { type: 'request_ok', requestId, parameters: readParameters(r, DRAFT16_PARAMETERS) };
    }
    case T.requestUpdate: {
      const requestId = r.varint();
      const existingRequestId = r.varint();
      const parameters = readParameters(r, DRAFT16_PARAMETERS);
      return {
        type: 'request_update',
        requestId,
        existingRequestId,
        subscriberPriority: parameters.subscriberPriority,
        forward: parameters.forward,
        filter: parameters.filter,
        parameters,
      };
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
      const parameters = readParameters(r, DRAFT16_PARAMETERS);
      const properties = readTrackExtensions(r);
      return { type: 'publish', requestId, namespace, name, trackAlias, largest: parameters.largest, forward: parameters.forward ?? true, properties, parameters };
    }
    case T.publishOk: {
      const requestId = r.varint();
      const parameters = readParameters(r, DRAFT16_PARAMETERS);
      return {
        type: 'publish_ok',
        requestId,
        forward: parameters.forward ?? true,
        subscriberPriority: parameters.subscriberPriority ?? DEFAULT_PRIORITY,
        groupOrder: parameters.groupOrder,
        filter: parameters.filter,
        parameters,
      };
    }
    case T.fetch: {
      const requestId = r.varint();
      const range = readFetchRange(r);
      const parameters = readParameters(r, DRAFT16_PARAMETERS);
      return {
        type: 'fetch',
        requestId,
        subscriberPriority: parameters.subscriberPriority ?? DEFAULT_PRIORITY,
        groupOrder: parameters.groupOrder,
        range,
        parameters,
      };
    }
    case T.fetchOk: {
      const requestId = r.varint();
      const endOfTrack = readFlag(r, 'End Of Track');
      const endLocation = readLocation(r);
      readParameters(r, DRAFT16_PARAMETERS);
      const properties = readTrackExtensions(r);
      return { type: 'fetch_ok', requestId, groupOrder: properties.groupOrder ?? 'ascending', endOfTrack, endLocation, properties };
    }
    case T.fetchCancel:
      return { type: 'fetch_cancel', requestId: r.varint() };
    case T.trackStatus: {
      const requestId = r.varint();
      const namespace = readNamespace(r);
      const name = readTrackName(r, namespace);
      return { type: 'track_status', requestId, namespace, name, parameters: readParameters(r, DRAFT16_PARAMETERS) };
    }
    case T.publishNamespace: {
      const requestId = r.varint();
      const namespace = readNamespace(r);
      return { type: 'publish_namespace', requestId, namespace, parameters: readParameters(r, DRAFT16_PARAMETERS) };
    }
    case T.namespace:
      return { type: 'namespace', suffix: readNamespace(r, { allowEmpty: true }) };
    case T.namespaceDone:
      return { type: 'namespace_done', suffix: readNamespace(r, { allowEmpty: true }) };
    case T.publishNamespaceDone:
      return { type: 'publish_namespace_done', requestId: r.varint() };
    case T.publishNamespaceCancel: {
      const requestId = r.varint();
      const code = r.varint();
      return { type: 'publish_namespace_cancel', requestId, code, reason: readReason(r) };
    }
    case T.subscribeNamespace: {
      const requestId = r.varint();
      const prefix = readNamespace(r, { allowEmpty: true });
      const option = r.varint();
      const options = SUBSCRIBE_OPTIONS[option];
      if (options === undefined) throw violation(`unknown SUBSCRIBE_NAMESPACE options ${option}`);
      return { type: 'subscribe_namespace', requestId, prefix, options, parameters: readParameters(r, DRAFT16_PARAMETERS) };
    }
    default:
      throw violation(`unknown draft-16 control message type 0x${type.toString(16)}`, 'unexpected-message');
  }
}


export function encodeDraft16(message: ControlMessage): RawControlMessage {
  const w = new ByteWriter();
  const type = encodeBody(message, w);
  return { type, body: w.finish() };
}

function encodeBody(m: ControlMessage, w: ByteWriter): number {
  switch (m.type) {
    case 'client_setup':
      writeSetupParameters(w, m.parameters, 'delta');
      return T.clientSetup;
    case 'server_setup':
      writeSetupParameters(w, m.parameters, 'delta');
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
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      w.lengthPrefixedBytes(m.name);
      writeParameters(
        w,
        {
          ...m.parameters,
          // 128 and forward=1 are the defaults (§9.2.1.3, §9.2.1.9); only differences go on the wire.
          subscriberPriority: m.subscriberPriority === DEFAULT_PRIORITY ? undefined : m.subscriberPriority,
          groupOrder: m.groupOrder,
          forward: m.forward ? undefined : false,
          filter: m.filter,
        },
        DRAFT16_PARAMETERS,
      );
      return T.subscribe;
    case 'subscribe_ok':
      w.varint(m.requestId).varint(m.trackAlias);
      writeParameters(w, { authorizationTokens: [], expiresMs: m.expiresMs || undefined, largest: m.largest }, DRAFT16_PARAMETERS);
      writeTrackExtensions(w, { ...m.properties, groupOrder: m.properties.groupOrder ?? (m.groupOrder === 'ascending' ? undefined : m.groupOrder) });
      return T.subscribeOk;
    case 'track_status_ok':
      // §9.18: TRACK_STATUS is answered with REQUEST_OK carrying what SUBSCRIBE_OK would.
      w.varint(m.requestId);
      writeParameters(w, { authorizationTokens: [], expiresMs: m.expiresMs || undefined, largest: m.largest }, DRAFT16_PARAMETERS);
      return T.requestOk;
    case 'request_error':
      w.varint(m.requestId).varint(m.code).varint(m.retryInterval);
      writeReason(w, m.reason);
      return T.requestError;
    case 'request_ok':
      w.varint(m.requestId);
      writeParameters(w, m.parameters, DRAFT16_PARAMETERS);
      return T.requestOk;
    case 'request_update':
      w.varint(m.requestId).varint(m.existingRequestId);
      writeParameters(w, { ...m.parameters, subscriberPriority: m.subscriberPriority, forward: m.forward, filter: m.filter }, DRAFT16_PARAMETERS);
      return T.requestUpdate;
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
      w.lengthPrefixedBytes(m.name).varint(m.trackAlias);
      writeParameters(w, { ...m.parameters, largest: m.largest, forward: m.forward ? undefined : false }, DRAFT16_PARAMETERS);
      writeTrackExtensions(w, m.properties);
      return T.publish;
    case 'publish_ok':
      w.varint(m.requestId);
      writeParameters(
        w,
        {
          ...m.parameters,
          forward: m.forward ? undefined : false,
          subscriberPriority: m.subscriberPriority === DEFAULT_PRIORITY ? undefined : m.subscriberPriority,
          groupOrder: m.groupOrder,
          filter: m.filter,
        },
        DRAFT16_PARAMETERS,
      );
      return T.publishOk;
    case 'fetch':
      w.varint(m.requestId);
      writeFetchRange(w, m.range);
      writeParameters(
        w,
        { ...m.parameters, subscriberPriority: m.subscriberPriority === DEFAULT_PRIORITY ? undefined : m.subscriberPriority, groupOrder: m.groupOrder },
        DRAFT16_PARAMETERS,
      );
      return T.fetch;
    case 'fetch_ok':
      w.varint(m.requestId).bool(m.endOfTrack);
      writeLocation(w, m.endLocation);
      writeParameters(w, { authorizationTokens: [] }, DRAFT16_PARAMETERS);
      writeTrackExtensions(w, m.properties);
      return T.fetchOk;
    case 'fetch_cancel':
      w.varint(m.requestId);
      return T.fetchCancel;
    case 'track_status':
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      w.lengthPrefixedBytes(m.name);
      writeParameters(w, m.parameters, DRAFT16_PARAMETERS);
      return T.trackStatus;
    case 'publish_namespace':
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      writeParameters(w, m.parameters, DRAFT16_PARAMETERS);
      return T.publishNamespace;
    case 'namespace':
      writeNamespace(w, m.suffix);
      return T.namespace;
    case 'namespace_done':
      writeNamespace(w, m.suffix);
      return T.namespaceDone;
    case 'publish_namespace_done':
      w.varint(required(m.requestId, 'PUBLISH_NAMESPACE_DONE request ID'));
      return T.publishNamespaceDone;
    case 'publish_namespace_cancel':
      w.varint(required(m.requestId, 'PUBLISH_NAMESPACE_CANCEL request ID')).varint(m.code);
      writeReason(w, m.reason);
      return T.publishNamespaceCancel;
    case 'subscribe_namespace':
      w.varint(m.requestId);
      writeNamespace(w, m.prefix);
      w.varint(SUBSCRIBE_OPTIONS.indexOf(m.options));
      writeParameters(w, m.parameters, DRAFT16_PARAMETERS);
      return T.subscribeNamespace;
    case 'unsubscribe_namespace':
      throw new RangeError('draft-16 cancels SUBSCRIBE_NAMESPACE by closing its stream');
    case 'publish_blocked':
      throw new RangeError('PUBLISH_BLOCKED exists from draft-18 on');
  }
}


function required<V>(value: V | undefined, what: string): V {
  if (value === undefined) throw new RangeError(`${what} is required in draft-16`);
  return value;
}
