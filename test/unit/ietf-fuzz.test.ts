/**
 * Fuzzing every IETF decoder of network bytes, both drafts: control messages, CLIENT_SETUP on a
 * stream, subgroup and fetch streams, datagrams, tokens, MSF catalogs. Random or mutated input may
 * only ever produce a ProtocolError (MediaParseError for catalogs) — never another exception, a
 * hang, or an allocation sized by an unchecked length.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkedStream } from '../helpers/chunked.ts';
import { MediaParseError } from '../../src/media/errors.ts';
import { parseMsfCatalog } from '../../src/media/msf/catalog.ts';
import { controlCodec } from '../../src/moq/ietf/control-codec.ts';
import { dataCodec } from '../../src/moq/ietf/data/codecs.ts';
import { FETCH_HEADER_TYPE } from '../../src/moq/ietf/data/data-codec.ts';
import type { FetchObject } from '../../src/moq/ietf/data/objects.ts';
import { readSubgroupHeader, readSubgroupObject } from '../../src/moq/ietf/data/subgroup-stream.ts';
import { IetfProtocolError, SessionErrorCode } from '../../src/moq/ietf/errors.ts';
import { readClientSetupFrom } from '../../src/moq/ietf/setup.ts';
import type { IetfVersion } from '../../src/moq/ietf/version.ts';
import { frameControlMessage } from '../../src/moq/ietf/wire/control-framing.ts';
import { decodeToken } from '../../src/moq/ietf/wire/token.ts';
import { ProtocolError } from '../../src/wire/errors.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';

const VERSIONS: IetfVersion[] = ['draft-14', 'draft-16'];
const CONTROL_TYPES = [0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1d, 0x1e, 0x1f, 0x20, 0x21];
const RUNS = 3000;

function expectOnlyProtocolErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
  }
}

async function expectOnlyProtocolErrorsAsync(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
  }
}

/** What the session does with a peer-opened uni stream, minus the relay. */
async function readDataStream(version: IetfVersion, stream: ReadableStream<Uint8Array>): Promise<number> {
  const data = dataCodec(version);
  const reader = new StreamReader(stream);
  const type = await reader.varint();
  let objects = 0;
  if (type === FETCH_HEADER_TYPE) {
    await reader.varint();
    let previous: FetchObject | undefined;
    for (let object = await data.readFetchObject(reader, previous, 4096); object; object = await data.readFetchObject(reader, previous, 4096)) {
      if (!('endOfRange' in object)) previous = object;
      objects++;
    }
    return objects;
  }
  if (!data.subgroupFlags(type)) throw new IetfProtocolError(SessionErrorCode.protocolViolation, 'unknown stream type');
  const header = await readSubgroupHeader(reader, type, data);
  let previous: number | undefined;
  for (let object = await readSubgroupObject(reader, header, previous, data, 4096); object; object = await readSubgroupObject(reader, header, previous, data, 4096)) {
    previous = object.objectId;
    objects++;
  }
  return objects;
}

/** A byte with the varint length bits set as often as not, to reach the long-length paths. */
const noisyBytes = fc.uint8Array({ maxLength: 300 });

const mutation = fc.record({
  truncate: fc.nat(),
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  tail: fc.uint8Array({ maxLength: 8 }),
});

function mutate(bytes: Uint8Array, m: { truncate: number; flips: [number, number][]; tail: Uint8Array }): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + m.tail.byteLength);
  out.set(bytes, 0);
  out.set(m.tail, bytes.byteLength);
  for (const [position, value] of m.flips) if (out.byteLength > 0) out[position % out.byteLength] = value;
  return out.subarray(0, out.byteLength === 0 ? 0 : m.truncate % (out.byteLength + 1));
}

