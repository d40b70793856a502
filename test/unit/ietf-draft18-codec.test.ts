/**
 * draft-ietf-moq-transport-18: vi64 integers (§1.4.1) and the control codec (§9) — spec examples,
 * per-message layouts, and encode → decode → encode round trips of random messages.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { draft18ControlCodec, draft18LengthPrefixedLocationCodec, Draft18MessageType, draft19ControlCodec } from '../../src/moq/ietf/draft18/control-codec.ts';
import { peerQuirks } from '../../src/moq/ietf/session/peer.ts';
import type { ControlMessage, MessageParameters, SubscriptionFilter, TrackProperties } from '../../src/moq/ietf/messages.ts';
import type { KeyValuePair } from '../../src/moq/ietf/wire/key-value.ts';
import { ByteReader } from '../../src/wire/byte-reader.ts';
import { ByteWriter } from '../../src/wire/byte-writer.ts';
import { decodeVi64BigAt, encodeVi64, MAX_VI64, vi64Length, vi64LengthFromFirstByte } from '../../src/wire/vi64.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'hex'));
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const codec = draft18ControlCodec;

describe('vi64 (draft-18 §1.4.1)', () => {
  // The "Example Integer Encodings" table.
  const examples: [string, bigint][] = [
    ['25', 37n],
    ['8025', 37n],
    ['bbbd', 15_293n],
    ['ed7f3e7d', 226_442_877n],
    ['faa1a0e403d8', 2_893_212_287_960n],
    ['fc8998abc66bc0', 151_288_809_941_952n],
    ['fefa318fa8e3ca11', 70_423_237_261_249_041n],
    ['ffffffffffffffffff', 18_446_744_073_709_551_615n],
  ];
  it.each(examples)('decodes %s as %s', (encoded, value) => {
    const b = bytes(encoded);
    expect(vi64LengthFromFirstByte(b[0]!)).toBe(b.byteLength);
    expect(decodeVi64BigAt(b, 0)).toBe(value);
    const reader = new ByteReader(b, 'vi64');
    expect(reader.varintBig()).toBe(value);
    expect(reader.atEnd).toBe(true);
  });

  it('writes the shortest form (the non-minimal 0x8025 goes out as 0x25)', () => {
    for (const [encoded, value] of examples) if (encoded !== '8025') expect(hex(encodeVi64(value))).toBe(encoded);
    expect(hex(encodeVi64(37))).toBe('25');
  });

  it('has the length boundaries of the summary table', () => {
    expect([127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456].map(vi64Length)).toEqual([1, 2, 2, 3, 3, 4, 4, 5]);
    expect(vi64Length((1n << 56n) - 1n)).toBe(8);
    expect(vi64Length(1n << 56n)).toBe(9);
    expect(() => vi64Length(MAX_VI64 + 1n)).toThrow(RangeError);
    expect(() => vi64Length(-1)).toThrow(RangeError);
  });

  it('round-trips every 64-bit value, as number and bigint', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_VI64 }), (value) => {
        const w = new ByteWriter(4, 'vi64').varint(value);
        expect(new ByteReader(w.finish(), 'vi64').varintBig()).toBe(value);
        if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
          const n = Number(value);
          const wn = new ByteWriter(4, 'vi64').varint(n).finish();
          expect(hex(wn)).toBe(hex(w.finish()));
          expect(new ByteReader(wn, 'vi64').varint()).toBe(n);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects truncation and numbers past 2^53-1 where a number is asked for', () => {
    expect(() => new ByteReader(bytes('faa1a0'), 'vi64').varint()).toThrow(/need 6 bytes/);
    expect(() => new ByteReader(bytes('ffffffffffffffffff'), 'vi64').varint()).toThrow(/2\^53-1/);
  });
});

describe('draft-18 control message layouts', () => {
  it('frames SETUP as type 0x2F00 (vi64 0xaf00), options as Key-Value-Pairs to the end (§9.3)', () => {
    const frame = codec.frame({ type: 'server_setup', parameters: { authorizationTokens: [], maxRequestId: 9, implementation: 'gw' } });
    // af00 type, 0004 length, option delta 7 (odd: bytes) length 2 "gw"; MAX_REQUEST_ID is gone in 18.
    expect(hex(frame)).toBe('af00' + '0004' + '0702' + hex(text('gw')));
    const decoded = codec.decode({ type: Draft18MessageType.setup, body: frame.subarray(4) });
    expect(decoded).toEqual({ type: 'client_setup', versions: [], parameters: { authorizationTokens: [], implementation: 'gw' } });
  });

  it('ignores unknown (and repeated unknown) setup options, e.g. GREASE 0x9D (§9.3)', () => {
    // path "/" (0x01, len 1), then 0x9D-0x01 = 0x9C delta: 2-byte vi64 0x809c, len 0 — twice (delta 0).
    const body = bytes('01012f' + '809c00' + '0000');
    expect(codec.decode({ type: 0x2f00, body })).toEqual({ type: 'client_setup', versions: [], parameters: { authorizationTokens: [], path: '/' } });
  });

  it('SUBSCRIBE carries priority, forward, filter and group order as typed parameters (§9.7, §9.2)', () => {
    const raw = codec.encode({
      type: 'subscribe',
      requestId: 2,
      namespace: [text('a')],
      name: text('t'),
      subscriberPriority: 7,
      groupOrder: 'descending',
      forward: false,
      filter: { type: 'absoluteRange', start: { group: 5, object: 1 }, endGroup: 9 },
      parameters: { authorizationTokens: [], deliveryTimeoutMs: 300 },
    });
    expect(raw.type).toBe(0x03);
    // id 2, ns 1 field "a", name "t", 5 params:
    //   0x02 OBJECT_DELIVERY_TIMEOUT varint 300 (vi64 0x812c),
    //   +0x0e → 0x10 FORWARD uint8 0,
    //   +0x10 → 0x20 SUBSCRIBER_PRIORITY uint8 7,
    //   +0x01 → 0x21 SUBSCRIPTION_FILTER len 4: type 4, {5, 1}, End Group Delta 4,
    //   +0x01 → 0x22 GROUP_ORDER uint8 2.
    expect(hex(raw.body)).toBe('02' + '010161' + '0174' + '05' + '02812c' + '0e00' + '1007' + '010404050104' + '0102');
    const decoded = codec.decode(raw);
    expect(decoded).toMatchObject({ type: 'subscribe', requestId: 2, subscriberPriority: 7, groupOrder: 'descending', forward: false, filter: { type: 'absoluteRange', start: { group: 5, object: 1 }, endGroup: 9 } });
  });

  it('responses carry no Request ID; they decode with the request stream\'s (§9.1)', () => {
    const ok = codec.encode({ type: 'subscribe_ok', requestId: 44, trackAlias: 3, expiresMs: 0, groupOrder: 'ascending', properties: { other: [] } });
    // alias 3, no parameters, no properties.
    expect(hex(ok.body)).toBe('0300');
    expect(codec.decode(ok, 44)).toEqual({ type: 'subscribe_ok', requestId: 44, trackAlias: 3, expiresMs: 0, groupOrder: 'ascending', largest: undefined, properties: { other: [] } });
    const done = codec.encode({ type: 'publish_done', requestId: 44, statusCode: 2, streamCount: 5n, reason: 'x' });
    expect(hex(done.body)).toBe('0205' + '0178');
    const update = codec.decode(codec.encode({ type: 'request_update', requestId: 46, existingRequestId: 44, forward: true, parameters: { authorizationTokens: [] } }), 44);
    expect(update).toMatchObject({ type: 'request_update', requestId: 46, existingRequestId: 44, forward: true });
  });

  it('REQUEST_ERROR: code, retry interval, reason, and a Redirect only for REDIRECT 0x34 (§9.6)', () => {
    const plain = codec.encode({ type: 'request_error', requestId: 0, code: 0x10, retryInterval: 0, reason: 'no' });
    expect(hex(plain.body)).toBe('1000' + '026e6f');
    const redirect = { uri: 'moqt://b', namespace: [text('n')], name: text('t') };
    const raw = codec.encode({ type: 'request_error', requestId: 0, code: 0x34, retryInterval: 1, reason: '', redirect });
    expect(hex(raw.body)).toBe('340100' + '08' + hex(text('moqt://b')) + '01016e' + '0174');
    expect(codec.decode(raw, 6)).toEqual({ type: 'request_error', requestId: 6, code: 0x34, retryInterval: 1, reason: '', redirect });
  });

  it('REQUEST_OK has Track Properties; PUBLISH_OK (0x1E) has the layout and rejects them (§9.5)', () => {
    const ok = codec.encode({ type: 'track_status_ok', requestId: 1, largest: { group: 3, object: 4 }, groupOrder: 'descending', expiresMs: 0 });
    // LARGEST_OBJECT 0x09 Location {3,4}; property DEFAULT_PUBLISHER_GROUP_ORDER 0x22 = 2.
    expect(ok.type).toBe(0x07);
    expect(hex(ok.body)).toBe('01' + '090304' + '2202');
    expect(codec.decode(ok, 1)).toMatchObject({ type: 'request_ok', requestId: 1, parameters: { largest: { group: 3, object: 4 } }, properties: { groupOrder: 'descending' } });
    const publishOk = codec.encode({ type: 'publish_ok', requestId: 5, forward: true, subscriberPriority: 128, parameters: { authorizationTokens: [] } });
    expect(publishOk.type).toBe(0x1e);
    expect(hex(publishOk.body)).toBe('00');
    expect(() => codec.decode({ type: 0x1e, body: bytes('002202') })).toThrow(/Track Properties/);
  });

  it('GOAWAY: URI, timeout and (control stream) Request ID (§9.4)', () => {
    const raw = codec.encode({ type: 'goaway', uri: '', timeoutMs: 5000, requestId: 4 });
    expect(hex(raw.body)).toBe('00' + '9388' + '04');
    expect(codec.decode(raw)).toEqual({ type: 'goaway', uri: '', timeoutMs: 5000, requestId: 4 });
    expect(codec.decode({ type: 0x10, body: bytes('0000') })).toEqual({ type: 'goaway', uri: '', timeoutMs: 0 });
  });

  it('SUBSCRIBE_NAMESPACE (0x50) and SUBSCRIBE_TRACKS (0x51) replace the options field (§9.20, §9.21)', () => {
    const ns = codec.encode({ type: 'subscribe_namespace', requestId: 2, prefix: [text('a')], options: 'namespace', parameters: { authorizationTokens: [] } });
    const tracks = codec.encode({ type: 'subscribe_namespace', requestId: 4, prefix: [text('a')], options: 'publish', parameters: { authorizationTokens: [] } });
    expect([ns.type, tracks.type]).toEqual([0x50, 0x51]);
    expect(hex(ns.body)).toBe('02' + '010161' + '00');
    expect(codec.decode(tracks)).toMatchObject({ type: 'subscribe_namespace', requestId: 4, options: 'publish' });
    expect(() => codec.encode({ type: 'subscribe_namespace', requestId: 2, prefix: [], options: 'both', parameters: { authorizationTokens: [] } })).toThrow(RangeError);
  });

  it('PUBLISH_BLOCKED names a suffix and track (§9.22)', () => {
    const raw = codec.encode({ type: 'publish_blocked', suffix: [text('x')], name: text('v') });
    expect([raw.type, hex(raw.body)]).toEqual([0x0f, '010178' + '0176']);
    expect(codec.decode(raw)).toEqual({ type: 'publish_blocked', suffix: [text('x')], name: text('v') });
  });

  it('has no cancel or flow-control messages: they are stream resets (§3.5.1)', () => {
    for (const message of [
      { type: 'max_request_id', maxRequestId: 1 },
      { type: 'requests_blocked', maxRequestId: 1 },
      { type: 'unsubscribe', requestId: 1 },
      { type: 'fetch_cancel', requestId: 1 },
      { type: 'publish_namespace_done', requestId: 1 },
      { type: 'publish_namespace_cancel', requestId: 1, code: 0, reason: '' },
      { type: 'unsubscribe_namespace', requestId: 1 },
    ] as ControlMessage[]) {
      expect(() => codec.encode(message)).toThrow(RangeError);
    }
    // The draft-16 numbers of removed messages and of CLIENT_SETUP/SERVER_SETUP are unknown here.
    for (const type of [0x0a, 0x09, 0x0c, 0x11, 0x15, 0x17, 0x1a, 0x20, 0x21]) expect(() => codec.decode({ type, body: new Uint8Array() })).toThrow(/unknown draft-18/);
  });

  it('rejects unknown and duplicated parameters, and an oversized uint8 FORWARD', () => {
    // SUBSCRIBE id 0, ns "a", name "", 1 param of unknown type 0x0c.
    expect(() => codec.decode({ type: 0x03, body: bytes('00' + '010161' + '00' + '01' + '0c00') })).toThrow(/unknown message parameter 0xc/);
    expect(() => codec.decode({ type: 0x03, body: bytes('00' + '010161' + '00' + '02' + '1001' + '0001') })).toThrow(/duplicate/);
    expect(() => codec.decode({ type: 0x03, body: bytes('00' + '010161' + '00' + '01' + '1002') })).toThrow(/FORWARD/);
    // A filter that does not fill its length.
    expect(() => codec.decode({ type: 0x03, body: bytes('00' + '010161' + '00' + '01' + '21' + '020100') })).toThrow(/SUBSCRIPTION_FILTER/);
  });

  it('reads a DELIVERY_TIMEOUT of 0 as "no timeout" (draft-18 #1450), unlike draft-16', () => {
    const raw = codec.encode({ type: 'subscribe', requestId: 0, namespace: [text('a')], name: text(''), subscriberPriority: 128, forward: true, parameters: { authorizationTokens: [], deliveryTimeoutMs: 0 } });
    expect(codec.decode(raw)).toMatchObject({ parameters: { deliveryTimeoutMs: 0 } });
  });
});

// --- random messages -------------------------------------------------------------------------

const field = fc.uint8Array({ minLength: 1, maxLength: 8 });
const namespace = fc.array(field, { minLength: 0, maxLength: 4 });
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
  fc.record({ aliasType: fc.constant('register' as const), alias: fc.bigInt({ min: 0n, max: 1n << 63n }), tokenType: fc.bigInt({ min: 0n, max: 9n }), value: fc.uint8Array({ maxLength: 20 }) }),
  fc.record({ aliasType: fc.constant('useAlias' as const), alias: fc.bigInt({ min: 0n, max: 1000n }) }),
);
const parameters: fc.Arbitrary<MessageParameters> = fc.record(
  {
    authorizationTokens: fc.array(token, { maxLength: 2 }),
    deliveryTimeoutMs: small,
    subgroupDeliveryTimeoutMs: small,
    rendezvousTimeoutMs: small,
    fillTimeoutMs: small,
    subscriberPriority: fc.nat({ max: 255 }),
    groupOrder: order,
    filter,
    forward: fc.boolean(),
    expiresMs: small,
    largest: location,
    newGroupRequest: small,
    namespacePrefix: namespace,
  },
  { requiredKeys: ['authorizationTokens'] },
);
const extension: fc.Arbitrary<KeyValuePair> = fc.oneof(
  fc.bigInt({ min: 0n, max: 500n }).map((n) => ({ type: 0x40n + n * 2n, value: BigInt(n) << 40n })),
  fc.tuple(fc.bigInt({ min: 0n, max: 500n }), fc.uint8Array({ maxLength: 8 })).map(([n, value]) => ({ type: 0x41n + n * 2n, value })),
);
const properties: fc.Arbitrary<TrackProperties> = fc.record(
  { publisherPriority: fc.nat({ max: 255 }), groupOrder: order, deliveryTimeoutMs: fc.nat({ max: 9999 }), maxCacheDurationMs: small, other: fc.uniqueArray(extension, { maxLength: 3, selector: (e) => e.type }) },
  { requiredKeys: ['other'] },
);
const reason = fc.string({ maxLength: 30 });
const name = fc.uint8Array({ maxLength: 10 });

const draft18Messages: fc.Arbitrary<ControlMessage> = fc.oneof<fc.Arbitrary<ControlMessage>[]>(
  fc.record({ type: fc.constant('client_setup' as const), versions: fc.constant([] as number[]), parameters: fc.record({ authorizationTokens: fc.array(token, { maxLength: 2 }), path: fc.string(), authority: fc.string(), implementation: fc.string(), maxAuthTokenCacheSize: small }, { requiredKeys: ['authorizationTokens'] }) }),
  fc.record({ type: fc.constant('goaway' as const), uri: fc.webUrl(), timeoutMs: small, requestId: fc.option(id, { nil: undefined }) }, { requiredKeys: ['type', 'uri', 'timeoutMs'] }),
  fc.record({ type: fc.constant('subscribe' as const), requestId: id, namespace, name, subscriberPriority: fc.nat({ max: 255 }), groupOrder: fc.option(order, { nil: undefined }), forward: fc.boolean(), filter: fc.option(filter, { nil: undefined }), parameters }),
  fc.record({ type: fc.constant('subscribe_ok' as const), requestId: id, trackAlias: id, expiresMs: small, groupOrder: order, largest: fc.option(location, { nil: undefined }), properties }),
  fc.record({ type: fc.constant('request_error' as const), requestId: id, code: small, retryInterval: small, reason }).map((m) => (m.code === 0x34 ? { ...m, redirect: { uri: 'moqt://r', namespace: [], name: new Uint8Array() } } : m)),
  fc.record({ type: fc.constant('request_ok' as const), requestId: id, parameters, properties }),
  fc.record({ type: fc.constant('track_status_ok' as const), requestId: id, largest: fc.option(location, { nil: undefined }), groupOrder: order, expiresMs: small }),
  fc.record({ type: fc.constant('request_update' as const), requestId: id, existingRequestId: id, subscriberPriority: fc.option(fc.nat({ max: 255 }), { nil: undefined }), forward: fc.option(fc.boolean(), { nil: undefined }), filter: fc.option(filter, { nil: undefined }), parameters }),
  fc.record({ type: fc.constant('publish' as const), requestId: id, namespace, name, trackAlias: id, largest: fc.option(location, { nil: undefined }), forward: fc.boolean(), properties, parameters }),
  fc.record({ type: fc.constant('publish_ok' as const), requestId: id, forward: fc.boolean(), subscriberPriority: fc.nat({ max: 255 }), groupOrder: order, filter, parameters }),
  fc.record({ type: fc.constant('publish_done' as const), requestId: id, statusCode: small, streamCount: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), reason }),
  fc.record({
    type: fc.constant('fetch' as const),
    requestId: id,
    subscriberPriority: fc.nat({ max: 255 }),
    groupOrder: order,
    range: fc.oneof(
      fc.record({ type: fc.constant('standalone' as const), namespace: fc.array(field, { minLength: 1, maxLength: 4 }), name, start: location, end: location }),
      fc.record({ type: fc.constantFrom('relativeJoining' as const, 'absoluteJoining' as const), joiningRequestId: id, joiningStart: small }),
    ),
    parameters,
  }),
  fc.record({ type: fc.constant('fetch_ok' as const), requestId: id, groupOrder: order, endOfTrack: fc.boolean(), endLocation: location, properties }),
  fc.record({ type: fc.constant('track_status' as const), requestId: id, namespace, name, parameters }),
  fc.record({ type: fc.constant('publish_namespace' as const), requestId: id, namespace, parameters }),
  fc.record({ type: fc.constant('subscribe_namespace' as const), requestId: id, prefix: namespace, options: fc.constantFrom('publish' as const, 'namespace' as const), parameters }),
  fc.record({ type: fc.constant('namespace' as const), suffix: namespace }),
  fc.record({ type: fc.constant('namespace_done' as const), suffix: namespace }),
  fc.record({ type: fc.constant('publish_blocked' as const), suffix: namespace, name }),
);

/** The Request ID a response is decoded with: the stream's (responses do not carry it). */
function streamRequestId(message: ControlMessage): number {
  if (message.type === 'request_update') return message.existingRequestId;
  return 'requestId' in message && message.requestId !== undefined && message.type !== 'goaway' ? message.requestId : 0;
}

