/**
 * IETF moq-transport draft-18 and -19 (src/moq/ietf/draft18, src/wire/vi64.ts; 19 shares 18's data
 * plane, parameters and tokens, so only its control targets are separate): vi64 integers, control
 * message bodies by type (with the request stream's ID), a run of vi64-framed control messages,
 * typed Message Parameters and vi64 AUTHORIZATION TOKEN values. The control targets also check
 * that what decodes re-encodes stably (decode → encode → decode → encode gives the same bytes).
 */
import { FETCH_HEADER_TYPE } from '../../../src/moq/ietf/data/data-codec.ts';
import type { FetchObject } from '../../../src/moq/ietf/data/objects.ts';
import { encodeSubgroupHeader, encodeSubgroupObject, readSubgroupHeader, readSubgroupObject } from '../../../src/moq/ietf/data/subgroup-stream.ts';
import { draft18ControlCodec, Draft18MessageType, draft19ControlCodec, type RequestStreamCodec } from '../../../src/moq/ietf/draft18/control-codec.ts';
import { draft18DataCodec as data } from '../../../src/moq/ietf/draft18/data-codec.ts';
import { DEFAULT_MAX_OBJECT_BYTES } from '../../../src/moq/ietf/limits.ts';
import { IetfProtocolError, SessionErrorCode } from '../../../src/moq/ietf/errors.ts';
import type { ControlMessage } from '../../../src/moq/ietf/messages.ts';
import type { RawControlMessage } from '../../../src/moq/ietf/wire/control-framing.ts';
import { decodeToken, encodeToken } from '../../../src/moq/ietf/wire/token.ts';
import { DRAFT18_PARAMETERS, readTypedParameters, writeTypedParameters } from '../../../src/moq/ietf/wire/typed-parameters.ts';
import { ByteReader } from '../../../src/wire/byte-reader.ts';
import { ByteWriter } from '../../../src/wire/byte-writer.ts';
import { ProtocolError } from '../../../src/wire/errors.ts';
import { StreamReader } from '../../../src/wire/stream-reader.ts';
import { cat, streamOf, text } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const isProtocolError = (error: unknown): boolean => error instanceof ProtocolError;
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

/** Input: selector byte → type (one past the table: a raw 16-bit type follows), one byte of stream Request ID, body. */
function typeAndBody(bytes: Uint8Array): { raw: RawControlMessage; streamRequestId: number } {
  const selector = bytes[0]! % (TYPES.length + 1);
  if (selector < TYPES.length) return { raw: { type: TYPES[selector]!, body: bytes.subarray(2) }, streamRequestId: bytes[1] ?? 0 };
  return { raw: { type: ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0), body: bytes.subarray(3) }, streamRequestId: 0 };
}

/** Decodes, then checks the decoded message re-encodes to bytes that decode to the same encoding. */
function decodeStably(codec: RequestStreamCodec, raw: RawControlMessage, streamRequestId: number): void {
  const message = codec.decode(raw, streamRequestId);
  const first = codec.encode(message);
  const second = codec.encode(codec.decode(first, streamRequestId));
  if (first.type !== second.type || hex(first.body) !== hex(second.body)) throw new Error(`unstable re-encoding of 0x${raw.type.toString(16)}: ${hex(first.body)} vs ${hex(second.body)}`);
}

/** A peer-opened uni stream: SUBGROUP_HEADER or FETCH_HEADER and objects (§10.4). The first byte picks the fetch's group order. */
async function readDataStream(bytes: Uint8Array): Promise<void> {
  if (bytes.byteLength === 0) return;
  const order = (bytes[0]! & 1) === 0 ? 'ascending' : 'descending';
  const reader = new StreamReader(streamOf(bytes.subarray(1)), 'vi64');
  const type = await reader.varint();
  if (type === FETCH_HEADER_TYPE) {
    await reader.varint(); // request ID
    let previous: FetchObject | undefined;
    for (let object = await data.readFetchObject(reader, previous, DEFAULT_MAX_OBJECT_BYTES, order); object; object = await data.readFetchObject(reader, previous, DEFAULT_MAX_OBJECT_BYTES, order)) {
      if (!('endOfRange' in object)) previous = object;
    }
    return;
  }
  if (!data.subgroupFlags(type)) throw new IetfProtocolError(SessionErrorCode.protocolViolation, 'unknown stream type');
  const header = await readSubgroupHeader(reader, type, data);
  let previous: number | undefined;
  for (let object = await readSubgroupObject(reader, header, previous, data, DEFAULT_MAX_OBJECT_BYTES); object; object = await readSubgroupObject(reader, header, previous, data, DEFAULT_MAX_OBJECT_BYTES)) {
    previous = object.objectId;
  }
}

