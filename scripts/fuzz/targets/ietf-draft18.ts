/**
 * IETF moq-transport draft-18 (src/moq/ietf/draft18, src/wire/vi64.ts): vi64 integers, control
 * message bodies by type (with the request stream's ID), a run of vi64-framed control messages,
 * typed Message Parameters and vi64 AUTHORIZATION TOKEN values. The control targets also check
 * that what decodes re-encodes stably (decode → encode → decode → encode gives the same bytes).
 */
import { draft18ControlCodec, Draft18MessageType } from '../../../src/moq/ietf/draft18/control-codec.ts';
import { IetfProtocolError, SessionErrorCode } from '../../../src/moq/ietf/errors.ts';
import type { ControlMessage } from '../../../src/moq/ietf/messages.ts';
import type { RawControlMessage } from '../../../src/moq/ietf/wire/control-framing.ts';
import { decodeToken, encodeToken } from '../../../src/moq/ietf/wire/token.ts';
import { DRAFT18_PARAMETERS, readTypedParameters, writeTypedParameters } from '../../../src/moq/ietf/wire/typed-parameters.ts';
import { ByteReader } from '../../../src/wire/byte-reader.ts';
import { ByteWriter } from '../../../src/wire/byte-writer.ts';
import { ProtocolError } from '../../../src/wire/errors.ts';
import { cat, text } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const isProtocolError = (error: unknown): boolean => error instanceof ProtocolError;
const codec = draft18ControlCodec;
const TYPES = Object.values(Draft18MessageType);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

const a = Uint8Array.of(0x61);
const b = Uint8Array.of(0x62);
const token = { aliasType: 'useValue' as const, tokenType: 1n, value: text('eyJhbGciOiJIUzI1NiJ9.e30.sig') };
const params = { authorizationTokens: [token], deliveryTimeoutMs: 500, subgroupDeliveryTimeoutMs: 0, expiresMs: 9, largest: { group: 4, object: 2 }, newGroupRequest: 3 };

const SAMPLES: ControlMessage[] = [
  { type: 'client_setup', versions: [], parameters: { authorizationTokens: [token], path: '/live', authority: 'relay', implementation: 'fuzz', maxAuthTokenCacheSize: 4 } },
  { type: 'goaway', uri: 'moqt://relay.example/moq', timeoutMs: 3000, requestId: 5 },
  { type: 'subscribe', requestId: 4, namespace: [a], name: b, subscriberPriority: 3, groupOrder: 'descending', forward: false, filter: { type: 'absoluteRange', start: { group: 1, object: 2 }, endGroup: 7 }, parameters: params },
  { type: 'subscribe_ok', requestId: 4, trackAlias: 1, expiresMs: 0, groupOrder: 'descending', largest: { group: 9, object: 9 }, properties: { other: [{ type: 0x41n, value: Uint8Array.of(7) }], publisherPriority: 7 } },
  { type: 'request_error', requestId: 4, code: 0x34, retryInterval: 1000, reason: 'moved', redirect: { uri: 'moqt://b', namespace: [a], name: b } },
  { type: 'request_ok', requestId: 2, parameters: { authorizationTokens: [] }, properties: { other: [], maxCacheDurationMs: 10 } },
  { type: 'request_update', requestId: 10, existingRequestId: 4, subscriberPriority: 9, forward: true, filter: { type: 'absoluteStart', start: { group: 4, object: 0 } }, parameters: { authorizationTokens: [], namespacePrefix: [a] } },
  { type: 'publish', requestId: 6, namespace: [a, b], name: b, trackAlias: 9, largest: { group: 3, object: 4 }, forward: true, properties: { other: [], groupOrder: 'ascending' }, parameters: { authorizationTokens: [] } },
  { type: 'publish_ok', requestId: 6, forward: true, subscriberPriority: 2, groupOrder: 'ascending', filter: { type: 'nextGroupStart' }, parameters: { authorizationTokens: [] } },
  { type: 'publish_done', requestId: 6, statusCode: 2, streamCount: 7n, reason: 'done' },
  { type: 'fetch', requestId: 8, subscriberPriority: 1, range: { type: 'standalone', namespace: [a], name: b, start: { group: 0, object: 0 }, end: { group: 3, object: 0 } }, parameters: { authorizationTokens: [], fillTimeoutMs: 100 } },
  { type: 'fetch', requestId: 10, subscriberPriority: 1, range: { type: 'absoluteJoining', joiningRequestId: 4, joiningStart: 2 }, parameters: { authorizationTokens: [] } },
  { type: 'fetch_ok', requestId: 8, groupOrder: 'ascending', endOfTrack: true, endLocation: { group: 3, object: 0 }, properties: { other: [] } },
  { type: 'track_status', requestId: 12, namespace: [a], name: b, parameters: { authorizationTokens: [] } },
  { type: 'publish_namespace', requestId: 2, namespace: [a], parameters: { authorizationTokens: [{ aliasType: 'register', alias: 3n, tokenType: 0n, value: Uint8Array.of(9) }] } },
  { type: 'subscribe_namespace', requestId: 14, prefix: [a], options: 'namespace', parameters: { authorizationTokens: [] } },
  { type: 'subscribe_namespace', requestId: 16, prefix: [], options: 'publish', parameters: { authorizationTokens: [], rendezvousTimeoutMs: 5 } },
  { type: 'namespace', suffix: [b] },
  { type: 'namespace_done', suffix: [b] },
  { type: 'publish_blocked', suffix: [b], name: a },
];
const ENCODED = SAMPLES.map((m) => codec.encode(m));

