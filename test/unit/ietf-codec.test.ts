/**
 * The draft-14 and draft-16 codecs: spec wire examples, per-version layouts, and round trips of
 * randomly generated messages (encode → decode → encode yields the same bytes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlCodec } from '../../src/moq/ietf/control-codec.ts';
import { dataCodec } from '../../src/moq/ietf/data/codecs.ts';
import type { DatagramObject, FetchObject, MoqObject, SubgroupHeader } from '../../src/moq/ietf/data/objects.ts';
import { encodeSubgroupHeader, encodeSubgroupObject, readSubgroupHeader, readSubgroupObject } from '../../src/moq/ietf/data/subgroup-stream.ts';
import type { ControlMessage, MessageParameters, SubscriptionFilter, TrackProperties } from '../../src/moq/ietf/messages.ts';
import { selectIetfVersion, ietfVersionFromProtocol } from '../../src/moq/ietf/version.ts';
import type { KeyValuePair } from '../../src/moq/ietf/wire/key-value.ts';
import type { AuthToken } from '../../src/moq/ietf/wire/token.ts';
import { ByteWriter } from '../../src/wire/byte-writer.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';

const VERSIONS = ['draft-14', 'draft-16'] as const;

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe('version selection', () => {
  it('maps ALPNs and the moql version list', () => {
    expect(ietfVersionFromProtocol('moqt-16')).toBe('draft-16');
    expect(ietfVersionFromProtocol('moq-00')).toBe('draft-14');
    expect(ietfVersionFromProtocol('moql')).toBeUndefined();
    expect(selectIetfVersion([0xff0dad02, 0xff0dad01, 0xff00000e])).toBe('draft-14');
    expect(selectIetfVersion([0xff0dad02])).toBeUndefined();
  });
});

describe('control message layouts', () => {
  it('draft-16 CLIENT_SETUP as @moq/net sends it (delta-encoded setup parameters)', () => {
    // 0x20, length 0x18: 3 params — MAX_REQUEST_ID 42069, IMPLEMENTATION "moq-lite-js", 0x40b5a = 1.
    const body = new Uint8Array(Buffer.from('03028000a455050b6d6f712d6c6974652d6a7380040b5301', 'hex'));
    const message = controlCodec('draft-16').decode({ type: 0x20, body });
    expect(message).toEqual({ type: 'client_setup', versions: [], parameters: { authorizationTokens: [], maxRequestId: 42069, implementation: 'moq-lite-js' } });
  });

  it('draft-14 SUBSCRIBE has inline priority, group order, forward and filter (§9.7)', () => {
    const raw = controlCodec('draft-14').encode({
      type: 'subscribe',
      requestId: 2,
      namespace: [text('a')],
      name: text('t'),
      subscriberPriority: 7,
      groupOrder: 'descending',
      forward: true,
      filter: { type: 'absoluteRange', start: { group: 5, object: 1 }, endGroup: 9 },
      parameters: { authorizationTokens: [], deliveryTimeoutMs: 300 },
    });
    expect(raw.type).toBe(0x03);
    // id, ns(1 field "a"), name "t", prio 7, order 2, forward 1, filter 4 {5,1} end 9, 1 param: type 2 = 300.
    expect(hex(raw.body)).toBe('0201016101740702010405010901024' + '12c');
  });

  it('draft-16 SUBSCRIBE carries them as delta-encoded parameters (§9.7, §1.4.2)', () => {
    const raw = controlCodec('draft-16').encode({
      type: 'subscribe',
      requestId: 2,
      namespace: [text('a')],
      name: text('t'),
      subscriberPriority: 7,
      groupOrder: 'descending',
      forward: true,
      filter: { type: 'largestObject' },
      parameters: { authorizationTokens: [] },
    });
    // 3 params: 0x20 = 7, delta 1 (0x21) = filter bytes [2], delta 1 (0x22) = 2.
    expect(hex(raw.body)).toBe('020101610174' + '03' + '2007' + '010102' + '0102');
  });

  it('reads GROUP_ORDER 0 as "publisher\'s preference" on both drafts (draft-16 §7.1, draft-14 §9.7)', () => {
    // draft-16 SUBSCRIBE, one parameter: GROUP_ORDER (0x22) = 0, as Shaka Player 5.2's MSF client sends it.
    const d16 = controlCodec('draft-16').decode({ type: 0x03, body: Uint8Array.of(2, 1, 1, 0x61, 1, 0x74, 1, 0x22, 0) });
    expect(d16).toMatchObject({ type: 'subscribe', requestId: 2, groupOrder: undefined });
    // draft-14 SUBSCRIBE with the inline Group Order byte 0.
    const d14 = controlCodec('draft-14').decode({ type: 0x03, body: Uint8Array.of(2, 1, 1, 0x61, 1, 0x74, 0x80, 0, 1, 2, 0) });
    expect(d14).toMatchObject({ type: 'subscribe', requestId: 2, groupOrder: undefined, subscriberPriority: 0x80 });
    // Values above 2 are still a protocol violation.
    expect(() => controlCodec('draft-16').decode({ type: 0x03, body: Uint8Array.of(2, 1, 1, 0x61, 1, 0x74, 1, 0x22, 3) })).toThrow(/invalid group order 3/);
  });

  it('reads Group Order 0 as "none stated" where a draft lists only 1 and 2, with the message default', () => {
    /** Encodes `message`, sets the byte at `at` (from the end when negative) to 0, decodes. */
    const withZero = (version: 'draft-14' | 'draft-16', message: ControlMessage, at: number) => {
      const codec = controlCodec(version);
      const raw = codec.encode(message);
      const body = raw.body.slice();
      const index = at < 0 ? body.length + at : at;
      expect(body[index], `${message.type} group order byte`).toBeGreaterThan(0);
      body[index] = 0;
      return codec.decode({ type: raw.type, body });
    };
    const properties: TrackProperties = { other: [] };
    // draft-14 SUBSCRIBE_OK: Request ID, Track Alias, Expires, Group Order (8).
    const subscribeOk: ControlMessage = { type: 'subscribe_ok', requestId: 1, trackAlias: 2, expiresMs: 0, groupOrder: 'descending', properties };
    expect(withZero('draft-14', subscribeOk, 3)).toMatchObject({ type: 'subscribe_ok', groupOrder: 'ascending' });
    // draft-14 PUBLISH_OK: Request ID, Forward (8), Subscriber Priority (8), Group Order (8): 0 = PUBLISH's order.
    const publishOk: ControlMessage = { type: 'publish_ok', requestId: 1, forward: true, subscriberPriority: 9, groupOrder: 'descending', filter: { type: 'largestObject' }, parameters: { authorizationTokens: [] } };
    expect(withZero('draft-14', publishOk, 3)).toMatchObject({ type: 'publish_ok', groupOrder: undefined, subscriberPriority: 9 });
    // draft-14 FETCH_OK: Request ID, Group Order (8).
    const fetchOk: ControlMessage = { type: 'fetch_ok', requestId: 1, groupOrder: 'descending', endOfTrack: false, endLocation: { group: 3, object: 0 }, properties };
    expect(withZero('draft-14', fetchOk, 1)).toMatchObject({ type: 'fetch_ok', groupOrder: 'ascending' });
    // draft-16 SUBSCRIBE_OK ending with the DEFAULT_PUBLISHER_GROUP_ORDER track extension (0x22 = 2 → 0).
    const decoded = withZero('draft-16', { ...subscribeOk, properties: { other: [], groupOrder: 'descending' } }, -1);
    expect(decoded).toMatchObject({ type: 'subscribe_ok', properties: { groupOrder: undefined } });
  });

  it('draft-16 REQUEST_ERROR has a retry interval, draft-14 errors are per request kind', () => {
    const error: ControlMessage = { type: 'request_error', kind: 'fetch', requestId: 4, code: 0x5, retryInterval: 0, reason: 'x' };
    expect(controlCodec('draft-16').encode(error)).toEqual({ type: 0x05, body: Uint8Array.of(4, 5, 0, 1, 0x78) });
    expect(controlCodec('draft-14').encode(error)).toEqual({ type: 0x19, body: Uint8Array.of(4, 5, 1, 0x78) });
  });

  it('rejects unknown message types and unknown draft-16 parameters', () => {
    expect(() => controlCodec('draft-16').decode({ type: 0x3f, body: new Uint8Array() })).toThrow(/unknown draft-16/);
    // SUBSCRIBE with parameter 0x40 (unknown in draft-16) → PROTOCOL_VIOLATION.
    expect(() => controlCodec('draft-16').decode({ type: 0x03, body: Uint8Array.of(0, 1, 1, 0x61, 0, 1, 0x40, 0x40, 0) })).toThrow(/unknown message parameter/);
    // draft-14 ignores it.
    const d14 = controlCodec('draft-14').decode({ type: 0x03, body: Uint8Array.of(0, 1, 1, 0x61, 0, 0x80, 0, 0, 2, 1, 0x40, 0x40, 0) });
    expect(d14.type).toBe('subscribe');
  });

  it('reads UNSUBSCRIBE_NAMESPACE as a prefix or a request ID (draft-14)', () => {
    expect(controlCodec('draft-14').decode({ type: 0x14, body: Uint8Array.of(0x06) })).toEqual({ type: 'unsubscribe_namespace', requestId: 6, prefix: undefined });
    const both = controlCodec('draft-14').decode({ type: 0x14, body: Uint8Array.of(0x01, 0x01, 0x61) });
    expect(both).toMatchObject({ prefix: [text('a')] });
  });
});

