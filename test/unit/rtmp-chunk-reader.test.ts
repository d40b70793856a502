import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { decodeCommand, decodeMetadata } from '../../adapters/ingest/rtmp/amf.ts';
import { RtmpChunkReader, type RtmpMessage } from '../../adapters/ingest/rtmp/chunk-reader.ts';
import { RtmpProtocolError } from '../../adapters/ingest/rtmp/errors.ts';

/** Basic header for a chunk stream id (RTMP 1.0, 5.3.1.1). */
function basic(fmt: number, csid: number): number[] {
  if (csid >= 64 + 256) return [(fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8];
  if (csid >= 64) return [fmt << 6, csid - 64];
  return [(fmt << 6) | csid];
}
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

interface Header {
  fmt: 0 | 1 | 2 | 3;
  csid: number;
  timestamp?: number;
  length?: number;
  typeId?: number;
  streamId?: number;
}

/** One chunk: headers as the fmt requires (extended timestamp when timestamp >= 0xFFFFFF). */
function chunk(h: Header, payload: number[] = [], extended?: number): Buffer {
  const out = [...basic(h.fmt, h.csid)];
  const ts = h.timestamp ?? 0;
  if (h.fmt <= 2) out.push(...u24(Math.min(ts, 0xffffff)));
  if (h.fmt <= 1) out.push(...u24(h.length ?? 0), h.typeId ?? 0);
  if (h.fmt === 0) {
    const sid = h.streamId ?? 0;
    out.push(sid & 0xff, (sid >> 8) & 0xff, (sid >> 16) & 0xff, sid >>> 24);
  }
  if (h.fmt <= 2 && ts >= 0xffffff) out.push(...u32(ts));
  else if (extended !== undefined) out.push(...u32(extended));
  return Buffer.from([...out, ...payload]);
}

function reader(maxMessageSize = 1 << 20): { r: RtmpChunkReader; messages: RtmpMessage[] } {
  const messages: RtmpMessage[] = [];
  return { r: new RtmpChunkReader({ maxMessageSize, onMessage: (m) => messages.push(m) }), messages };
}

const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => (start + i) & 0xff);

