import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkedStream } from '../helpers/chunked.ts';
import { ByteReader } from '../../src/wire/byte-reader.ts';
import { ByteWriter, withU16Length, withVarintLength } from '../../src/wire/byte-writer.ts';
import { ProtocolError, StreamAbortedError } from '../../src/wire/errors.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';
import { decodeVarintAt, decodeVarintBigAt, encodeVarint, MAX_VARINT, varintLength } from '../../src/wire/varint.ts';

describe('varint (RFC 9000 §16)', () => {
  it('encodes the RFC examples', () => {
    expect([...encodeVarint(37)]).toEqual([0x25]);
    expect([...encodeVarint(15293)]).toEqual([0x7b, 0xbd]);
    expect([...encodeVarint(494878333)]).toEqual([0x9d, 0x7f, 0x3e, 0x7d]);
    expect([...encodeVarint(151288809941952652n)]).toEqual([0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]);
    expect(decodeVarintBigAt(Uint8Array.of(0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c), 0)).toBe(151288809941952652n);
  });

  it('round-trips numbers and bigints in the shortest form', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const bytes = encodeVarint(n);
        expect(bytes.byteLength).toBe(varintLength(n));
        expect(decodeVarintAt(bytes, 0)).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_VARINT }), (n) => {
        expect(decodeVarintBigAt(encodeVarint(n), 0)).toBe(n);
      }),
    );
  });

  it('rejects values a number cannot hold with ProtocolError', () => {
    const bytes = encodeVarint(2n ** 53n);
    expect(() => decodeVarintAt(bytes, 0)).toThrow(ProtocolError);
    expect(decodeVarintAt(encodeVarint(2 ** 53 - 1), 0)).toBe(2 ** 53 - 1);
  });

  it('refuses to encode out-of-range values', () => {
    expect(() => encodeVarint(-1)).toThrow(RangeError);
    expect(() => encodeVarint(MAX_VARINT + 1n)).toThrow(RangeError);
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
  });
});

describe('ByteReader / ByteWriter', () => {
  it('round-trips every field type', () => {
    const w = new ByteWriter(1)
      .u8(7)
      .u16(0xbeef)
      .bool(true)
      .varint(300)
      .varint(2n ** 60n)
      .string('héllo/wörld')
      .lengthPrefixedBytes(Uint8Array.of(1, 2, 3));
    const r = new ByteReader(w.finish());
    expect(r.u8()).toBe(7);
    expect(r.u16()).toBe(0xbeef);
    expect(r.bool()).toBe(true);
    expect(r.varint()).toBe(300);
    expect(r.varintBig()).toBe(2n ** 60n);
    expect(r.string()).toBe('héllo/wörld');
    expect([...r.lengthPrefixedBytes()]).toEqual([1, 2, 3]);
    expect(() => r.expectEnd()).not.toThrow();
  });

  it('raises ProtocolError codes for malformed input', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        return (err as ProtocolError).code;
      }
      return 'no error';
    };
    expect(code(() => new ByteReader(Uint8Array.of(2)).bool())).toBe('invalid-value');
    expect(code(() => new ByteReader(Uint8Array.of(0x40)).varint())).toBe('unexpected-end');
    expect(code(() => new ByteReader(Uint8Array.of(5, 0x61)).string())).toBe('unexpected-end');
    expect(code(() => new ByteReader(Uint8Array.of(1, 0xff)).string())).toBe('invalid-utf8');
    expect(code(() => new ByteReader(Uint8Array.of(1)).expectEnd())).toBe('trailing-bytes');
    // A count larger than the bytes left is rejected before anything is sized from it.
    expect(code(() => new ByteReader(Uint8Array.of(0x80, 0x10, 0, 0)).count('n', 1e9))).toBe('unexpected-end');
    expect(code(() => new ByteReader(Uint8Array.of(10)).count('n', 5))).toBe('value-too-large');
  });

  it('frames with varint and u16 lengths', () => {
    expect([...withVarintLength(Uint8Array.of(9, 9))]).toEqual([2, 9, 9]);
    expect([...withU16Length(Uint8Array.of(9))]).toEqual([0, 1, 9]);
    expect(() => withU16Length(new Uint8Array(0x10000))).toThrow(RangeError);
  });
});

describe('StreamReader', () => {
  it('reads values across arbitrary chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (messages, cuts) => {
          const w = new ByteWriter();
          for (const m of messages) w.lengthPrefixedBytes(m);
          w.u16(0x1234).varint(2n ** 40n);
          const reader = new StreamReader(chunkedStream(w.finish(), cuts));
          for (const m of messages) expect([...(await reader.message(1024))]).toEqual([...m]);
          expect(await reader.u16()).toBe(0x1234);
          expect(await reader.varintBig()).toBe(2n ** 40n);
          expect(await reader.atEnd()).toBe(true);
          expect(await reader.messageOrEnd()).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a length above the limit before reading the body', async () => {
    const reader = new StreamReader(chunkedStream(encodeVarint(1_000_000)));
    await expect(reader.message(64 * 1024)).rejects.toMatchObject({ code: 'message-too-large' });
    const u16 = new StreamReader(chunkedStream(Uint8Array.of(0xff, 0xff)));
    await expect(u16.messageU16(100)).rejects.toMatchObject({ code: 'message-too-large' });
  });

  it('reports a truncated stream as unexpected-end', async () => {
    const reader = new StreamReader(chunkedStream(Uint8Array.of(5, 1, 2)));
    await expect(reader.message()).rejects.toMatchObject({ name: 'ProtocolError', code: 'unexpected-end' });
  });

  it('reports a reset stream as StreamAbortedError', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Uint8Array.of(3, 1));
        controller.error(new Error('reset by peer'));
      },
    });
    const reader = new StreamReader(stream);
    await expect(reader.message()).rejects.toBeInstanceOf(StreamAbortedError);
  });
});