describe('data stream layouts', () => {
  it('decodes the draft-16 §10.5 subgroup example (type 0x14, two objects)', async () => {
    const bytes = new Uint8Array(Buffer.from('1402000000' + '0004' + hex(text('abcd')) + '0004' + hex(text('efgh')), 'hex'));
    for (const version of VERSIONS) {
      const reader = new StreamReader(streamOf(bytes));
      const data = dataCodec(version);
      const header = await readSubgroupHeader(reader, await reader.varint(), data);
      expect(header).toEqual({ trackAlias: 2, groupId: 0, subgroupId: 0, publisherPriority: 0, hasExtensions: false, endOfGroup: false });
      const first = await readSubgroupObject(reader, header, undefined, data, 100);
      const second = await readSubgroupObject(reader, header, first!.objectId, data, 100);
      expect([first!.objectId, second!.objectId]).toEqual([0, 1]);
      expect(new TextDecoder().decode(second!.payload)).toBe('efgh');
      expect(await readSubgroupObject(reader, header, 1, data, 100)).toBeUndefined();
    }
  });

  it('draft-16 DEFAULT_PRIORITY subgroup types (0x30–0x3D) omit the priority; draft-14 has none', () => {
    expect(dataCodec('draft-16').subgroupFlags(0x35)).toEqual({ subgroupId: 'present', hasExtensions: true, endOfGroup: false, hasPriority: false });
    expect(dataCodec('draft-14').subgroupFlags(0x35)).toBeUndefined();
    for (const invalid of [0x16, 0x17, 0x1e, 0x1f, 0x0f, 0x40]) {
      expect(dataCodec('draft-16').subgroupFlags(invalid)).toBeUndefined();
      expect(dataCodec('draft-14').subgroupFlags(invalid)).toBeUndefined();
    }
  });

  it('delta-encodes extension types in draft-16 and not in draft-14', () => {
    const header: SubgroupHeader = { trackAlias: 1, groupId: 1, subgroupId: 0, publisherPriority: 5, hasExtensions: true, endOfGroup: true };
    const object: MoqObject = {
      objectId: 0,
      status: 'normal',
      extensions: [
        { type: 0x08n, value: 1_000_000n },
        { type: 0x10n, value: 42n },
      ],
      payload: Uint8Array.of(9),
    };
    // 0x08 = 1e6 (4-byte varint 0x800f4240), then 0x10 (delta 0x08 in draft-16) = 42.
    expect(hex(encodeSubgroupObject(header, object, undefined, dataCodec('draft-16')))).toBe('00' + '07' + '08800f4240' + '082a' + '0109');
    expect(hex(encodeSubgroupObject(header, object, undefined, dataCodec('draft-14')))).toBe('00' + '07' + '08800f4240' + '102a' + '0109');
  });

  it('draft-16 FETCH objects use Serialization Flags relative to the previous object (§10.4.4)', async () => {
    const data = dataCodec('draft-16');
    const objects: FetchObject[] = [
      { groupId: 3, subgroupId: 0, objectId: 0, publisherPriority: 1, status: 'normal', extensions: [], payload: Uint8Array.of(1) },
      { groupId: 3, subgroupId: 0, objectId: 1, publisherPriority: 1, status: 'normal', extensions: [], payload: Uint8Array.of(2) },
      { groupId: 4, subgroupId: 0, objectId: 0, publisherPriority: 1, status: 'normal', extensions: [], payload: Uint8Array.of(3) },
    ];
    const writer = new ByteWriter();
    let previous: FetchObject | undefined;
    for (const object of objects) {
      data.writeFetchObject(writer, object, previous);
      previous = object;
    }
    const bytes = writer.finish();
    // First: flags 0x1c (group, object, priority present, subgroup 0); second: 0x00 (all implied).
    expect(hex(bytes.subarray(0, 6))).toBe('1c03000101' + '01');
    const reader = new StreamReader(streamOf(bytes));
    const decoded: FetchObject[] = [];
    for (let object = await data.readFetchObject(reader, undefined, 100); object; object = await data.readFetchObject(reader, decoded.at(-1), 100)) {
      if ('endOfRange' in object) throw new Error('unexpected range marker');
      decoded.push(object);
    }
    expect(decoded).toEqual(objects);
  });
});

