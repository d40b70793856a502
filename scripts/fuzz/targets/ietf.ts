/**
 * IETF moq-transport (src/moq/ietf), draft-14 and draft-16: control message bodies by type, the
 * control stream as the session reads it (CLIENT_SETUP first, then framed messages), data
 * streams (SUBGROUP_HEADER / FETCH_HEADER and their objects), datagrams, and AUTHORIZATION
 * TOKEN values.
 */
import { controlCodec } from '../../../src/moq/ietf/control-codec.ts';
import { dataCodec } from '../../../src/moq/ietf/data/codecs.ts';
import { FETCH_HEADER_TYPE } from '../../../src/moq/ietf/data/data-codec.ts';
import type { FetchObject } from '../../../src/moq/ietf/data/objects.ts';
import { encodeSubgroupHeader, encodeSubgroupObject, readSubgroupHeader, readSubgroupObject } from '../../../src/moq/ietf/data/subgroup-stream.ts';
import { IetfProtocolError, SessionErrorCode } from '../../../src/moq/ietf/errors.ts';
import { DEFAULT_MAX_OBJECT_BYTES } from '../../../src/moq/ietf/limits.ts';
import type { ControlMessage } from '../../../src/moq/ietf/messages.ts';
import { readClientSetupFrom } from '../../../src/moq/ietf/setup.ts';
import type { IetfVersion } from '../../../src/moq/ietf/version.ts';
import { frameControlMessage, readControlMessage } from '../../../src/moq/ietf/wire/control-framing.ts';
import { decodeToken, encodeToken } from '../../../src/moq/ietf/wire/token.ts';
import { ByteWriter } from '../../../src/wire/byte-writer.ts';
import { ProtocolError } from '../../../src/wire/errors.ts';
import { StreamReader } from '../../../src/wire/stream-reader.ts';
import { cat, streamOf, text } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const isProtocolError = (error: unknown): boolean => error instanceof ProtocolError;

/** Every control message type of draft-14 and draft-16 (§9), 0x20/0x21 being the SETUPs. */
const CONTROL_TYPES = [
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1d,
  0x1e, 0x1f, 0x20, 0x21, 0x40, 0x41,
];

const a = Uint8Array.of(0x61);
const b = Uint8Array.of(0x62);
const token = { aliasType: 'useValue' as const, tokenType: 1n, value: text('eyJhbGciOiJIUzI1NiJ9.e30.sig') };

