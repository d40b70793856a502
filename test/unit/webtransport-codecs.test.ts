/**
 * HTTP/3, QPACK, capsule and WebTransport codecs against known vectors (RFC 7541 Appendix C,
 * RFC 9204 Appendix A, draft-ietf-webtrans-http3 §4.4) and round trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapsuleReader, encodeCloseCapsule, encodeDrainCapsule } from '../../src/transport/h3/capsules.ts';
import { FrameReader, FrameType, encodeFrame, type FrameEvent } from '../../src/transport/h3/frames.ts';
import { Http3Error, H3ErrorCode } from '../../src/transport/h3/h3-errors.ts';
import { huffmanDecode, huffmanEncode } from '../../src/transport/h3/huffman.ts';
import { decodeFieldSection, encodeFieldSection } from '../../src/transport/h3/qpack.ts';
import { isWebTransportConnect, parseRequestHead } from '../../src/transport/h3/request-head.ts';
import { decodeSettings, encodeSettings, SettingId } from '../../src/transport/h3/settings.ts';
import { parseProtocolItem, parseProtocolList, serializeString } from '../../src/transport/h3/structured-fields.ts';
import { encodeVarint, readVarint } from '../../src/wire/varint.ts';
import { applicationCodeToHttp3, http3CodeToApplication } from '../../src/transport/h3/webtransport-codes.ts';
import { urgencyForSendOrder } from '../../src/transport/quic/send-order.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

function drain(reader: FrameReader): FrameEvent[] {
  const events: FrameEvent[] = [];
  for (let event = reader.next(); event; event = reader.next()) events.push(event.kind === 'data' ? { kind: 'data', chunk: event.chunk.slice() } : event);
  return events;
}

describe('varint (RFC 9000 §16 / Appendix A.1 examples)', () => {
  it.each([
    // Above 2^53: the decoded number is the nearest double, as the literal would be.
    ['c2197c5eff14e88c', Number(151288809941952652n)],
    ['9d7f3e7d', 494878333],
    ['7bbd', 15293],
    ['25', 37],
  ])('decodes %s', (bytes, value) => {
    expect(readVarint(fromHex(bytes), 0)?.value).toBe(value);
  });

  it('round-trips every size class', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (value) => {
        expect(readVarint(encodeVarint(value), 0)?.value).toBe(value);
      }),
    );
  });
});

describe('Huffman (RFC 7541 Appendix C.4)', () => {
  it.each([
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
  ])('%s', (text, encoded) => {
    expect(hex(huffmanEncode(new TextEncoder().encode(text)))).toBe(hex(fromHex(encoded)));
    expect(new TextDecoder().decode(huffmanDecode(fromHex(encoded)))).toBe(text);
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(hex(huffmanDecode(huffmanEncode(bytes)))).toBe(hex(bytes));
      }),
    );
  });

  it('rejects EOS and bad padding', () => {
    expect(() => huffmanDecode(fromHex('ffffffff'))).toThrow(Http3Error); // EOS (30 ones) inside
    expect(() => huffmanDecode(fromHex('00'))).toThrow(Http3Error); // '0' then padding of zeros
  });
});

describe('QPACK field sections (RFC 9204)', () => {
  it('encodes :status 200 as the static entry 25 (01 03 00 00 d9 with the frame header)', () => {
    expect(hex(encodeFrame(FrameType.Headers, encodeFieldSection([[':status', '200']])))).toBe('01030000d9');
  });

  it('decodes static, literal-with-name-ref and literal-name lines, Huffman or not', () => {
    const lines = [
      [':method', 'CONNECT'],
      [':protocol', 'webtransport'],
      [':scheme', 'https'],
      [':authority', '127.0.0.1:4443'],
      [':path', '/live/demo?jwt=a.b.c'],
      ['origin', 'http://127.0.0.1:8080'],
      ['wt-available-protocols', '"moq-lite-04", "moql"'],
      ['x-custom', ''],
    ] as const;
    expect(decodeFieldSection(encodeFieldSection(lines))).toEqual(lines);
    // Hand-built: indexed static 17, literal with static name 1 (:path), literal name "x-a".
    const manual = fromHex('0000 d1 51 0b 2f696e6465782e68746d6c 23 782d61 01 41');
    expect(decodeFieldSection(manual)).toEqual([
      [':method', 'GET'],
      [':path', '/index.html'],
      ['x-a', 'A'],
    ]);
  });

  it('round-trips arbitrary printable header lists', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
    const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,40}[\x21-\x7e])?$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (lines) => {
        expect(decodeFieldSection(encodeFieldSection(lines))).toEqual(lines);
      }),
    );
  });

  it('refuses dynamic table references with QPACK_DECOMPRESSION_FAILED', () => {
    for (const block of ['0100', '0000 80', '0000 10', '0000 00', '0000 4f']) {
      const attempt = () => decodeFieldSection(fromHex(block));
      expect(attempt).toThrow(Http3Error);
      try {
        attempt();
      } catch (error) {
        expect((error as Http3Error).code).toBe(H3ErrorCode.QpackDecompressionFailed);
      }
    }
  });

  it('validates requests and recognizes WebTransport extended CONNECT', () => {
    const head = parseRequestHead([
      [':method', 'CONNECT'],
      [':protocol', 'webtransport-h3'],
      [':scheme', 'https'],
      [':authority', 'example.com'],
      [':path', '/'],
    ]);
    expect(isWebTransportConnect(head)).toBe(true);
    expect(() => parseRequestHead([[':method', 'GET']])).toThrow(Http3Error);
    expect(() => parseRequestHead([[':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['Upper', 'x']])).toThrow(Http3Error);
    expect(() => parseRequestHead([[':method', 'GET'], ['a', 'b'], [':scheme', 'https'], [':path', '/']])).toThrow(Http3Error);
  });
});

describe('frames and SETTINGS (RFC 9114 §7)', () => {
  it('parses frames split at every byte, streaming DATA and skipping unknown types', () => {
    const settings = encodeSettings(new Map([[SettingId.EnableConnectProtocol, 1], [SettingId.H3Datagram, 1]]));
    const wire = Buffer.concat([
      encodeFrame(FrameType.Settings, settings),
      encodeFrame(0x21 + 0x1f * 3, new Uint8Array(100)), // reserved type
      encodeFrame(FrameType.Data, new TextEncoder().encode('hello')),
      encodeFrame(FrameType.Headers, encodeFieldSection([[':status', '200']])),
    ]);
    const reader = new FrameReader();
    const events: FrameEvent[] = [];
    for (const byte of wire) {
      reader.push(Uint8Array.of(byte));
      events.push(...drain(reader));
    }
    expect(events.filter((e) => e.kind === 'frame').map((e) => (e as { type: number }).type)).toEqual([FrameType.Settings, FrameType.Headers]);
    expect(events.filter((e) => e.kind === 'unknown')).toHaveLength(1);
    const data = Buffer.concat(events.filter((e) => e.kind === 'data').map((e) => (e as { chunk: Uint8Array }).chunk));
    expect(data.toString()).toBe('hello');
    expect(reader.atFrameBoundary).toBe(true);
    expect(decodeSettings((events[0] as { payload: Uint8Array }).payload).get(SettingId.H3Datagram)).toBe(1);
  });

  it('rejects HTTP/2 frame types, oversized frames and bad SETTINGS', () => {
    const reader = new FrameReader(1024);
    reader.push(encodeFrame(0x06, new Uint8Array(0)));
    expect(() => reader.next()).toThrow(Http3Error);
    const big = new FrameReader(1024);
    big.push(encodeVarint(FrameType.Headers));
    big.push(encodeVarint(1_000_000));
    expect(() => big.next()).toThrow(/exceeds/);
    expect(() => decodeSettings(fromHex('0100 0100'))).toThrow(/duplicate/);
    expect(() => decodeSettings(fromHex('0200'))).toThrow(/HTTP\/2/);
    expect(() => decodeSettings(fromHex('01'))).toThrow(Http3Error);
  });
});

describe('capsules (RFC 9297, draft-ietf-webtrans-http3 §6)', () => {
  it('decodes close and drain, skips unknown capsules', () => {
    const reader = new CapsuleReader();
    const wire = Buffer.concat([fromHex('4040 03 616263'), encodeDrainCapsule(), encodeCloseCapsule(0xdeadbeef, 'bye ✓')]);
    const capsules = [];
    for (const byte of wire) {
      reader.push(Uint8Array.of(byte));
      for (let capsule = reader.next(); capsule; capsule = reader.next()) capsules.push(capsule);
    }
    expect(capsules).toEqual([{ type: 'unknown', capsuleType: 0x40 }, { type: 'drain' }, { type: 'close', code: 0xdeadbeef, reason: 'bye ✓' }]);
  });

  it('truncates long close reasons at a character boundary and rejects malformed ones', () => {
    const encoded = encodeCloseCapsule(1, 'é'.repeat(600));
    const reader = new CapsuleReader();
    reader.push(encoded);
    const close = reader.next();
    expect(close?.type === 'close' && new TextEncoder().encode(close.reason).byteLength).toBe(1024);
    const short = new CapsuleReader();
    short.push(fromHex('6843 02 0000'));
    expect(() => short.next()).toThrow(Http3Error);
    const notUtf8 = new CapsuleReader();
    notUtf8.push(fromHex('6843 05 00000000 ff'));
    expect(() => notUtf8.next()).toThrow(/UTF-8/);
  });
});

describe('WebTransport protocol negotiation fields (RFC 9651 subset)', () => {
  it('parses lists of strings (and tokens), ignoring parameters', () => {
    expect(parseProtocolList('"moq-lite-04", "moq-lite-03";q=1,   "moql"')).toEqual(['moq-lite-04', 'moq-lite-03', 'moql']);
    expect(parseProtocolList('moq-lite-04, moqt-16')).toEqual(['moq-lite-04', 'moqt-16']);
    expect(parseProtocolList('"a", 1')).toBeUndefined();
    expect(parseProtocolList('"a",')).toBeUndefined();
    expect(parseProtocolList('"unterminated')).toBeUndefined();
    expect(parseProtocolItem(serializeString('moq-lite-04'))).toBe('moq-lite-04');
    expect(parseProtocolItem('"a\\"b"')).toBe('a"b');
  });
});

describe('WebTransport error codes (draft-ietf-webtrans-http3 §4.4)', () => {
  it('maps the documented points', () => {
    expect(applicationCodeToHttp3(0)).toBe(0x52e4a40fa8db);
    expect(applicationCodeToHttp3(0xff)).toBe(0x52e4a40fa9e2);
    expect(applicationCodeToHttp3(0x1c)).toBe(0x52e4a40fa8f7);
    expect(applicationCodeToHttp3(0x1d)).toBe(0x52e4a40fa8f8);
    expect(applicationCodeToHttp3(0xffffffff)).toBe(0x52e5ac983162);
  });

  it('round-trips every 32-bit code and never lands on a reserved codepoint', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (code) => {
        const wire = applicationCodeToHttp3(code);
        expect((wire - 0x21) % 0x1f).not.toBe(0);
        expect(http3CodeToApplication(wire)).toBe(code);
      }),
    );
    expect(http3CodeToApplication(0x170d7b68)).toBeNull(); // WT_SESSION_GONE
    expect(http3CodeToApplication(0x52e4a40fa8db + 0x1e)).toBeNull(); // a reserved codepoint inside the range
  });

  it('maps MoQ priorities (sendOrder) to distinct RFC 9218 urgencies', () => {
    expect(urgencyForSendOrder(undefined)).toBe(3);
    expect(new Set([100, 80, 60].map(urgencyForSendOrder)).size).toBe(3);
    expect(urgencyForSendOrder(255)).toBe(0);
    expect(urgencyForSendOrder(-5)).toBe(7);
  });
});