describe('RtmpChunkReader', () => {
  it('joins a message split into 128-byte chunks with type-3 continuations', () => {
    const { r, messages } = reader();
    const payload = range(300);
    r.push(Buffer.concat([
      chunk({ fmt: 0, csid: 6, timestamp: 40, length: 300, typeId: 9, streamId: 1 }, payload.slice(0, 128)),
      chunk({ fmt: 3, csid: 6 }, payload.slice(128, 256)),
      chunk({ fmt: 3, csid: 6 }, payload.slice(256)),
    ]));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ typeId: 9, streamId: 1, timestamp: 40 });
    expect([...messages[0]!.payload]).toEqual(payload);
  });

  it('gives the same result when fed one byte at a time', () => {
    const { r, messages } = reader();
    const payload = range(200, 7);
    const wire = Buffer.concat([
      chunk({ fmt: 0, csid: 4, timestamp: 5, length: 200, typeId: 8, streamId: 1 }, payload.slice(0, 128)),
      chunk({ fmt: 3, csid: 4 }, payload.slice(128)),
    ]);
    for (const byte of wire) r.push(Buffer.of(byte));
    expect(messages).toHaveLength(1);
    expect([...messages[0]!.payload]).toEqual(payload);
  });

  it('decodes 2- and 3-byte basic headers', () => {
    const { r, messages } = reader();
    r.push(chunk({ fmt: 0, csid: 74, length: 1, typeId: 8 }, [1]));
    r.push(chunk({ fmt: 0, csid: 364, length: 1, typeId: 9 }, [2]));
    r.push(chunk({ fmt: 1, csid: 364, timestamp: 5, length: 1, typeId: 9 }, [3]));
    expect(messages.map((m) => [m.typeId, m.payload[0], m.timestamp])).toEqual([
      [8, 1, 0],
      [9, 2, 0],
      [9, 3, 5],
    ]);
  });

  it('applies type 1/2/3 timestamp deltas', () => {
    const { r, messages } = reader();
    r.push(chunk({ fmt: 0, csid: 4, timestamp: 1000, length: 2, typeId: 8, streamId: 1 }, [0, 0]));
    r.push(chunk({ fmt: 1, csid: 4, timestamp: 33, length: 1, typeId: 8 }, [0]));
    r.push(chunk({ fmt: 2, csid: 4, timestamp: 21 }, [0]));
    r.push(chunk({ fmt: 3, csid: 4 }, [0]));
    expect(messages.map((m) => m.timestamp)).toEqual([1000, 1033, 1054, 1075]);
    expect(messages.map((m) => m.streamId)).toEqual([1, 1, 1, 1]);
  });

  it('reads extended timestamps, repeated in type-3 chunks, and wraps at 2^32', () => {
    const { r, messages } = reader();
    const payload = range(200);
    r.push(Buffer.concat([
      chunk({ fmt: 0, csid: 5, timestamp: 0xfffffff0, length: 200, typeId: 9, streamId: 1 }, payload.slice(0, 128)),
      chunk({ fmt: 3, csid: 5 }, payload.slice(128), 0xfffffff0),
    ]));
    r.push(chunk({ fmt: 1, csid: 5, timestamp: 0x20, length: 1, typeId: 9 }, [1]));
    expect(messages.map((m) => m.timestamp)).toEqual([0xfffffff0, 0x10]);
    expect([...messages[0]!.payload]).toEqual(payload);
  });

  it('delivers zero-length messages and interleaved chunk streams', () => {
    const { r, messages } = reader();
    const video = range(256);
    r.push(Buffer.concat([
      chunk({ fmt: 0, csid: 6, timestamp: 0, length: 256, typeId: 9, streamId: 1 }, video.slice(0, 128)),
      chunk({ fmt: 0, csid: 4, timestamp: 0, length: 0, typeId: 8, streamId: 1 }),
      chunk({ fmt: 0, csid: 7, timestamp: 3, length: 2, typeId: 8, streamId: 1 }, [7, 7]),
      chunk({ fmt: 3, csid: 6 }, video.slice(128)),
    ]));
    expect(messages.map((m) => [m.typeId, m.payload.length])).toEqual([
      [8, 0],
      [8, 2],
      [9, 256],
    ]);
  });

  it('honours SetChunkSize and Abort', () => {
    const { r, messages } = reader();
    r.push(chunk({ fmt: 0, csid: 2, length: 4, typeId: 1 }, u32(4096)));
    expect(r.inChunkSize).toBe(4096);
    r.push(chunk({ fmt: 0, csid: 6, length: 3000, typeId: 9, streamId: 1 }, range(3000)));
    expect(messages).toHaveLength(1);
    r.push(chunk({ fmt: 0, csid: 2, length: 4, typeId: 1 }, u32(10)));
    r.push(chunk({ fmt: 0, csid: 6, length: 30, typeId: 9, streamId: 1 }, range(10)));
    r.push(chunk({ fmt: 0, csid: 2, length: 4, typeId: 2 }, u32(6)));
    r.push(chunk({ fmt: 0, csid: 6, length: 2, typeId: 9, streamId: 1 }, [1, 2]));
    expect(messages.map((m) => m.payload.length)).toEqual([3000, 2]);
  });

  it('refuses a SetChunkSize with the reserved top bit set (RTMP 1.0 §5.4.1)', () => {
    const { r } = reader();
    expect(() => r.push(chunk({ fmt: 0, csid: 2, length: 4, typeId: 1 }, u32(0x80001000)))).toThrow(/reserved top bit/);
    expect(r.inChunkSize).toBe(128);
  });

  it('collects messages larger than one 64 KiB piece, even with chunk size 1', () => {
    const { r, messages } = reader();
    r.push(chunk({ fmt: 0, csid: 2, length: 4, typeId: 1 }, u32(1)));
    const payload = range(150_000, 3);
    const wire: Buffer[] = [chunk({ fmt: 0, csid: 6, timestamp: 9, length: payload.length, typeId: 9, streamId: 1 }, payload.slice(0, 1))];
    for (let i = 1; i < payload.length; i++) wire.push(Buffer.of((3 << 6) | 6, payload[i]!));
    const bytes = Buffer.concat(wire);
    for (let at = 0; at < bytes.length; at += 4096) r.push(bytes.subarray(at, at + 4096));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.equals(Buffer.from(payload))).toBe(true);
  });

  it('gives every message its own buffer', () => {
    const { r, messages } = reader();
    r.push(chunk({ fmt: 0, csid: 4, length: 3, typeId: 8 }, [1, 2, 3]));
    r.push(chunk({ fmt: 0, csid: 4, length: 3, typeId: 8 }, [4, 5, 6]));
    messages[1]!.payload[0] = 99;
    expect([...messages[0]!.payload]).toEqual([1, 2, 3]);
  });

  it('refuses a message larger than maxMessageSize before reading it', () => {
    const { r } = reader(1000);
    expect(() => r.push(chunk({ fmt: 0, csid: 6, length: 0xffffff, typeId: 9 }))).toThrow(RtmpProtocolError);
  });

  it('refuses protocol violations', () => {
    expect(() => reader().r.push(chunk({ fmt: 1, csid: 6, length: 2, typeId: 9 }))).toThrow(/starts with a type-1/);
    expect(() => reader().r.push(chunk({ fmt: 0, csid: 2, length: 4, typeId: 1 }, u32(0)))).toThrow(RtmpProtocolError);
    const { r } = reader();
    r.push(chunk({ fmt: 0, csid: 6, length: 300, typeId: 9 }, range(128)));
    expect(() => r.push(chunk({ fmt: 0, csid: 6, length: 300, typeId: 9 }))).toThrow(/middle of a message/);
  });

  it('throws nothing but RtmpProtocolError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }), (pieces) => {
        const { r } = reader(64 * 1024);
        try {
          for (const piece of pieces) r.push(Buffer.from(piece));
        } catch (error) {
          if (!(error instanceof RtmpProtocolError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('AMF0 command decoding', () => {
  const str = (s: string): number[] => [2, ...u24(s.length).slice(1), ...Buffer.from(s)];
  const num = (n: number): number[] => {
    const b = Buffer.alloc(9);
    b[0] = 0;
    b.writeDoubleBE(n, 1);
    return [...b];
  };
  const key = (s: string): number[] => [...u24(s.length).slice(1), ...Buffer.from(s)];

  it('decodes connect with its command object', () => {
    const payload = Buffer.from([
      ...str('connect'),
      ...num(1),
      3,
      ...key('app'),
      ...str('live'),
      ...key('tcUrl'),
      ...str('rtmp://h/live'),
      0,
      0,
      9,
    ]);
    expect(decodeCommand(payload)).toEqual({ name: 'connect', transactionId: 1, commandObject: { app: 'live', tcUrl: 'rtmp://h/live' } });
  });

  it('decodes publish with its stream name', () => {
    const payload = Buffer.from([...str('publish'), ...num(5), 5, ...str('demo?k=v'), ...str('live')]);
    expect(decodeCommand(payload)).toMatchObject({ name: 'publish', transactionId: 5, commandObject: null, streamName: 'demo?k=v' });
  });

  it('does not let a __proto__ key forge fields', () => {
    const payload = Buffer.from([...str('connect'), ...num(1), 3, ...key('__proto__'), 3, ...key('app'), ...str('x'), 0, 0, 9, 0, 0, 9]);
    const command = decodeCommand(payload);
    expect(Object.hasOwn(command.commandObject ?? {}, 'app')).toBe(false);
  });

  it('turns garbage into RtmpProtocolError only', () => {
    // Deep inside a value node-media-server's decoder may still print "Unknown field" to stdout.
    const quiet = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(() => decodeCommand(Buffer.from([0xff, 1, 2]))).toThrow(RtmpProtocolError);
    expect(() => decodeCommand(Buffer.from([...str('publish'), 0]))).toThrow(RtmpProtocolError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        for (const decode of [decodeCommand, decodeMetadata]) {
          try {
            decode(Buffer.from(bytes));
          } catch (error) {
            if (!(error instanceof RtmpProtocolError)) throw error;
          }
        }
      }),
      { numRuns: 2000 },
    );
    quiet.mockRestore();
  });
});
