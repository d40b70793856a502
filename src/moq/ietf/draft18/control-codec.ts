/**
 * draft-ietf-moq-transport-18 control messages (§9), mapped to and from the version-neutral model
 * in ../messages.ts. What changed from draft-16 is listed in ../DRAFTS.md; in short: vi64 integers,
 * one SETUP (0x2F00) per peer on its own unidirectional control stream, every request on its own
 * bidi stream so responses (SUBSCRIBE_OK, REQUEST_OK/ERROR, FETCH_OK, PUBLISH_DONE, REQUEST_UPDATE's
 * target) carry no Request ID, typed Message Parameters (../wire/typed-parameters.ts), and no
 * cancel / flow-control messages.
 *
 * Responses decode with the Request ID of the stream they came on (`streamRequestId`), so the
 * session sees the same model as for draft-16. The per-draft bits are a `RequestStreamDialect`
 * so that draft-19 is one more row (see DRAFT18).
 */
import { ByteReader } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_GOAWAY_URI_BYTES } from '../limits.ts';
import { type ControlMessage, DEFAULT_PRIORITY, emptyProperties, type MessageParameters, type SubscribeNamespaceOptions, type TrackProperties } from '../messages.ts';
import { readTrackExtensions, writeTrackExtensions } from '../draft16/track-extensions.ts';
import { frameControlMessage, type RawControlMessage } from '../wire/control-framing.ts';
import { readFetchRange, writeFetchRange } from '../wire/fetch-range.ts';
import { readFlag } from '../wire/filter.ts';
import { readKeyValuePairsToEnd, writeKeyValuePairs } from '../wire/key-value.ts';
import { readLocation, writeLocation } from '../wire/location.ts';
import { readNamespace, readTrackName, writeNamespace } from '../wire/namespace.ts';
import { readReason, writeReason } from '../wire/reason.ts';
import { setupParameterPairs, setupParametersFromPairs } from '../wire/setup-parameters.ts';
import { DRAFT18_PARAMETERS, readTypedParameters, type TypedParameterDialect, writeTypedParameters } from '../wire/typed-parameters.ts';
import { MAX_PARAMETERS } from '../limits.ts';

/** Message type numbers (draft-18 §9 table). */
export const Draft18MessageType = {
  requestUpdate: 0x02,
  subscribe: 0x03,
  subscribeOk: 0x04,
  requestError: 0x05,
  publishNamespace: 0x06,
  requestOk: 0x07,
  namespace: 0x08,
  publishDone: 0x0b,
  trackStatus: 0x0d,
  namespaceDone: 0x0e,
  publishBlocked: 0x0f,
  goaway: 0x10,
  fetch: 0x16,
  fetchOk: 0x18,
  publish: 0x1d,
  publishOk: 0x1e,
  subscribeNamespace: 0x50,
  subscribeTracks: 0x51,
  setup: 0x2f00,
} as const;

/** REQUEST_ERROR code after which a Redirect follows (draft-18 §9.6, §14 table). */
const REDIRECT_CODE = 0x34;

/** What differs between the request-stream drafts (18, 19, ...). */
export interface RequestStreamDialect {
  readonly name: string;
  readonly parameters: TypedParameterDialect;
  /** GOAWAY ends with a Request ID when sent on the control stream (draft-18 §9.4; gone in 19). */
  readonly goawayRequestId: boolean;
  /** PUBLISH's answer: PUBLISH_OK 0x1E with REQUEST_OK's layout (18), or REQUEST_OK itself (19, 0x1E reserved). */
  readonly publishOkType: number;
}

/** The rows of the table. draft-19 §9 (Change Log "Since -18"): no GOAWAY Request ID, PUBLISH_OK is REQUEST_OK, PUBLISH_SKIPPED is PUBLISH_BLOCKED renamed. */
const DRAFT18: RequestStreamDialect = { name: 'draft-18', parameters: DRAFT18_PARAMETERS, goawayRequestId: true, publishOkType: 0x1e };
const DRAFT19: RequestStreamDialect = { name: 'draft-19', parameters: DRAFT18_PARAMETERS, goawayRequestId: false, publishOkType: 0x07 };

const T = Draft18MessageType;
const utf8 = new TextEncoder();
const lenientUtf8 = new TextDecoder('utf-8');

export interface RequestStreamCodec {
  readonly dialect: RequestStreamDialect;
  /** `streamRequestId`: the Request ID of the request stream a response arrived on (0 on the control stream). */
  decode(raw: RawControlMessage, streamRequestId?: number): ControlMessage;
  encode(message: ControlMessage): RawControlMessage;
  /** Type (vi64) + 16-bit length + payload. */
  frame(message: ControlMessage): Uint8Array;
}