describe('@moq/net quirk: length-prefixed LARGEST_OBJECT', () => {
  const message: ControlMessage = { type: 'subscribe_ok', requestId: 2, trackAlias: 1, expiresMs: 0, groupOrder: 'ascending', largest: { group: 3, object: 4 }, properties: { other: [] } };
  it('writes "two consecutive varints" by default (§9.2) and a length first for the quirky peer', () => {
    expect(hex(codec.encode(message).body)).toBe('01' + '01' + '090304');
    const quirky = draft18LengthPrefixedLocationCodec;
    expect(hex(quirky.encode(message).body)).toBe('01' + '01' + '09020304');
    expect(quirky.decode(quirky.encode(message), 2)).toMatchObject({ largest: { group: 3, object: 4 } });
    expect(() => quirky.decode({ type: 0x04, body: bytes('0101' + '0903030400') })).toThrow(/length/);
  });

  it('is on only for moq-lite-js (@moq/net) on drafts 18+', () => {
    expect(peerQuirks({ version: 'draft-18', implementation: 'moq-lite-js' }).lengthPrefixedLocation).toBe(true);
    expect(peerQuirks({ version: 'draft-19', implementation: 'moq-lite-js' }).lengthPrefixedLocation).toBe(true);
    expect(peerQuirks({ version: 'draft-16', implementation: 'moq-lite-js' }).lengthPrefixedLocation).toBe(false);
    expect(peerQuirks({ version: 'draft-18', implementation: 'mediamtx' }).lengthPrefixedLocation).toBe(false);
  });
});

