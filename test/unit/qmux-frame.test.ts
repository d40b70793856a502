/**
 * The QMux frame codec (src/transport/qmux/frame.ts, params.ts, ws-frame.ts): what we encode
 * decodes back to the same frame in every framing, truncated or unknown input is refused with
 * ProtocolError, and our WebSocket headers are the RFC 6455 ones `ws` parses.
 */
import { describe, expect, it } from 'vitest';
import type { EventEmitter } from 'node:events';
import * as ws from 'ws';
import { type ControlFrame, decodeMessage, encodeControl, streamHeaderLength, writeStreamHeader } from '../../src/transport/qmux/frame.ts';
import { DEFAULT_PARAMETERS, decodeTransportParameters, encodeTransportParameters } from '../../src/transport/qmux/params.ts';
import { wsHeaderLength, writeWsBinaryHeader } from '../../src/transport/qmux/ws-frame.ts';
import { ProtocolError } from '../../src/wire/errors.ts';

/** ws's frame parser (untyped in @types/ws). */
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): void } };

const QMUX_FRAMES: ControlFrame[] = [
  { type: 'reset_stream', id: 7, code: 9, finalSize: 123_456 },
  { type: 'stop_sending', id: 3, code: 0xffff_ffff },
  { type: 'close', application: true, code: 4, reason: 'bye ✓' },
  { type: 'close', application: false, code: 0x0a, reason: 'bad' },
  { type: 'max_data', max: 2 ** 40 },
  { type: 'max_stream_data', id: 11, max: 300_000 },
  { type: 'max_streams', bidi: false, max: 200 },
  { type: 'ping', response: true, sequence: 17 },
];

describe('QMux frame codec', () => {
  it('decodes what it encodes, in records and one frame per message', () => {
    for (const frame of QMUX_FRAMES) {
      const [decoded] = decodeMessage('qmux-00', encodeControl('qmux-00', frame));
      expect(decoded).toMatchObject(frame);
    }
    const record = Buffer.concat(QMUX_FRAMES.map((f) => encodeControl('qmux-02', f)));
    expect(decodeMessage('qmux-02', record)).toMatchObject(QMUX_FRAMES);
  });

  it('writes STREAM headers that decode to the same stream, offset and data', () => {
    for (const framing of ['qmux-01', 'webtransport'] as const) {
      const data = Uint8Array.of(1, 2, 3, 4, 5);
      const header = new Uint8Array(streamHeaderLength(framing, 4 * 1000 + 3, 70_000, data.byteLength));
      writeStreamHeader(header, 0, framing, 4003, 70_000, data.byteLength, true);
      const [frame] = decodeMessage(framing, Buffer.concat([header, data]));
      expect(frame).toMatchObject({ type: 'stream', id: 4003, fin: true });
      expect(frame?.type === 'stream' && Buffer.compare(frame.data, data)).toBe(0);
      if (framing !== 'webtransport') expect(frame).toMatchObject({ offset: 70_000 });
    }
  });

  it('refuses truncated and unknown frames with ProtocolError', () => {
    const full = encodeControl('qmux-02', { type: 'close', application: true, code: 1, reason: 'reason' });
    for (let cut = 1; cut < full.byteLength; cut++) expect(() => decodeMessage('qmux-02', full.subarray(0, cut))).toThrow(ProtocolError);
    expect(() => decodeMessage('qmux-01', Uint8Array.of(0x3e))).toThrow(ProtocolError);
    expect(() => decodeMessage('webtransport', Uint8Array.of(0x0e, 0))).toThrow(ProtocolError);
    expect(() => decodeMessage('webtransport', Uint8Array.of(0x08))).toThrow(ProtocolError);
  });

  it('round-trips transport parameters and refuses forbidden or repeated ones', () => {
    const params = { ...DEFAULT_PARAMETERS, maxIdleTimeout: 30_000, initialMaxData: 1 << 20, initialMaxStreamsUni: 100, resetStreamAt: true };
    expect(decodeTransportParameters(encodeTransportParameters(params))).toEqual(params);
    const twice = Buffer.concat([Uint8Array.of(0x04, 0x01, 0x05), Uint8Array.of(0x04, 0x01, 0x06)]);
    expect(() => decodeTransportParameters(twice)).toThrow(/duplicate/);
    expect(() => decodeTransportParameters(Uint8Array.of(0x00, 0x01, 0x00))).toThrow(/forbidden/);
    // Unknown ids are skipped.
    expect(decodeTransportParameters(Uint8Array.of(0x21, 0x01, 0x05))).toEqual(DEFAULT_PARAMETERS);
  });

  it('writes WebSocket headers ws parses, at each length encoding', async () => {
    for (const length of [0, 125, 126, 65_535, 65_536, 200_000]) {
      const frame = Buffer.alloc(wsHeaderLength(length) + length, 0x5a);
      writeWsBinaryHeader(frame, 0, length);
      const receiver = new Receiver({ isServer: false });
      const message = new Promise<Buffer>((resolve) => receiver.on('message', (data: Buffer) => resolve(data)));
      receiver.write(frame);
      const data = await message;
      expect(data.byteLength).toBe(length);
    }
  });
});