// --- random messages -------------------------------------------------------------------------

const field = fc.uint8Array({ minLength: 1, maxLength: 8 });
const namespace = fc.array(field, { minLength: 1, maxLength: 4 });
const prefix = fc.array(field, { minLength: 0, maxLength: 4 });
const id = fc.nat({ max: 2 ** 40 });
const small = fc.nat({ max: 100_000 });
const location = fc.record({ group: id, object: small });
const order = fc.constantFrom('ascending' as const, 'descending' as const);
const filter: fc.Arbitrary<SubscriptionFilter> = fc.oneof(
  fc.constant({ type: 'nextGroupStart' as const }),
  fc.constant({ type: 'largestObject' as const }),
  location.map((start) => ({ type: 'absoluteStart' as const, start })),
  fc.tuple(location, small).map(([start, extra]) => ({ type: 'absoluteRange' as const, start, endGroup: start.group + extra })),
);
const token = fc.oneof(
  fc.record({ aliasType: fc.constant('useValue' as const), tokenType: fc.bigInt({ min: 0n, max: 1000n }), value: fc.uint8Array({ maxLength: 20 }) }),
  fc.record({ aliasType: fc.constant('register' as const), alias: fc.bigInt({ min: 0n, max: 1000n }), tokenType: fc.bigInt({ min: 0n, max: 9n }), value: fc.uint8Array({ maxLength: 20 }) }),
  fc.record({ aliasType: fc.constant('useAlias' as const), alias: fc.bigInt({ min: 0n, max: 1000n }) }),
);
const parameters: fc.Arbitrary<MessageParameters> = fc.record(
  {
    authorizationTokens: fc.array(token, { maxLength: 2 }),
    deliveryTimeoutMs: fc.integer({ min: 1, max: 60_000 }),
    maxCacheDurationMs: small,
    subscriberPriority: fc.nat({ max: 255 }),
    groupOrder: order,
    filter,
    forward: fc.boolean(),
    expiresMs: small,
    largest: location,
    newGroupRequest: small,
  },
  { requiredKeys: ['authorizationTokens'] },
);
const extension: fc.Arbitrary<KeyValuePair> = fc.oneof(
  fc.bigInt({ min: 0n, max: 500n }).map((n) => ({ type: 0x40n + n * 2n, value: BigInt(n) })),
  fc.tuple(fc.bigInt({ min: 0n, max: 500n }), fc.uint8Array({ maxLength: 8 })).map(([n, value]) => ({ type: 0x41n + n * 2n, value })),
);
const properties: fc.Arbitrary<TrackProperties> = fc.record(
  { publisherPriority: fc.nat({ max: 255 }), groupOrder: order, deliveryTimeoutMs: fc.integer({ min: 1, max: 9999 }), other: fc.uniqueArray(extension, { maxLength: 3, selector: (e) => e.type }) },
  { requiredKeys: ['other'] },
);
const reason = fc.string({ maxLength: 30 });