describe.each(VERSIONS)('%s decoders under fuzz', (version) => {
  const codec = controlCodec(version);
  const data = dataCodec(version);

  it('control messages: random type and body', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...CONTROL_TYPES), fc.nat({ max: 0x3fff })), noisyBytes, (type, body) => {
        expectOnlyProtocolErrors(() => codec.decode({ type, body }));
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('control messages: mutated valid bodies', () => {
    const seeds = [
      codec.encode({ type: 'subscribe', requestId: 4, namespace: [Uint8Array.of(0x61)], name: Uint8Array.of(0x62), subscriberPriority: 3, groupOrder: 'descending', forward: true, filter: { type: 'absoluteRange', start: { group: 1, object: 2 }, endGroup: 7 }, parameters: { authorizationTokens: [{ aliasType: 'useValue', tokenType: 1n, value: Uint8Array.of(1, 2) }], deliveryTimeoutMs: 500 } }),
      codec.encode({ type: 'publish', requestId: 6, namespace: [Uint8Array.of(0x61), Uint8Array.of(0x62)], name: Uint8Array.of(0x63), trackAlias: 9, largest: { group: 3, object: 4 }, forward: true, properties: { other: [{ type: 0x41n, value: Uint8Array.of(7) }], publisherPriority: 5, groupOrder: 'ascending' }, parameters: { authorizationTokens: [] } }),
      codec.encode({ type: 'fetch', requestId: 8, subscriberPriority: 1, groupOrder: 'ascending', range: { type: 'standalone', namespace: [Uint8Array.of(0x61)], name: Uint8Array.of(0x62), start: { group: 0, object: 0 }, end: { group: 3, object: 0 } }, parameters: { authorizationTokens: [] } }),
      codec.encode({ type: 'subscribe_ok', requestId: 8, trackAlias: 1, expiresMs: 0, groupOrder: 'descending', largest: { group: 9, object: 9 }, properties: { other: [], publisherPriority: 7 } }),
      codec.encode({ type: 'publish_namespace', requestId: 2, namespace: [Uint8Array.of(0x61)], parameters: { authorizationTokens: [{ aliasType: 'register', alias: 3n, tokenType: 0n, value: Uint8Array.of(9) }] } }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...seeds), mutation, (seed, m) => {
        expectOnlyProtocolErrors(() => codec.decode({ type: seed.type, body: mutate(seed.body, m) }));
      }),
      { numRuns: RUNS },
    );
  });

  it('CLIENT_SETUP read from a stream', async () => {
    const valid = frameControlMessage(0x20, codec.encode({ type: 'client_setup', versions: [0xff00000e], parameters: { authorizationTokens: [], maxRequestId: 10, path: '/x' } }).body);
    await fc.assert(
      fc.asyncProperty(fc.oneof(noisyBytes, mutation.map((m) => mutate(valid, m))), fc.array(fc.nat(), { maxLength: 4 }), async (bytes, cuts) => {
        await expectOnlyProtocolErrorsAsync(() => readClientSetupFrom(new StreamReader(chunkedStream(bytes, cuts)), version));
      }),
      { numRuns: RUNS / 3 },
    );
  });

  it('data streams: subgroup and fetch headers and objects', async () => {
    const subgroupType = version === 'draft-14' ? 0x15 : 0x35;
    const seeds = [
      Uint8Array.of(0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64, 0x00, 0x00, 0x03),
      Uint8Array.of(subgroupType, 0x01, 0x05, 0x02, 0x00, 0x04, 0x10, 0x2a, 0x41, 0x01, 0x02, 0x01, 0x09),
      Uint8Array.of(0x05, 0x07, 0x1c, 0x03, 0x00, 0x01, 0x01, 0x05, 0x00, 0x01, 0x06, 0x8c, 0x04, 0x09),
    ];
    await fc.assert(
      fc.asyncProperty(fc.oneof(noisyBytes, fc.tuple(fc.constantFrom(...seeds), mutation).map(([seed, m]) => mutate(seed, m))), fc.array(fc.nat(), { maxLength: 4 }), async (bytes, cuts) => {
        await expectOnlyProtocolErrorsAsync(() => readDataStream(version, chunkedStream(bytes, cuts)));
      }),
      { numRuns: RUNS },
    );
  });

  it('datagrams', () => {
    fc.assert(
      fc.property(noisyBytes, (bytes) => {
        expectOnlyProtocolErrors(() => data.decodeDatagram(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses lengths beyond the limits before reading them', async () => {
    // A subgroup object claiming 2^30 payload bytes fails on the limit, with 4 bytes on the wire.
    const huge = Uint8Array.of(0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0xff, 0xff, 0xff);
    await expect(readDataStream(version, chunkedStream(huge))).rejects.toThrow(/exceeds/);
    // A control body claiming 1000 namespace fields is refused on the count.
    expect(() => codec.decode({ type: 0x06, body: Uint8Array.of(0x00, 0x43, 0xe8, 0x00) })).toThrow(ProtocolError);
  });
});

describe('payload-level decoders under fuzz', () => {
  it('authorization tokens fail with KEY_VALUE_FORMATTING_ERROR', () => {
    fc.assert(
      fc.property(noisyBytes, (bytes) => {
        try {
          decodeToken(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(IetfProtocolError);
          expect((error as IetfProtocolError).sessionCode).toBe(SessionErrorCode.keyValueFormattingError);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('MSF catalogs fail with MediaParseError only', () => {
    fc.assert(
      fc.property(fc.oneof(noisyBytes, fc.json().map((json) => new TextEncoder().encode(json))), (bytes) => {
        try {
          parseMsfCatalog(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(MediaParseError);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