/** One of each message the codec can encode for the draft (some only exist in one). */
function sampleMessages(): ControlMessage[] {
  return [
    { type: 'client_setup', versions: [0xff00000e, 0xff000010], parameters: { authorizationTokens: [token], maxRequestId: 10, path: '/live', authority: 'relay', implementation: 'fuzz', maxAuthTokenCacheSize: 4 } },
    { type: 'server_setup', version: 0xff00000e, parameters: { authorizationTokens: [], maxRequestId: 100, implementation: 'moq-gateway' } },
    { type: 'goaway', uri: 'https://relay.example/moq' },
    { type: 'max_request_id', maxRequestId: 64 },
    { type: 'requests_blocked', maxRequestId: 64 },
    {
      type: 'subscribe',
      requestId: 4,
      namespace: [a],
      name: b,
      subscriberPriority: 3,
      groupOrder: 'descending',
      forward: true,
      filter: { type: 'absoluteRange', start: { group: 1, object: 2 }, endGroup: 7 },
      parameters: { authorizationTokens: [token], deliveryTimeoutMs: 500 },
    },
    { type: 'subscribe', requestId: 6, namespace: [a, b], name: b, subscriberPriority: 1, forward: false, filter: { type: 'largestObject' }, parameters: { authorizationTokens: [] } },
    { type: 'subscribe_ok', requestId: 8, trackAlias: 1, expiresMs: 0, groupOrder: 'descending', largest: { group: 9, object: 9 }, properties: { other: [{ type: 0x41n, value: Uint8Array.of(7) }], publisherPriority: 7 } },
    { type: 'request_error', kind: 'subscribe', requestId: 4, code: 3, retryInterval: 1000, reason: 'not found' },
    { type: 'request_ok', kind: 'subscribe_namespace', requestId: 2, parameters: { authorizationTokens: [] } },
    { type: 'track_status_ok', requestId: 2, largest: { group: 3, object: 1 }, groupOrder: 'ascending', expiresMs: 10 },
    { type: 'request_update', requestId: 10, existingRequestId: 4, subscriberPriority: 9, forward: true, filter: { type: 'absoluteStart', start: { group: 4, object: 0 } }, parameters: { authorizationTokens: [] } },
    { type: 'unsubscribe', requestId: 4 },
    {
      type: 'publish',
      requestId: 6,
      namespace: [a, b],
      name: Uint8Array.of(0x63),
      trackAlias: 9,
      largest: { group: 3, object: 4 },
      forward: true,
      properties: { other: [{ type: 0x41n, value: Uint8Array.of(7) }], publisherPriority: 5, groupOrder: 'ascending' },
      parameters: { authorizationTokens: [] },
    },
    { type: 'publish_ok', requestId: 6, forward: true, subscriberPriority: 2, groupOrder: 'ascending', filter: { type: 'nextGroupStart' }, parameters: { authorizationTokens: [] } },
    { type: 'publish_done', requestId: 6, statusCode: 2, streamCount: 7n, reason: 'done' },
    {
      type: 'fetch',
      requestId: 8,
      subscriberPriority: 1,
      groupOrder: 'ascending',
      range: { type: 'standalone', namespace: [a], name: b, start: { group: 0, object: 0 }, end: { group: 3, object: 0 } },
      parameters: { authorizationTokens: [] },
    },
    { type: 'fetch', requestId: 10, subscriberPriority: 1, range: { type: 'relativeJoining', joiningRequestId: 4, joiningStart: 2 }, parameters: { authorizationTokens: [] } },
    { type: 'fetch_ok', requestId: 8, groupOrder: 'ascending', endOfTrack: false, endLocation: { group: 3, object: 0 }, properties: { other: [] } },
    { type: 'fetch_cancel', requestId: 8 },
    { type: 'track_status', requestId: 12, namespace: [a], name: b, parameters: { authorizationTokens: [] } },
    { type: 'publish_namespace', requestId: 2, namespace: [a], parameters: { authorizationTokens: [{ aliasType: 'register', alias: 3n, tokenType: 0n, value: Uint8Array.of(9) }] } },
    { type: 'publish_namespace_done', requestId: 2, namespace: [a] },
    { type: 'publish_namespace_cancel', requestId: 2, namespace: [a], code: 1, reason: 'gone' },
    { type: 'subscribe_namespace', requestId: 14, prefix: [a], options: 'both', parameters: { authorizationTokens: [] } },
    { type: 'namespace', suffix: [b] },
    { type: 'namespace_done', suffix: [b] },
    { type: 'unsubscribe_namespace', prefix: [a], requestId: 14 },
  ];
}

function encoded(version: IetfVersion): { type: number; body: Uint8Array }[] {
  const codec = controlCodec(version);
  const out: { type: number; body: Uint8Array }[] = [];
  for (const message of sampleMessages()) {
    try {
      out.push(codec.encode(message));
    } catch {
      // not in this draft
    }
  }
  return out;
}

/** `control` target input: selector byte → type (one past the table: a raw varint type follows). */
function controlTypeAndBody(bytes: Uint8Array): { type: number; body: Uint8Array } {
  const selector = bytes[0]! % (CONTROL_TYPES.length + 1);
  if (selector < CONTROL_TYPES.length) return { type: CONTROL_TYPES[selector]!, body: bytes.subarray(1) };
  const type = ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
  return { type, body: bytes.subarray(3) };
}