function messages(version: (typeof VERSIONS)[number]): fc.Arbitrary<ControlMessage> {
  const common: fc.Arbitrary<ControlMessage>[] = [
    fc.record({ type: fc.constant('goaway' as const), uri: fc.webUrl() }),
    fc.record({ type: fc.constant('max_request_id' as const), maxRequestId: id }),
    fc.record({ type: fc.constant('requests_blocked' as const), maxRequestId: id }),
    fc.record({ type: fc.constant('subscribe' as const), requestId: id, namespace, name: fc.uint8Array({ maxLength: 10 }), subscriberPriority: fc.nat({ max: 255 }), groupOrder: fc.option(order, { nil: undefined }), forward: fc.boolean(), filter, parameters }),
    fc.record({ type: fc.constant('subscribe_ok' as const), requestId: id, trackAlias: id, expiresMs: small, groupOrder: order, largest: fc.option(location, { nil: undefined }), properties }),
    fc.record({ type: fc.constant('request_error' as const), kind: fc.constantFrom('subscribe' as const, 'fetch' as const, 'publish' as const, 'publish_namespace' as const, 'subscribe_namespace' as const, 'track_status' as const), requestId: id, code: small, retryInterval: small, reason }),
    fc.record({ type: fc.constant('unsubscribe' as const), requestId: id }),
    fc.record({ type: fc.constant('publish' as const), requestId: id, namespace, name: fc.uint8Array({ maxLength: 10 }), trackAlias: id, largest: fc.option(location, { nil: undefined }), forward: fc.boolean(), properties, parameters }),
    fc.record({ type: fc.constant('publish_ok' as const), requestId: id, forward: fc.boolean(), subscriberPriority: fc.nat({ max: 255 }), groupOrder: order, filter, parameters }),
    fc.record({ type: fc.constant('publish_done' as const), requestId: id, statusCode: small, streamCount: fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), reason }),
    fc.record({
      type: fc.constant('fetch' as const),
      requestId: id,
      subscriberPriority: fc.nat({ max: 255 }),
      groupOrder: order,
      range: fc.oneof(
        fc.record({ type: fc.constant('standalone' as const), namespace, name: fc.uint8Array({ maxLength: 10 }), start: location, end: location }),
        fc.record({ type: fc.constantFrom('relativeJoining' as const, 'absoluteJoining' as const), joiningRequestId: id, joiningStart: small }),
      ),
      parameters,
    }),
    fc.record({ type: fc.constant('fetch_ok' as const), requestId: id, groupOrder: order, endOfTrack: fc.boolean(), endLocation: location, properties }),
    fc.record({ type: fc.constant('fetch_cancel' as const), requestId: id }),
    fc.record({ type: fc.constant('track_status' as const), requestId: id, namespace, name: fc.uint8Array({ maxLength: 10 }), parameters }),
    fc.record({ type: fc.constant('track_status_ok' as const), requestId: id, largest: fc.option(location, { nil: undefined }), groupOrder: order, expiresMs: small }),
    fc.record({ type: fc.constant('publish_namespace' as const), requestId: id, namespace, parameters }),
    fc.record({ type: fc.constant('subscribe_namespace' as const), requestId: id, prefix, options: fc.constantFrom('publish' as const, 'namespace' as const, 'both' as const), parameters }),
  ];
  if (version === 'draft-14') {
    return fc.oneof<fc.Arbitrary<ControlMessage>[]>(
      ...common,
      fc.record({ type: fc.constant('client_setup' as const), versions: fc.array(fc.nat({ max: 2 ** 32 - 1 }), { maxLength: 4 }), parameters: fc.record({ authorizationTokens: fc.constant([] as AuthToken[]), maxRequestId: small, path: fc.string() }) }),
      fc.record({ type: fc.constant('request_ok' as const), kind: fc.constantFrom('publish_namespace' as const, 'subscribe_namespace' as const), requestId: id, parameters: fc.constant({ authorizationTokens: [] }) }),
      fc.record({ type: fc.constant('request_update' as const), requestId: id, existingRequestId: id, subscriberPriority: fc.nat({ max: 255 }), forward: fc.boolean(), filter, parameters }),
      fc.record({ type: fc.constant('publish_namespace_done' as const), namespace }),
      fc.record({ type: fc.constant('publish_namespace_cancel' as const), namespace, code: small, reason }),
      fc.record({ type: fc.constant('unsubscribe_namespace' as const), prefix: namespace }),
    );
  }
  return fc.oneof<fc.Arbitrary<ControlMessage>[]>(
    ...common,
    fc.record({ type: fc.constant('client_setup' as const), versions: fc.constant([] as number[]), parameters: fc.record({ authorizationTokens: fc.constant([] as AuthToken[]), maxRequestId: small, implementation: fc.string() }) }),
    fc.record({ type: fc.constant('request_ok' as const), requestId: id, parameters }),
    fc.record({ type: fc.constant('request_update' as const), requestId: id, existingRequestId: id, subscriberPriority: fc.option(fc.nat({ max: 255 }), { nil: undefined }), forward: fc.option(fc.boolean(), { nil: undefined }), filter: fc.option(filter, { nil: undefined }), parameters }),
    fc.record({ type: fc.constant('publish_namespace_done' as const), requestId: id }),
    fc.record({ type: fc.constant('publish_namespace_cancel' as const), requestId: id, code: small, reason }),
    fc.record({ type: fc.constant('namespace' as const), suffix: prefix }),
    fc.record({ type: fc.constant('namespace_done' as const), suffix: prefix }),
  );
}