describe('draft-19 differences (draft-19 Change Log "Since -18")', () => {
  const d19 = draft19ControlCodec;
  it('GOAWAY has no Request ID', () => {
    const raw = d19.encode({ type: 'goaway', uri: '', timeoutMs: 5000, requestId: 4 });
    expect(hex(raw.body)).toBe('00' + '9388');
    expect(() => d19.decode({ type: 0x10, body: bytes('00938804') })).toThrow(/unread/);
  });

  it('PUBLISH is answered with REQUEST_OK (0x1E reserved)', () => {
    const raw = d19.encode({ type: 'publish_ok', requestId: 5, forward: true, subscriberPriority: 128, parameters: { authorizationTokens: [] } });
    expect([raw.type, hex(raw.body)]).toEqual([0x07, '00']);
    expect(() => d19.decode({ type: 0x1e, body: bytes('00') })).toThrow(/unknown draft-19/);
  });

  it('PUBLISH_SKIPPED keeps PUBLISH_BLOCKED\'s number and layout', () => {
    const m: ControlMessage = { type: 'publish_blocked', suffix: [text('x')], name: text('v') };
    expect(d19.encode(m)).toEqual(codec.encode(m));
  });
});

describe.each([
  ['draft-18', draft18ControlCodec],
  ['draft-19', draft19ControlCodec],
] as const)('%s control codec round trips', (name, codec) => {
  it('encode → decode → encode is stable for random messages, Request IDs kept', () => {
    fc.assert(
      fc.property(draft18Messages, (message) => {
        const first = codec.encode(message);
        const decoded = codec.decode(first, streamRequestId(message));
        const second = codec.encode(decoded);
        expect(second.type).toBe(first.type);
        expect(hex(second.body)).toBe(hex(first.body));
        if ('requestId' in message && 'requestId' in decoded && message.type !== 'goaway') expect(decoded.requestId).toBe(message.requestId);
        expect(name === 'draft-19' && first.type === 0x1e).toBe(false);
        if (message.type === 'subscribe' && decoded.type === 'subscribe') {
          expect(decoded.namespace.map(hex)).toEqual(message.namespace.map(hex));
          expect(decoded.subscriberPriority).toBe(message.subscriberPriority);
          expect(decoded.filter).toEqual(message.filter);
          expect(decoded.forward).toBe(message.forward);
          expect(decoded.parameters.authorizationTokens).toEqual(message.parameters.authorizationTokens);
        }
        if (message.type === 'client_setup' && decoded.type === 'client_setup') expect(decoded.parameters).toEqual(message.parameters);
      }),
      { numRuns: 1000 },
    );
  });

  it('a frame is the vi64 type, the 16-bit length and the body', () => {
    fc.assert(
      fc.property(draft18Messages, (message) => {
        const raw = codec.encode(message);
        const frame = codec.frame(message);
        const reader = new ByteReader(frame, 'vi64');
        expect(reader.varint()).toBe(raw.type);
        expect(reader.u16()).toBe(raw.body.byteLength);
        expect(hex(reader.rest())).toBe(hex(raw.body));
      }),
      { numRuns: 200 },
    );
  });
});