/** The control stream as the server session reads it: CLIENT_SETUP, then any messages. */
async function readControlStream(version: IetfVersion, bytes: Uint8Array): Promise<void> {
  const codec = controlCodec(version);
  const reader = new StreamReader(streamOf(bytes));
  if (bytes[0] === 0x20) await readClientSetupFrom(reader, version);
  for (let raw = await readControlMessage(reader); raw; raw = await readControlMessage(reader)) codec.decode(raw);
}

/** What the session does with a peer-opened uni stream (subgroup or fetch), minus the relay. */
async function readDataStream(version: IetfVersion, bytes: Uint8Array): Promise<void> {
  const data = dataCodec(version);
  const reader = new StreamReader(streamOf(bytes));
  const type = await reader.varint();
  if (type === FETCH_HEADER_TYPE) {
    await reader.varint(); // request ID
    let previous: FetchObject | undefined;
    for (let object = await data.readFetchObject(reader, previous, DEFAULT_MAX_OBJECT_BYTES); object; object = await data.readFetchObject(reader, previous, DEFAULT_MAX_OBJECT_BYTES)) {
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

function dataSeeds(version: IetfVersion): Uint8Array[] {
  const data = dataCodec(version);
  const seeds: Uint8Array[] = [];
  const extensions = [
    { type: 0x08n, value: 1_000_000n },
    { type: 0x10n, value: 123_456n },
    { type: 0x0dn, value: Uint8Array.of(1, 0x64, 0, 0x1f) },
  ];
  for (const hasExtensions of [false, true]) {
    for (const subgroupId of ['zero', 'firstObject', 'present'] as const) {
      for (const hasPriority of [false, true]) {
        try {
          const flags = { subgroupId, hasExtensions, endOfGroup: subgroupId === 'present', hasPriority };
          data.subgroupType(flags); // throws for a combination the draft lacks
          const header = { trackAlias: 3, groupId: 7, subgroupId: subgroupId === 'present' ? 2 : subgroupId === 'zero' ? 0 : ('firstObject' as const), publisherPriority: hasPriority ? 128 : undefined, hasExtensions, endOfGroup: flags.endOfGroup };
          const objects = [
            { objectId: 0, status: 'normal' as const, extensions: hasExtensions ? extensions : [], payload: Uint8Array.of(1, 2, 3, 4) },
            { objectId: 1, status: 'normal' as const, extensions: [], payload: new Uint8Array(70) },
            { objectId: 4, status: 'endOfGroup' as const, extensions: [], payload: new Uint8Array(0) },
          ];
          const parts = [encodeSubgroupHeader({ ...header }, data)];
          let previous: number | undefined;
          for (const object of objects) {
            parts.push(encodeSubgroupObject({ ...header }, object, previous, data));
            previous = object.objectId;
          }
          seeds.push(cat(...parts));
        } catch {
          // combination not in this draft
        }
      }
    }
  }
  // FETCH stream: header, then objects written by the codec.
  try {
    const writer = new ByteWriter().varint(FETCH_HEADER_TYPE).varint(8);
    let previous: FetchObject | undefined;
    for (const [groupId, objectId, size] of [
      [0, 0, 3],
      [0, 1, 0],
      [1, 0, 40],
      [1, 1, 2],
    ] as const) {
      const object: FetchObject = { groupId, subgroupId: 0, objectId, publisherPriority: 1, status: 'normal', extensions: objectId === 0 ? extensions : [], payload: new Uint8Array(size).fill(7) } as FetchObject;
      data.writeFetchObject(writer, object, previous);
      previous = object;
    }
    seeds.push(writer.finish().slice());
  } catch {
    // the fetch layout differs; random and subgroup seeds still cover it
  }
  // The literal seeds of ietf-fuzz.test.ts (stream types 0x14/0x15/0x35, fetch).
  seeds.push(
    Uint8Array.of(0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64, 0x00, 0x00, 0x03),
    Uint8Array.of(version === 'draft-14' ? 0x15 : 0x35, 0x01, 0x05, 0x02, 0x00, 0x04, 0x10, 0x2a, 0x41, 0x01, 0x02, 0x01, 0x09),
    Uint8Array.of(0x05, 0x07, 0x1c, 0x03, 0x00, 0x01, 0x01, 0x05, 0x00, 0x01, 0x06, 0x8c, 0x04, 0x09),
  );
  return seeds;
}

function datagramSeeds(version: IetfVersion): Uint8Array[] {
  const data = dataCodec(version);
  const out: Uint8Array[] = [];
  const samples = [
    { trackAlias: 2, groupId: 5, objectId: 1, publisherPriority: 128, status: 'normal', extensions: [], payload: Uint8Array.of(1, 2, 3) },
    { trackAlias: 2, groupId: 5, objectId: 0, publisherPriority: 1, status: 'normal', extensions: [{ type: 0x10n, value: 99n }], payload: Uint8Array.of(9) },
    { trackAlias: 2, groupId: 6, objectId: 3, publisherPriority: 1, status: 'endOfGroup', extensions: [], payload: new Uint8Array(0) },
  ];
  for (const sample of samples) {
    try {
      out.push(data.encodeDatagram(sample as never));
    } catch {
      // shape not in this draft
    }
  }
  return out;
}

const TOKEN_SEEDS = [
  encodeToken(token),
  encodeToken({ aliasType: 'register', alias: 3n, tokenType: 0n, value: Uint8Array.of(1, 2, 3) }),
  encodeToken({ aliasType: 'useAlias', alias: 3n }),
  encodeToken({ aliasType: 'delete', alias: 2n ** 40n }),
];

export const ietfTargets: FuzzTarget[] = [
  ...(['draft-14', 'draft-16'] as const).flatMap((version): FuzzTarget[] => {
    const codec = controlCodec(version);
    const data = dataCodec(version);
    const messages = encoded(version);
    return [
      {
        name: `ietf-${version.slice(-2)}.control`,
        seeds: messages.map(({ type, body }) => cat(CONTROL_TYPES.indexOf(type), body)).filter((s) => s[0] !== 0xff),
        allowed: isProtocolError,
        run(bytes) {
          if (bytes.byteLength === 0) return;
          codec.decode(controlTypeAndBody(bytes));
        },
      },
      {
        name: `ietf-${version.slice(-2)}.control-stream`,
        seeds: [
          cat(...messages.map(({ type, body }) => frameControlMessage(type, body))),
          ...messages.filter((m) => m.type === 0x20).map(({ type, body }) => cat(frameControlMessage(type, body), ...messages.filter((m) => m.type !== 0x20).slice(0, 6).map((m) => frameControlMessage(m.type, m.body)))),
        ],
        allowed: isProtocolError,
        async run(bytes) {
          await readControlStream(version, bytes);
        },
      },
      {
        name: `ietf-${version.slice(-2)}.data-stream`,
        seeds: dataSeeds(version),
        allowed: isProtocolError,
        async run(bytes) {
          await readDataStream(version, bytes);
        },
      },
      {
        name: `ietf-${version.slice(-2)}.datagram`,
        seeds: datagramSeeds(version),
        allowed: isProtocolError,
        run(bytes) {
          data.decodeDatagram(bytes);
        },
      },
    ];
  }),
  {
    name: 'ietf.auth-token',
    seeds: TOKEN_SEEDS,
    // §9.2.1.1: a token that does not parse is KEY_VALUE_FORMATTING_ERROR, nothing else.
    allowed: (error) => error instanceof IetfProtocolError && error.sessionCode === SessionErrorCode.keyValueFormattingError,
    run(bytes) {
      decodeToken(bytes);
    },
  },
];