/** Input: selector byte → type (one past the table: a raw 16-bit type follows), one byte of stream Request ID, body. */
function typeAndBody(bytes: Uint8Array): { raw: RawControlMessage; streamRequestId: number } {
  const selector = bytes[0]! % (TYPES.length + 1);
  if (selector < TYPES.length) return { raw: { type: TYPES[selector]!, body: bytes.subarray(2) }, streamRequestId: bytes[1] ?? 0 };
  return { raw: { type: ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0), body: bytes.subarray(3) }, streamRequestId: 0 };
}

/** Decodes, then checks the decoded message re-encodes to bytes that decode to the same encoding. */
function decodeStably(raw: RawControlMessage, streamRequestId: number): void {
  const message = codec.decode(raw, streamRequestId);
  const first = codec.encode(message);
  const second = codec.encode(codec.decode(first, streamRequestId));
  if (first.type !== second.type || hex(first.body) !== hex(second.body)) throw new Error(`unstable re-encoding of 0x${raw.type.toString(16)}: ${hex(first.body)} vs ${hex(second.body)}`);
}

export const ietfDraft18Targets: FuzzTarget[] = [
  {
    name: 'ietf-18.vi64',
    seeds: [Uint8Array.of(0x25, 0x80, 0x25), Uint8Array.from(Buffer.from('bbbded7f3e7dfaa1a0e403d8fc8998abc66bc0fefa318fa8e3ca11ffffffffffffffffff', 'hex'))],
    allowed: isProtocolError,
    run(bytes) {
      // Every vi64 read back from its shortest encoding is the same value.
      const reader = new ByteReader(bytes, 'vi64');
      while (!reader.atEnd) {
        const value = reader.varintBig();
        const again = new ByteReader(new ByteWriter(9, 'vi64').varint(value).finish(), 'vi64').varintBig();
        if (again !== value) throw new Error(`vi64 ${value} re-read as ${again}`);
      }
    },
  },
  {
    name: 'ietf-18.control',
    seeds: ENCODED.map(({ type, body }) => cat(TYPES.indexOf(type as (typeof TYPES)[number]), 4, body)),
    allowed: isProtocolError,
    run(bytes) {
      if (bytes.byteLength === 0) return;
      const { raw, streamRequestId } = typeAndBody(bytes);
      decodeStably(raw, streamRequestId);
    },
  },
  {
    name: 'ietf-18.control-frames',
    seeds: [cat(...SAMPLES.map((m) => codec.frame(m))), cat(...SAMPLES.slice(0, 4).map((m) => codec.frame(m)))],
    allowed: isProtocolError,
    run(bytes) {
      // A control or request stream's bytes: Message Type (vi64), Message Length (16), payload (§9).
      const reader = new ByteReader(bytes, 'vi64');
      while (!reader.atEnd) {
        const type = reader.varint();
        const body = reader.bytes(reader.u16());
        decodeStably({ type, body }, 0);
      }
    },
  },
  {
    name: 'ietf-18.parameters',
    seeds: SAMPLES.flatMap((m) => {
      if (!('parameters' in m) || !('authorizationTokens' in m.parameters)) return [];
      const writer = new ByteWriter(64, 'vi64');
      writeTypedParameters(writer, m.parameters, DRAFT18_PARAMETERS);
      return [writer.finish()];
    }),
    allowed: isProtocolError,
    run(bytes) {
      const reader = new ByteReader(bytes, 'vi64');
      readTypedParameters(reader, DRAFT18_PARAMETERS);
    },
  },
  {
    name: 'ietf-18.auth-token',
    seeds: [encodeToken(token, 'vi64'), encodeToken({ aliasType: 'delete', alias: (1n << 64n) - 1n }, 'vi64')],
    // draft-18 §9.2.2: a token that does not parse is KEY_VALUE_FORMATTING_ERROR, nothing else.
    allowed: (error) => error instanceof IetfProtocolError && error.sessionCode === SessionErrorCode.keyValueFormattingError,
    run(bytes) {
      decodeToken(bytes, 'vi64');
    },
  },
];