function dataSeeds(): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  const extensions = [
    { type: 0x08n, value: 1_000_000n },
    { type: 0x0dn, value: Uint8Array.of(1, 0x64, 0, 0x1f) },
  ];
  for (const hasExtensions of [false, true]) {
    for (const subgroupId of [0, 'firstObject' as const, 7]) {
      const header = { trackAlias: 3, groupId: 2 ** 33, subgroupId, publisherPriority: subgroupId === 7 ? undefined : 128, hasExtensions, endOfGroup: subgroupId === 7 };
      const objects = [
        { objectId: 0, status: 'normal' as const, extensions: hasExtensions ? extensions : [], payload: Uint8Array.of(1, 2, 3, 4) },
        { objectId: 200, status: 'normal' as const, extensions: [], payload: new Uint8Array(70) },
        { objectId: 201, status: 'endOfGroup' as const, extensions: [], payload: new Uint8Array(0) },
      ];
      seeds.push(cat(0, encodeSubgroupHeader(header, data), ...objects.map((o, i) => encodeSubgroupObject(header, o, objects[i - 1]?.objectId, data))));
    }
  }
  for (const order of ['ascending', 'descending'] as const) {
    const writer = new ByteWriter(256, 'vi64').varint(FETCH_HEADER_TYPE).varint(8);
    const groups = order === 'ascending' ? [0, 0, 3, 3] : [9, 9, 4, 1];
    let previous: FetchObject | undefined;
    groups.forEach((groupId, i) => {
      const object: FetchObject = { groupId, subgroupId: i % 2, objectId: i % 2 === 0 ? 0 : 5, publisherPriority: 1, status: 'normal', extensions: i === 0 ? extensions : [], payload: new Uint8Array(3).fill(i) };
      data.writeFetchObject(writer, object, previous, order);
      previous = object;
    });
    seeds.push(cat(order === 'ascending' ? 0 : 1, writer.finish()));
  }
  return seeds;
}

export const ietfDraft18Targets: FuzzTarget[] = [
  {
    name: 'ietf-18.data-stream',
    seeds: dataSeeds(),
    allowed: isProtocolError,
    async run(bytes) {
      await readDataStream(bytes);
    },
  },
  {
    name: 'ietf-18.datagram',
    seeds: [
      data.encodeDatagram({ trackAlias: 2, groupId: 2 ** 40, objectId: 1, publisherPriority: 128, endOfGroup: false, status: 'normal', extensions: [], payload: Uint8Array.of(1, 2, 3) }),
      data.encodeDatagram({ trackAlias: 2, groupId: 5, objectId: 0, publisherPriority: undefined, endOfGroup: true, status: 'normal', extensions: [{ type: 0x10n, value: 99n }], payload: Uint8Array.of(9) }),
      data.encodeDatagram({ trackAlias: 2, groupId: 6, objectId: 3, publisherPriority: 1, endOfGroup: false, status: 'endOfTrack', extensions: [], payload: new Uint8Array(0) }),
    ],
    allowed: isProtocolError,
    run(bytes) {
      data.decodeDatagram(bytes);
    },
  },
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
  ...([
    ['18', draft18ControlCodec],
    ['19', draft19ControlCodec],
  ] as const).flatMap(([draft, codec]): FuzzTarget[] => [
    {
      name: `ietf-${draft}.control`,
      seeds: SAMPLES.map((m) => codec.encode(m)).map(({ type, body }) => cat(TYPES.indexOf(type as (typeof TYPES)[number]), 4, body)),
      allowed: isProtocolError,
      run(bytes) {
        if (bytes.byteLength === 0) return;
        const { raw, streamRequestId } = typeAndBody(bytes);
        decodeStably(codec, raw, streamRequestId);
      },
    },
    {
      name: `ietf-${draft}.control-frames`,
      seeds: [cat(...SAMPLES.map((m) => codec.frame(m))), cat(...SAMPLES.slice(0, 4).map((m) => codec.frame(m)))],
      allowed: isProtocolError,
      run(bytes) {
        // A control or request stream's bytes: Message Type (vi64), Message Length (16), payload (§9).
        const reader = new ByteReader(bytes, 'vi64');
        while (!reader.atEnd) {
          const type = reader.varint();
          const body = reader.bytes(reader.u16());
          decodeStably(codec, { type, body }, 0);
        }
      },
    },
  ]),
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
    // The @moq/net quirk (session/peer.ts): LARGEST_OBJECT with a length prefix.
    name: 'ietf-18.parameters-quirk',
    seeds: [Uint8Array.of(0x01, 0x09, 0x02, 0x03, 0x04), Uint8Array.of(0x02, 0x08, 0x05, 0x01, 0x03, 0x81, 0x00, 0x01)],
    allowed: isProtocolError,
    run(bytes) {
      readTypedParameters(new ByteReader(bytes, 'vi64'), { ...DRAFT18_PARAMETERS, lengthPrefixedLocation: true });
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