function requestStreamCodec(dialect: RequestStreamDialect): RequestStreamCodec {
  return {
    dialect,
    decode: (raw, streamRequestId = 0) => decodeMessage(raw, streamRequestId, dialect),
    encode: (message) => encodeMessage(message, dialect),
    frame(message) {
      const raw = encodeMessage(message, dialect);
      return frameControlMessage(raw.type, raw.body, 'vi64');
    },
  };
}

export const draft18ControlCodec: RequestStreamCodec = requestStreamCodec(DRAFT18);
export const draft19ControlCodec: RequestStreamCodec = requestStreamCodec(DRAFT19);

/** The same rows with the length-prefixed Location quirk on (see TypedParameterDialect). */
const withLengthPrefixedLocation = (d: RequestStreamDialect): RequestStreamCodec => requestStreamCodec({ ...d, parameters: { ...d.parameters, lengthPrefixedLocation: true } });
export const draft18LengthPrefixedLocationCodec: RequestStreamCodec = withLengthPrefixedLocation(DRAFT18);
export const draft19LengthPrefixedLocationCodec: RequestStreamCodec = withLengthPrefixedLocation(DRAFT19);

function decodeMessage(raw: RawControlMessage, streamRequestId: number, dialect: RequestStreamDialect): ControlMessage {
  const r = new ByteReader(raw.body, 'vi64');
  const message = decodeBody(raw.type, r, streamRequestId, dialect);
  r.expectEnd(`control message 0x${raw.type.toString(16)}`);
  return message;
}

