/**
 * Fuzzing of every decoder of peer bytes in the HTTP/3 / WebTransport stack: random (and
 * mutated valid) input may only ever produce results or Http3Error, never another exception,
 * a hang, or an allocation sized by a hostile length.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunksOf } from '../helpers/chunked.ts';
import { ByteCursor } from '../../src/transport/h3/byte-cursor.ts';
import { CapsuleReader, encodeCloseCapsule } from '../../src/transport/h3/capsules.ts';
import { FrameReader, FrameType, encodeFrame } from '../../src/transport/h3/frames.ts';
import { Http3Error, H3ErrorCode } from '../../src/transport/h3/h3-errors.ts';
import { huffmanDecode } from '../../src/transport/h3/huffman.ts';
import { decodeFieldSection, encodeFieldSection } from '../../src/transport/h3/qpack.ts';
import { parseRequestHead, parseResponseHead } from '../../src/transport/h3/request-head.ts';
import { decodeSettings } from '../../src/transport/h3/settings.ts';
import { parseProtocolItem, parseProtocolList } from '../../src/transport/h3/structured-fields.ts';

const RUNS = { numRuns: 2000 };

/** Runs `decode`; any exception other than Http3Error fails the property. */
function onlyHttp3Errors(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof Http3Error)) throw error;
    expect(Object.values(H3ErrorCode)).toContain(error.code);
  }
}

const bytesArb = fc.uint8Array({ maxLength: 512 });
const cutsArb = fc.array(fc.nat({ max: 600 }), { maxLength: 8 });

/** Valid frames or field sections with a few bytes flipped, to reach deeper states. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([bytes, flips]) => {
    const copy = bytes.slice();
    for (const [index, value] of flips) if (copy.byteLength > 0) copy[index % copy.byteLength] = value;
    return copy;
  });
}

const fieldLines = fc.array(fc.tuple(fc.constantFrom(':method', ':path', ':status', 'wt-available-protocols', 'x-a', 'origin'), fc.string({ maxLength: 30 })), { maxLength: 6 });
const validSections = fieldLines.map((lines) => encodeFieldSection(lines));
const validFrames = fc
  .array(
    fc.oneof(
      validSections.map((section) => encodeFrame(FrameType.Headers, section)),
      fc.uint8Array({ maxLength: 40 }).map((payload) => encodeFrame(FrameType.Data, payload)),
      fc.uint8Array({ maxLength: 40 }).map((payload) => encodeFrame(FrameType.Settings, payload)),
      fc.tuple(fc.nat({ max: 1000 }), fc.uint8Array({ maxLength: 20 })).map(([n, payload]) => encodeFrame(0x21 + 0x1f * n, payload)),
    ),
    { maxLength: 5 },
  )
  .map((frames) => Buffer.concat(frames));

describe('fuzz: HTTP/3 frame reader', () => {
  it('random bytes in random chunks → frames or Http3Error', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, mutated(validFrames)), cutsArb, (bytes, cuts) => {
        onlyHttp3Errors(() => {
          const reader = new FrameReader(256);
          for (const chunk of chunksOf(bytes, cuts)) {
            reader.push(chunk);
            for (let event = reader.next(); event; event = reader.next()) {
              if (event.kind === 'frame') {
                if (event.type === FrameType.Settings) decodeSettings(event.payload);
                if (event.type === FrameType.Headers) parseRequestHead(decodeFieldSection(event.payload));
                expect(event.payload.byteLength).toBeLessThanOrEqual(256);
              }
            }
          }
        });
      }),
      RUNS,
    );
  });
});

describe('fuzz: QPACK', () => {
  it('random and mutated field sections → field lines or Http3Error', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, mutated(validSections)), (bytes) => {
        onlyHttp3Errors(() => {
          const lines = decodeFieldSection(bytes, 4096);
          for (const [name, value] of lines) expect(name.length + value.length).toBeLessThanOrEqual(4096);
          parseResponseHead(lines);
        });
      }),
      RUNS,
    );
  });

  it('Huffman decoding of random bytes → bytes or Http3Error, output bounded by 8/5 of input', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        onlyHttp3Errors(() => expect(huffmanDecode(bytes).byteLength).toBeLessThanOrEqual(Math.floor((bytes.byteLength * 8) / 5)));
      }),
      RUNS,
    );
  });

  it('a huge declared string length does not allocate', () => {
    // Literal with literal name whose 3-bit-prefix length says ~2^53.
    const hostile = Uint8Array.from([0x00, 0x00, 0x27, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => decodeFieldSection(hostile)).toThrow(Http3Error);
  });
});

describe('fuzz: capsules and SETTINGS', () => {
  it('random capsule streams → capsules or Http3Error', () => {
    const valid = fc
      .array(fc.oneof(fc.tuple(fc.nat({ max: 0xffffffff }), fc.string({ maxLength: 40 })).map(([c, r]) => encodeCloseCapsule(c, r)), fc.uint8Array({ maxLength: 30 })), { maxLength: 4 })
      .map((parts) => Buffer.concat(parts));
    fc.assert(
      fc.property(fc.oneof(bytesArb, mutated(valid)), cutsArb, (bytes, cuts) => {
        onlyHttp3Errors(() => {
          const reader = new CapsuleReader();
          for (const chunk of chunksOf(bytes, cuts)) {
            reader.push(chunk);
            for (let capsule = reader.next(); capsule; capsule = reader.next()) {
              if (capsule.type === 'close') expect(new TextEncoder().encode(capsule.reason).byteLength).toBeLessThanOrEqual(1024);
            }
          }
        });
      }),
      RUNS,
    );
  });

  it('random SETTINGS payloads → map or Http3Error', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        onlyHttp3Errors(() => decodeSettings(bytes));
      }),
      RUNS,
    );
  });

  it('ByteCursor never reads past its payload', () => {
    fc.assert(
      fc.property(bytesArb, fc.array(fc.integer({ min: -5, max: 2 ** 40 }), { maxLength: 6 }), (bytes, lengths) => {
        onlyHttp3Errors(() => {
          const cursor = new ByteCursor(bytes, H3ErrorCode.FrameError);
          for (const length of lengths) {
            cursor.varint('v');
            cursor.take(length, 't');
          }
        });
      }),
      RUNS,
    );
  });
});

describe('fuzz: structured fields', () => {
  it('never throw on arbitrary header values', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const list = parseProtocolList(text);
        if (list) for (const item of list) expect(typeof item).toBe('string');
        parseProtocolItem(text);
      }),
      RUNS,
    );
  });
});