describe.each(VERSIONS)('%s control codec round trips', (version) => {
  const codec = controlCodec(version);
  it('encode → decode → encode is stable for random messages', () => {
    fc.assert(
      fc.property(messages(version), (message) => {
        const first = codec.encode(message);
        const decoded = codec.decode(first);
        const second = codec.encode(decoded);
        expect(second.type).toBe(first.type);
        expect(hex(second.body)).toBe(hex(first.body));
        // The fields every draft carries survive as they are.
        if ('requestId' in message && 'requestId' in decoded && message.type !== 'track_status_ok') expect(decoded.requestId).toBe(message.requestId);
        if (message.type === 'subscribe' && decoded.type === 'subscribe') {
          expect(decoded.namespace.map(hex)).toEqual(message.namespace.map(hex));
          expect(decoded.subscriberPriority).toBe(message.subscriberPriority);
          expect(decoded.filter).toEqual(message.filter);
          expect(decoded.forward).toBe(message.forward);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe.each(VERSIONS)('%s data codec round trips', (version) => {
  const data = dataCodec(version);
  const statuses = version === 'draft-14' ? (['normal', 'endOfGroup', 'endOfTrack', 'doesNotExist'] as const) : (['normal', 'endOfGroup', 'endOfTrack'] as const);

  it('subgroup streams', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          trackAlias: id,
          groupId: id,
          subgroupId: fc.oneof(fc.constant(0), fc.constant('firstObject' as const), fc.integer({ min: 1, max: 1000 })),
          publisherPriority: version === 'draft-14' ? fc.nat({ max: 255 }) : fc.option(fc.nat({ max: 255 }), { nil: undefined }),
          hasExtensions: fc.boolean(),
          endOfGroup: fc.boolean(),
        }),
        fc.array(fc.tuple(fc.nat({ max: 3 }), fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...statuses), fc.uniqueArray(extension, { maxLength: 2, selector: (e) => e.type })), { maxLength: 5 }),
        async (header, specs) => {
          let objectId = -1;
          const objects: MoqObject[] = specs.map(([gap, payload, status, extensions]) => {
            objectId += gap + 1;
            const normal = payload.byteLength > 0 || status === 'normal';
            return {
              objectId,
              status: payload.byteLength > 0 ? 'normal' : status,
              extensions: header.hasExtensions && normal ? extensions.sort((a, b) => (a.type < b.type ? -1 : 1)) : [],
              payload: normal ? payload : new Uint8Array(0),
            };
          });
          const chunks = [encodeSubgroupHeader(header, data)];
          let previous: number | undefined;
          for (const object of objects) {
            chunks.push(encodeSubgroupObject(header, object, previous, data));
            previous = object.objectId;
          }
          const reader = new StreamReader(streamOf(concat(chunks)));
          const decodedHeader = await readSubgroupHeader(reader, await reader.varint(), data);
          expect(decodedHeader).toEqual(header);
          const decoded: MoqObject[] = [];
          let last: number | undefined;
          for (let object = await readSubgroupObject(reader, decodedHeader, last, data, 1000); object; object = await readSubgroupObject(reader, decodedHeader, last, data, 1000)) {
            decoded.push(object);
            last = object.objectId;
          }
          expect(decoded).toEqual(objects);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('datagrams', () => {
    fc.assert(
      fc.property(
        fc.record({
          trackAlias: id,
          groupId: id,
          objectId: fc.oneof(fc.constant(0), small),
          publisherPriority: version === 'draft-14' ? fc.nat({ max: 255 }) : fc.option(fc.nat({ max: 255 }), { nil: undefined }),
          endOfGroup: fc.boolean(),
          status: fc.constantFrom(...statuses),
          extensions: fc.uniqueArray(extension, { maxLength: 2, selector: (e) => e.type }),
          payload: fc.uint8Array({ maxLength: 40 }),
        }),
        (spec) => {
          const status = spec.status;
          const object: DatagramObject = {
            ...spec,
            extensions: status === 'normal' ? spec.extensions.sort((a, b) => (a.type < b.type ? -1 : 1)) : [],
            payload: status === 'normal' ? spec.payload : new Uint8Array(0),
            endOfGroup: status === 'normal' ? spec.endOfGroup : false,
          };
          expect(data.decodeDatagram(data.encodeDatagram(object))).toEqual(object);
        },
      ),
      { numRuns: 300 },
    );
  });
});