function decodeBody(type: number, r: ByteReader, requestId: number, d: RequestStreamDialect): ControlMessage {
  const params = (): MessageParameters => readTypedParameters(r, d.parameters);
  const properties = (): TrackProperties => readTrackExtensions(r, true);
  switch (type) {
    case T.setup: {
      // §9.3: Setup Options are Key-Value-Pairs filling the payload; MAX_REQUEST_ID no longer exists.
      const parameters = setupParametersFromPairs(readKeyValuePairsToEnd(r, 'delta', MAX_PARAMETERS), 'vi64');
      delete parameters.maxRequestId;
      return { type: 'client_setup', versions: [], parameters };
    }
    case T.goaway: {
      const length = r.varint();
      if (length > MAX_GOAWAY_URI_BYTES) throw violation(`GOAWAY URI of ${length} bytes exceeds ${MAX_GOAWAY_URI_BYTES}`, 'message-too-large');
      const uri = lenientUtf8.decode(r.bytes(length));
      const timeoutMs = r.varint();
      const goawayRequestId = d.goawayRequestId && !r.atEnd ? r.varint() : undefined;
      return { type: 'goaway', uri, timeoutMs, ...(goawayRequestId === undefined ? {} : { requestId: goawayRequestId }) };
    }
    case T.subscribe: {
      const id = r.varint();
      const namespace = readNamespace(r, { allowEmpty: true });
      const name = readTrackName(r, namespace);
      const parameters = params();
      return {
        type: 'subscribe',
        requestId: id,
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
      const trackAlias = r.varint();
      const parameters = params();
      const props = properties();
      return { type: 'subscribe_ok', requestId, trackAlias, expiresMs: parameters.expiresMs ?? 0, groupOrder: props.groupOrder ?? 'ascending', largest: parameters.largest, properties: props };
    }
    case T.requestError: {
      const code = r.varint();
      const retryInterval = r.varint();
      const reason = readReason(r);
      if (code !== REDIRECT_CODE) return { type: 'request_error', requestId, code, retryInterval, reason };
      // §9.6.1 Redirect: Connect URI, Track Namespace, Track Name.
      const uri = lenientUtf8.decode(r.bytes(r.varintAtMost(MAX_GOAWAY_URI_BYTES, 'redirect URI length')));
      const namespace = readNamespace(r, { allowEmpty: true });
      const name = readTrackName(r, namespace);
      return { type: 'request_error', requestId, code, retryInterval, reason, redirect: { uri, namespace, name } };
    }
    case T.requestOk: {
      const parameters = params();
      return { type: 'request_ok', requestId, parameters, properties: properties() };
    }
    case T.publishOk: {
      if (d.publishOkType !== T.publishOk) throw violation(`unknown ${d.name} control message type 0x1e`, 'unexpected-message');
      // §9.1 table: PUBLISH_OK is REQUEST_OK's layout under its own type; its Track Properties are empty (§9.5).
      const parameters = params();
      if (!r.atEnd) throw violation('PUBLISH_OK carries Track Properties');
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
    case T.requestUpdate: {
      // §9.9: the update's own Request ID; the request it updates is the stream's.
      const id = r.varint();
      const parameters = params();
      return { type: 'request_update', requestId: id, existingRequestId: requestId, subscriberPriority: parameters.subscriberPriority, forward: parameters.forward, filter: parameters.filter, parameters };
    }
    case T.publishDone: {
      const statusCode = r.varint();
      const streamCount = r.varintBig();
      return { type: 'publish_done', requestId, statusCode, streamCount, reason: readReason(r) };
    }
    case T.publish: {
      const id = r.varint();
      const namespace = readNamespace(r, { allowEmpty: true });
      const name = readTrackName(r, namespace);
      const trackAlias = r.varint();
      const parameters = params();
      return { type: 'publish', requestId: id, namespace, name, trackAlias, largest: parameters.largest, forward: parameters.forward ?? true, properties: properties(), parameters };
    }
    case T.fetch: {
      const id = r.varint();
      const range = readFetchRange(r);
      const parameters = params();
      return { type: 'fetch', requestId: id, subscriberPriority: parameters.subscriberPriority ?? DEFAULT_PRIORITY, groupOrder: parameters.groupOrder, range, parameters };
    }
    case T.fetchOk: {
      const endOfTrack = readFlag(r, 'End Of Track');
      const endLocation = readLocation(r);
      params();
      const props = properties();
      return { type: 'fetch_ok', requestId, groupOrder: props.groupOrder ?? 'ascending', endOfTrack, endLocation, properties: props };
    }
    case T.trackStatus: {
      const id = r.varint();
      const namespace = readNamespace(r, { allowEmpty: true });
      const name = readTrackName(r, namespace);
      return { type: 'track_status', requestId: id, namespace, name, parameters: params() };
    }
    case T.publishNamespace: {
      const id = r.varint();
      const namespace = readNamespace(r, { allowEmpty: true });
      return { type: 'publish_namespace', requestId: id, namespace, parameters: params() };
    }
    case T.namespace:
      return { type: 'namespace', suffix: readNamespace(r, { allowEmpty: true }) };
    case T.namespaceDone:
      return { type: 'namespace_done', suffix: readNamespace(r, { allowEmpty: true }) };
    case T.publishBlocked: {
      const suffix = readNamespace(r, { allowEmpty: true });
      return { type: 'publish_blocked', suffix, name: readTrackName(r, suffix) };
    }
    case T.subscribeNamespace:
    case T.subscribeTracks: {
      // §9.20 / §9.21: draft-16's options field became the message type.
      const id = r.varint();
      const prefix = readNamespace(r, { allowEmpty: true });
      const options: SubscribeNamespaceOptions = type === T.subscribeNamespace ? 'namespace' : 'publish';
      return { type: 'subscribe_namespace', requestId: id, prefix, options, parameters: params() };
    }
    default:
      throw violation(`unknown ${d.name} control message type 0x${type.toString(16)}`, 'unexpected-message');
  }
}

function encodeMessage(message: ControlMessage, dialect: RequestStreamDialect): RawControlMessage {
  const w = new ByteWriter(64, 'vi64');
  const type = encodeBody(message, w, dialect);
  return { type, body: w.finish() };
}

function encodeBody(m: ControlMessage, w: ByteWriter, d: RequestStreamDialect): number {
  const params = (parameters: MessageParameters): void => writeTypedParameters(w, parameters, d.parameters);
  switch (m.type) {
    case 'client_setup':
    case 'server_setup': {
      const { maxRequestId: _dropped, ...parameters } = m.parameters;
      writeKeyValuePairs(w, setupParameterPairs(parameters, 'vi64'), 'delta');
      return T.setup;
    }
    case 'goaway':
      w.lengthPrefixedBytes(utf8.encode(m.uri)).varint(m.timeoutMs ?? 0);
      if (d.goawayRequestId && m.requestId !== undefined) w.varint(m.requestId);
      return T.goaway;
    case 'subscribe':
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      w.lengthPrefixedBytes(m.name);
      params({
        ...m.parameters,
        subscriberPriority: m.subscriberPriority === DEFAULT_PRIORITY ? undefined : m.subscriberPriority,
        groupOrder: m.groupOrder,
        forward: m.forward ? undefined : false,
        filter: m.filter,
      });
      return T.subscribe;
    case 'subscribe_ok':
      w.varint(m.trackAlias);
      params({ authorizationTokens: [], expiresMs: m.expiresMs || undefined, largest: m.largest });
      writeTrackExtensions(w, { ...m.properties, groupOrder: m.properties.groupOrder ?? (m.groupOrder === 'ascending' ? undefined : m.groupOrder) });
      return T.subscribeOk;
    case 'track_status_ok':
      // §9.19: TRACK_STATUS is answered with REQUEST_OK carrying LARGEST_OBJECT and the Track Properties.
      params({ authorizationTokens: [], expiresMs: m.expiresMs || undefined, largest: m.largest });
      writeTrackExtensions(w, { ...emptyProperties(), groupOrder: m.groupOrder === 'ascending' ? undefined : m.groupOrder });
      return T.requestOk;
    case 'request_error':
      w.varint(m.code).varint(m.retryInterval);
      writeReason(w, m.reason);
      if (m.code === REDIRECT_CODE) {
        if (m.redirect === undefined) throw new RangeError('REQUEST_ERROR REDIRECT needs a Redirect');
        w.lengthPrefixedBytes(utf8.encode(m.redirect.uri));
        writeNamespace(w, m.redirect.namespace);
        w.lengthPrefixedBytes(m.redirect.name);
      }
      return T.requestError;
    case 'request_ok':
      params(m.parameters);
      writeTrackExtensions(w, m.properties ?? emptyProperties());
      return T.requestOk;
    case 'publish_ok':
      // draft-19: a REQUEST_OK with no Track Properties; draft-18: the same body as PUBLISH_OK.
      if (d.publishOkType !== T.publishOk) {
        params({ ...m.parameters, forward: m.forward ? undefined : false, subscriberPriority: m.subscriberPriority === DEFAULT_PRIORITY ? undefined : m.subscriberPriority, groupOrder: m.groupOrder, filter: m.filter });
        writeTrackExtensions(w, emptyProperties());
        return T.requestOk;
      }
      params({
        ...m.parameters,
        forward: m.forward ? undefined : false,
        subscriberPriority: m.subscriberPriority === DEFAULT_PRIORITY ? undefined : m.subscriberPriority,
        groupOrder: m.groupOrder,
        filter: m.filter,
      });
      return T.publishOk;
    case 'request_update':
      w.varint(m.requestId);
      params({ ...m.parameters, subscriberPriority: m.subscriberPriority, forward: m.forward, filter: m.filter });
      return T.requestUpdate;
    case 'publish_done':
      w.varint(m.statusCode).varint(m.streamCount);
      writeReason(w, m.reason);
      return T.publishDone;
    case 'publish':
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      w.lengthPrefixedBytes(m.name).varint(m.trackAlias);
      params({ ...m.parameters, largest: m.largest, forward: m.forward ? undefined : false });
      writeTrackExtensions(w, m.properties);
      return T.publish;
    case 'fetch':
      w.varint(m.requestId);
      writeFetchRange(w, m.range);
      params({ ...m.parameters, subscriberPriority: m.subscriberPriority === DEFAULT_PRIORITY ? undefined : m.subscriberPriority, groupOrder: m.groupOrder });
      return T.fetch;
    case 'fetch_ok':
      w.bool(m.endOfTrack);
      writeLocation(w, m.endLocation);
      params({ authorizationTokens: [] });
      writeTrackExtensions(w, m.properties);
      return T.fetchOk;
    case 'track_status':
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      w.lengthPrefixedBytes(m.name);
      params(m.parameters);
      return T.trackStatus;
    case 'publish_namespace':
      w.varint(m.requestId);
      writeNamespace(w, m.namespace);
      params(m.parameters);
      return T.publishNamespace;
    case 'namespace':
      writeNamespace(w, m.suffix);
      return T.namespace;
    case 'namespace_done':
      writeNamespace(w, m.suffix);
      return T.namespaceDone;
    case 'publish_blocked':
      writeNamespace(w, m.suffix);
      w.lengthPrefixedBytes(m.name);
      return T.publishBlocked;
    case 'subscribe_namespace':
      if (m.options === 'both') throw new RangeError(`${d.name} has no SUBSCRIBE_NAMESPACE for both namespaces and tracks: send SUBSCRIBE_NAMESPACE and SUBSCRIBE_TRACKS`);
      w.varint(m.requestId);
      writeNamespace(w, m.prefix);
      params(m.parameters);
      return m.options === 'namespace' ? T.subscribeNamespace : T.subscribeTracks;
    case 'max_request_id':
    case 'requests_blocked':
    case 'unsubscribe':
    case 'fetch_cancel':
    case 'publish_namespace_done':
    case 'publish_namespace_cancel':
    case 'unsubscribe_namespace':
      // §3.5.1 "Request Cancellation": these are stream FIN / reset from draft-18 on.
      throw new RangeError(`${d.name} has no ${m.type.toUpperCase()}: end or reset the request stream`);
  }
}
