/**
 * draft-ietf-moq-transport-18 data plane (§10): subgroup streams with vi64 fields and the
 * FIRST_OBJECT bit, FETCH objects with delta-encoded Group/Object IDs in either group order, and
 * datagrams — spec examples and random round trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DatagramObject, FetchObject, MoqObject } from '../../src/moq/ietf/data/objects.ts';
import { encodeSubgroupHeader, encodeSubgroupObject, readSubgroupHeader, readSubgroupObject } from '../../src/moq/ietf/data/subgroup-stream.ts';
import { draft18DataCodec as data } from '../../src/moq/ietf/draft18/data-codec.ts';
import type { KeyValuePair } from '../../src/moq/ietf/wire/key-value.ts';
import { ByteWriter } from '../../src/wire/byte-writer.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'hex'));
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const readerOf = (b: Uint8Array): StreamReader =>
  new StreamReader(
    new ReadableStream({
      start(controller) {
        controller.enqueue(b);
        controller.close();
      },
    }),
    'vi64',
  );

async function readSubgroup(b: Uint8Array): Promise<{ header: Awaited<ReturnType<typeof readSubgroupHeader>>; objects: MoqObject[] }> {
  const reader = readerOf(b);
  const header = await readSubgroupHeader(reader, await reader.varint(), data);
  const objects: MoqObject[] = [];
  for (let o = await readSubgroupObject(reader, header, objects.at(-1)?.objectId, data, 1 << 20); o; o = await readSubgroupObject(reader, header, objects.at(-1)?.objectId, data, 1 << 20)) objects.push(o);
  return { header, objects };
}

describe('draft-18 subgroup streams (§10.4.2)', () => {
  it('decodes the §10.5 example: type 0x14, alias 2, group 0, subgroup 0, priority 0, "abcd" "efgh"', async () => {
    const { header, objects } = await readSubgroup(bytes('14' + '02' + '00' + '00' + '00' + '00' + '04' + hex(text('abcd')) + '00' + '04' + hex(text('efgh'))));
    expect(header).toEqual({ trackAlias: 2, groupId: 0, subgroupId: 0, publisherPriority: 0, hasExtensions: false, endOfGroup: false });
    expect(objects.map((o) => [o.objectId, new TextDecoder().decode(o.payload)])).toEqual([
      [0, 'abcd'],
      [1, 'efgh'],
    ]);
  });

  it('decodes the §10.5 properties example (type 0x35): 4 = 2186796243 as a vi64, 77 as bytes', async () => {
    // Property type 4 value 2186796243 (> 2^28: a 5-byte vi64), then delta 73 → 77, bytes.
    const value = new ByteWriter(8, 'vi64').varint(2_186_796_243).finish();
    const trace = text('traceID:123456').slice();
    const block = new ByteWriter(64, 'vi64').varint(4).bytes(value).varint(73).lengthPrefixedBytes(trace).finish();
    const stream = new ByteWriter(128, 'vi64').varint(0x35).varint(2).varint(0).varint(0).varint(0).lengthPrefixedBytes(block).varint(4).bytes(text('abcd')).varint(0).varint(0).varint(4).bytes(text('efgh')).finish();
    const { header, objects } = await readSubgroup(stream);
    expect(header).toMatchObject({ trackAlias: 2, subgroupId: 0, publisherPriority: undefined, hasExtensions: true });
    expect(objects[0]!.extensions).toEqual([
      { type: 4n, value: 2_186_796_243n },
      { type: 77n, value: trace },
    ]);
    expect(objects[1]).toMatchObject({ objectId: 1, extensions: [] });
  });

  it('reads and writes the FIRST_OBJECT bit (0x50..0x7D); rejects mode 0b11 and non-0b0XX1XXXX types', async () => {
    expect(data.subgroupFlags(0x54)).toEqual({ ...data.subgroupFlags(0x14), firstObject: true });
    expect(data.subgroupFlags(0x7d)).toEqual({ ...data.subgroupFlags(0x3d), firstObject: true });
    expect(data.subgroupFlags(0x14)?.firstObject).toBeUndefined();
    const header = { trackAlias: 1, groupId: 2, subgroupId: 0, publisherPriority: 3, hasExtensions: false, endOfGroup: true, firstObject: true };
    const encoded = encodeSubgroupHeader(header, data);
    expect(encoded[0]).toBe(0x58);
    expect((await readSubgroup(encoded)).header).toEqual(header);
    for (const type of [0x16, 0x17, 0x5e, 0x7f, 0x0f, 0x40, 0x80, 0x94]) expect(data.subgroupFlags(type)).toBeUndefined();
  });

  it('writes vi64 fields: a group ID of 2^40 takes 6 bytes, not QUIC\'s 8', () => {
    const header = encodeSubgroupHeader({ trackAlias: 1, groupId: 2 ** 40, subgroupId: 0, publisherPriority: 5, hasExtensions: false, endOfGroup: false }, data);
    expect(hex(header)).toBe('10' + '01' + 'f90000000000' + '05');
  });

  it('round-trips random subgroups', async () => {
    const extension: fc.Arbitrary<KeyValuePair> = fc.oneof(
      fc.bigInt({ min: 0n, max: 500n }).map((n) => ({ type: 0x40n + n * 2n, value: n << 50n })),
      fc.tuple(fc.bigInt({ min: 0n, max: 500n }), fc.uint8Array({ maxLength: 8 })).map(([n, value]) => ({ type: 0x41n + n * 2n, value })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          trackAlias: fc.nat({ max: 2 ** 50 }),
          groupId: fc.nat({ max: 2 ** 50 }),
          subgroupId: fc.oneof(fc.constant(0), fc.constant('firstObject' as const), fc.integer({ min: 1, max: 2 ** 40 })),
          publisherPriority: fc.option(fc.nat({ max: 255 }), { nil: undefined }),
          hasExtensions: fc.boolean(),
          endOfGroup: fc.boolean(),
          firstObject: fc.constant(true),
        }, { requiredKeys: ['trackAlias', 'groupId', 'subgroupId', 'publisherPriority', 'hasExtensions', 'endOfGroup'] }),
        fc.array(fc.tuple(fc.nat({ max: 300 }), fc.uint8Array({ maxLength: 40 }), fc.constantFrom('normal' as const, 'endOfGroup' as const, 'endOfTrack' as const), fc.uniqueArray(extension, { maxLength: 2, selector: (e) => e.type })), { maxLength: 5 }),
        async (header, specs) => {
          let objectId = -1;
          const objects: MoqObject[] = specs.map(([gap, payload, status, extensions]) => {
            objectId += gap + 1;
            const normal = payload.byteLength > 0 || status === 'normal';
            return { objectId, status: normal ? 'normal' : status, extensions: header.hasExtensions && normal ? extensions.sort((a, b) => (a.type < b.type ? -1 : 1)) : [], payload: normal ? payload : new Uint8Array(0) };
          });
          const chunks = [encodeSubgroupHeader(header, data)];
          for (const [i, object] of objects.entries()) chunks.push(encodeSubgroupObject(header, object, objects[i - 1]?.objectId, data));
          const decoded = await readSubgroup(new Uint8Array(Buffer.concat(chunks)));
          expect(decoded.header).toEqual(header);
          expect(decoded.objects).toEqual(objects);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('draft-18 FETCH objects (§10.4.4.1)', () => {
  const object = (groupId: number, objectId: number, priority = 1, subgroupId: number | undefined = 0): FetchObject => ({ groupId, subgroupId, objectId, publisherPriority: priority, status: 'normal', extensions: [], payload: Uint8Array.of(groupId & 0xff, objectId & 0xff) });

  async function readAll(b: Uint8Array, order: 'ascending' | 'descending'): Promise<FetchObject[]> {
    const reader = readerOf(b);
    const out: FetchObject[] = [];
    for (let o = await data.readFetchObject(reader, out.at(-1), 100, order); o; o = await data.readFetchObject(reader, out.at(-1), 100, order)) {
      if ('endOfRange' in o) throw new Error('range');
      out.push(o);
    }
    return out;
  }

  it('delta-encodes group and object IDs (first absolute, then prior + delta + 1 for groups)', () => {
    const w = new ByteWriter(64, 'vi64');
    const objects = [object(5, 3), object(5, 4), object(5, 9), object(8, 0)];
    for (const [i, o] of objects.entries()) data.writeFetchObject(w, o, objects[i - 1], 'ascending');
    // 1st: flags 0x1c (group, object, priority), group 5, object 3, priority 1, len 2.
    // 2nd: flags 0x00 (same group, object + 1). 3rd: 0x04, object delta 5.
    // 4th: 0x0c, group delta 2 (5 + 2 + 1 = 8), object 0 as is.
    expect(hex(w.finish())).toBe('1c' + '05' + '03' + '01' + '02' + '0503' + '00' + '02' + '0504' + '04' + '05' + '02' + '0509' + '0c' + '02' + '00' + '02' + '0800');
  });

  it('runs group deltas downwards for a descending fetch', async () => {
    const objects = [object(9, 0), object(9, 1), object(4, 0), object(3, 7, 2)];
    const w = new ByteWriter(64, 'vi64');
    for (const [i, o] of objects.entries()) data.writeFetchObject(w, o, objects[i - 1], 'descending');
    expect(await readAll(w.finish(), 'descending')).toEqual(objects);
    expect(() => data.writeFetchObject(new ByteWriter(8, 'vi64'), object(10, 0), object(9, 0), 'descending')).toThrow(RangeError);
  });

  it('rejects a first object that leans on a prior one, and a group below 0', async () => {
    await expect(readAll(bytes('10' + '01' + '00'), 'ascending')).rejects.toThrow(/first fetch object/);
    // group 1, object 0 then a descending delta of 5.
    await expect(readAll(bytes('1c01000100' + '0c050000'), 'descending')).rejects.toThrow(/out of range/);
  });

  it('round-trips random fetches in both orders', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('ascending' as const, 'descending' as const),
        fc.array(fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 }), fc.nat({ max: 255 }), fc.option(fc.nat({ max: 5 }), { nil: undefined })), { minLength: 1, maxLength: 8 }),
        async (order, steps) => {
          let group = order === 'ascending' ? 0 : 1000;
          let objectId = 0;
          const objects = steps.map(([groupStep, objectStep, priority, subgroup], i) => {
            if (i > 0 && groupStep > 0) {
              group += order === 'ascending' ? groupStep : -groupStep;
              objectId = objectStep;
            } else if (i > 0) objectId += objectStep + 1;
            return object(group, objectId, priority, subgroup);
          });
          const w = new ByteWriter(64, 'vi64');
          for (const [i, o] of objects.entries()) data.writeFetchObject(w, o, objects[i - 1], order);
          expect(await readAll(w.finish(), order)).toEqual(objects);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('draft-18 datagrams (§10.3.1)', () => {
  it('round-trips with vi64 fields', () => {
    const d: DatagramObject = { trackAlias: 2 ** 45, groupId: 300, objectId: 0, publisherPriority: undefined, endOfGroup: true, status: 'normal', extensions: [{ type: 0x10n, value: 1n << 60n }], payload: Uint8Array.of(1, 2) };
    const encoded = data.encodeDatagram(d);
    // type 0x0f (properties, end of group, zero object ID, default priority), alias 2^45 in 7 bytes, group 300 in 2.
    expect(hex(encoded.subarray(0, 10))).toBe('0f' + 'fc200000000000' + '812c');
    expect(data.decodeDatagram(encoded)).toEqual(d);
  });
});
