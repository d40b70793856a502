import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlvTagError } from '../../adapters/ingest/rtmp/errors.ts';
import { parseAudioTag } from '../../adapters/ingest/rtmp/flv-audio.ts';
import { parseVideoTag } from '../../adapters/ingest/rtmp/flv-video.ts';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const si24 = (n: number): number[] => u24(n < 0 ? n + 0x1000000 : n);
const bytes = (...parts: (number | number[])[]): Uint8Array => Uint8Array.from(parts.flat());

/** ExVideoTagHeader first byte: IsExHeader | FrameType << 4 | PacketType. */
const exVideo = (frameType: number, packetType: number): number => 0x80 | (frameType << 4) | packetType;
const KEY = 1;
const INTER = 2;

const nal = [0, 0, 0, 3, 0x65, 0x88, 0x84];

describe('legacy FLV video (AVC)', () => {
  it('reads a sequence header as the avcC after the 5-byte header', () => {
    const tag = parseVideoTag(bytes(0x17, 0, 0, 0, 0, [1, 0x64, 0, 0x1f, 0xff]));
    expect(tag.packets).toEqual([{ type: 'sequence-start', trackId: 0, fourCc: 'avc1', config: bytes(1, 0x64, 0, 0x1f, 0xff) }]);
  });

  it('reads CompositionTime as signed 24-bit (negative)', () => {
    const [packet] = parseVideoTag(bytes(0x27, 1, si24(-33), nal)).packets;
    expect(packet).toMatchObject({ type: 'coded-frame', keyframe: false, compositionTimeMs: -33, data: bytes(nal) });
  });

  it('reads positive CompositionTime and the key frame type', () => {
    const [packet] = parseVideoTag(bytes(0x17, 1, si24(67), nal)).packets;
    expect(packet).toMatchObject({ type: 'coded-frame', keyframe: true, compositionTimeMs: 67 });
  });

  it('reads the extreme SI24 values', () => {
    expect(parseVideoTag(bytes(0x27, 1, 0x80, 0, 0)).packets[0]).toMatchObject({ compositionTimeMs: -0x800000 });
    expect(parseVideoTag(bytes(0x27, 1, 0x7f, 0xff, 0xff)).packets[0]).toMatchObject({ compositionTimeMs: 0x7fffff });
  });

  it('reads end of sequence, with or without the trailing CompositionTime', () => {
    expect(parseVideoTag(bytes(0x17, 2, 0, 0, 0)).packets).toEqual([{ type: 'sequence-end', trackId: 0, fourCc: 'avc1' }]);
    expect(parseVideoTag(bytes(0x17, 2)).packets).toEqual([{ type: 'sequence-end', trackId: 0, fourCc: 'avc1' }]);
  });

  it('returns an empty NALU frame as an empty coded frame (the caller skips it)', () => {
    expect(parseVideoTag(bytes(0x17, 1, 0, 0, 0)).packets[0]).toMatchObject({ type: 'coded-frame', data: new Uint8Array(0) });
  });

  it('reports non-AVC legacy codecs as unsupported, not as errors', () => {
    expect(parseVideoTag(bytes(0x14, 1, 2, 3)).packets[0]).toMatchObject({ type: 'unsupported-codec', codec: 'On2 VP6' });
    expect(parseVideoTag(bytes(0x17, 9, 0, 0, 0)).packets[0]).toMatchObject({ type: 'unknown-packet' });
  });

  it('reads a command frame', () => {
    expect(parseVideoTag(bytes(0x57, 1)).packets).toEqual([{ type: 'command', command: 1 }]);
  });

  it('throws FlvTagError on truncation', () => {
    expect(() => parseVideoTag(bytes())).toThrow(FlvTagError);
    expect(() => parseVideoTag(bytes(0x17))).toThrow(FlvTagError);
    expect(() => parseVideoTag(bytes(0x27, 1, 0xff))).toThrow(FlvTagError);
  });
});

describe('E-RTMP video', () => {
  it('avc1 CodedFrames carries an SI24 composition time before the NAL units', () => {
    const [packet] = parseVideoTag(bytes(exVideo(INTER, 1), ascii('avc1'), si24(-40), nal)).packets;
    expect(packet).toEqual({ type: 'coded-frame', trackId: 0, fourCc: 'avc1', keyframe: false, compositionTimeMs: -40, data: bytes(nal) });
  });

  it('avc1 CodedFramesX has no composition time: the data starts right after the FourCC', () => {
    const [packet] = parseVideoTag(bytes(exVideo(KEY, 3), ascii('avc1'), nal)).packets;
    expect(packet).toEqual({ type: 'coded-frame', trackId: 0, fourCc: 'avc1', keyframe: true, compositionTimeMs: 0, data: bytes(nal) });
  });

  it('hvc1 SequenceStart and CodedFrames', () => {
    const hvcc = [1, 1, 0x60, 0, 0, 0];
    expect(parseVideoTag(bytes(exVideo(KEY, 0), ascii('hvc1'), hvcc)).packets).toEqual([
      { type: 'sequence-start', trackId: 0, fourCc: 'hvc1', config: bytes(hvcc) },
    ]);
    const [frame] = parseVideoTag(bytes(exVideo(KEY, 1), ascii('hvc1'), si24(100), [0, 0, 0, 2, 0x26, 0x01])).packets;
    expect(frame).toMatchObject({ type: 'coded-frame', fourCc: 'hvc1', keyframe: true, compositionTimeMs: 100, data: bytes(0, 0, 0, 2, 0x26, 0x01) });
  });

  it('av01 and vp09 CodedFrames have no composition time', () => {
    expect(parseVideoTag(bytes(exVideo(KEY, 1), ascii('av01'), [0x12, 0, 0x0a])).packets[0]).toMatchObject({
      fourCc: 'av01',
      compositionTimeMs: 0,
      data: bytes(0x12, 0, 0x0a),
    });
    expect(parseVideoTag(bytes(exVideo(INTER, 1), ascii('vp09'), [0x86, 0])).packets[0]).toMatchObject({ fourCc: 'vp09', keyframe: false, data: bytes(0x86, 0) });
  });

  it('SequenceEnd and Metadata', () => {
    expect(parseVideoTag(bytes(exVideo(KEY, 2), ascii('avc1'))).packets).toEqual([{ type: 'sequence-end', trackId: 0, fourCc: 'avc1' }]);
    expect(parseVideoTag(bytes(exVideo(KEY, 4), ascii('hvc1'), [2, 0, 1, 0x61])).packets[0]).toMatchObject({ type: 'metadata', data: bytes(2, 0, 1, 0x61) });
  });

  it('refuses MPEG2TSSequenceStart and unknown FourCCs as unsupported codecs', () => {
    expect(parseVideoTag(bytes(exVideo(KEY, 5), ascii('av01'), [1, 2])).packets[0]).toMatchObject({ type: 'unsupported-codec' });
    expect(parseVideoTag(bytes(exVideo(KEY, 1), ascii('xyz9'), [1, 2, 3, 4])).packets[0]).toMatchObject({ type: 'unsupported-codec', codec: 'xyz9' });
    expect(parseVideoTag(bytes(exVideo(KEY, 9), ascii('avc1'))).packets[0]).toMatchObject({ type: 'unknown-packet' });
  });

  it('reads a TimestampOffsetNano ModEx before the real packet type', () => {
    // ModEx: size-1 = 2 (3 bytes), 250000 ns, then type 0 (TimestampOffsetNano) << 4 | CodedFramesX.
    const tag = parseVideoTag(bytes(exVideo(KEY, 7), 2, u24(250_000), 0x03, ascii('avc1'), nal));
    expect(tag.timestampOffsetNs).toBe(250_000);
    expect(tag.packets[0]).toMatchObject({ type: 'coded-frame', compositionTimeMs: 0, data: bytes(nal) });
  });

  it('splits ManyTracks multitrack messages into per-track packets', () => {
    const body0 = nal;
    const body1 = [0, 0, 0, 1, 0x41];
    const tag = parseVideoTag(
      bytes(exVideo(KEY, 6), (1 << 4) | 3, ascii('avc1'), 0, u24(body0.length), body0, 2, u24(body1.length), body1),
    );
    expect(tag.packets).toEqual([
      { type: 'coded-frame', trackId: 0, fourCc: 'avc1', keyframe: true, compositionTimeMs: 0, data: bytes(body0) },
      { type: 'coded-frame', trackId: 2, fourCc: 'avc1', keyframe: true, compositionTimeMs: 0, data: bytes(body1) },
    ]);
  });

  it('reads OneTrack and ManyTracksManyCodecs multitrack', () => {
    expect(parseVideoTag(bytes(exVideo(KEY, 6), (0 << 4) | 0, ascii('hvc1'), 3, [1, 2, 3])).packets).toEqual([
      { type: 'sequence-start', trackId: 3, fourCc: 'hvc1', config: bytes(1, 2, 3) },
    ]);
    const tag = parseVideoTag(bytes(exVideo(KEY, 6), (2 << 4) | 0, ascii('avc1'), 0, u24(2), [9, 9], ascii('av01'), 1, u24(1), [7]));
    expect(tag.packets.map((p) => p.type === 'sequence-start' && [p.trackId, p.fourCc, [...p.config]])).toEqual([
      [0, 'avc1', [9, 9]],
      [1, 'av01', [7]],
    ]);
  });

  it('throws FlvTagError when a track size overruns the message or multitrack nests', () => {
    expect(() => parseVideoTag(bytes(exVideo(KEY, 6), (1 << 4) | 1, ascii('av01'), 0, u24(50), [1, 2]))).toThrow(FlvTagError);
    expect(() => parseVideoTag(bytes(exVideo(KEY, 6), (1 << 4) | 6, ascii('av01')))).toThrow(FlvTagError);
    expect(() => parseVideoTag(bytes(exVideo(KEY, 6), (5 << 4) | 1, ascii('av01'), 0))).toThrow(FlvTagError);
    expect(() => parseVideoTag(bytes(exVideo(KEY, 1), ascii('av')))).toThrow(FlvTagError);
  });
});

describe('FLV audio', () => {
  it('legacy AAC: sequence header = AudioSpecificConfig, raw = access unit', () => {
    expect(parseAudioTag(bytes(0xaf, 0, 0x11, 0x90)).packets).toEqual([{ type: 'sequence-start', trackId: 0, fourCc: 'mp4a', config: bytes(0x11, 0x90) }]);
    expect(parseAudioTag(bytes(0xaf, 1, 0x21, 0x10, 0x04)).packets).toEqual([{ type: 'coded-frame', trackId: 0, fourCc: 'mp4a', data: bytes(0x21, 0x10, 0x04) }]);
  });

  it('an empty audio message is the silence message: no packets', () => {
    expect(parseAudioTag(bytes()).packets).toEqual([]);
  });

  it('legacy non-AAC formats are unsupported codecs', () => {
    expect(parseAudioTag(bytes(0x2f, 0xff, 0xfb)).packets[0]).toMatchObject({ type: 'unsupported-codec', codec: 'MP3' });
  });

  it('E-RTMP Opus: SequenceStart with OpusHead, CodedFrames', () => {
    const head = [...ascii('OpusHead'), 1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0];
    expect(parseAudioTag(bytes(0x90, ascii('Opus'), head)).packets).toEqual([{ type: 'sequence-start', trackId: 0, fourCc: 'Opus', config: bytes(head) }]);
    expect(parseAudioTag(bytes(0x91, ascii('Opus'), [0xfc, 1, 2])).packets).toEqual([{ type: 'coded-frame', trackId: 0, fourCc: 'Opus', data: bytes(0xfc, 1, 2) }]);
    expect(parseAudioTag(bytes(0x92, ascii('Opus'))).packets).toEqual([{ type: 'sequence-end', trackId: 0, fourCc: 'Opus' }]);
  });

  it('E-RTMP mp4a and MultichannelConfig', () => {
    expect(parseAudioTag(bytes(0x90, ascii('mp4a'), [0x11, 0x90])).packets[0]).toMatchObject({ type: 'sequence-start', fourCc: 'mp4a' });
    // Native channel order: order 1, 6 channels, UI32 flags.
    expect(parseAudioTag(bytes(0x94, ascii('Opus'), 1, 6, [0, 0, 0, 0x3f])).packets[0]).toEqual({
      type: 'multichannel-config',
      trackId: 0,
      fourCc: 'Opus',
      channelCount: 6,
    });
    expect(() => parseAudioTag(bytes(0x94, ascii('Opus'), 2, 6, [0, 1]))).toThrow(FlvTagError);
  });

  it('E-RTMP audio multitrack and ModEx', () => {
    const tag = parseAudioTag(bytes(0x95, (1 << 4) | 1, ascii('Opus'), 0, u24(2), [0xfc, 0], 1, u24(1), [0xf8]));
    expect(tag.packets.map((p) => p.type === 'coded-frame' && [p.trackId, [...p.data]])).toEqual([
      [0, [0xfc, 0]],
      [1, [0xf8]],
    ]);
    const withModEx = parseAudioTag(bytes(0x97, 2, u24(999_999), 0x01, ascii('Opus'), [0xfc]));
    expect(withModEx.timestampOffsetNs).toBe(999_999);
    // 16-bit ModEx size: UI8 255 means "read UI16 + 1".
    const big = parseAudioTag(bytes(0x97, 255, 0x01, 0x00, new Array<number>(257).fill(0), 0x01, ascii('Opus'), [0xfc]));
    expect(big.packets[0]).toMatchObject({ type: 'coded-frame', data: bytes(0xfc) });
  });

  it('throws FlvTagError on truncation', () => {
    expect(() => parseAudioTag(bytes(0xaf))).toThrow(FlvTagError);
    expect(() => parseAudioTag(bytes(0x91, ascii('Op')))).toThrow(FlvTagError);
    expect(() => parseAudioTag(bytes(0x97, 3, 1, 2))).toThrow(FlvTagError);
  });
});

describe('tag parsers on arbitrary bytes', () => {
  const onlyOurError = (parse: (body: Uint8Array) => unknown) => (body: Uint8Array) => {
    try {
      parse(body);
    } catch (error) {
      if (!(error instanceof FlvTagError)) throw error;
    }
  };
  // Random bytes rarely get past the first byte's branches, so also try bodies that start with
  // every header byte value followed by plausible FourCCs and multitrack headers.
  const fourCc = fc.constantFrom(...['avc1', 'hvc1', 'av01', 'vp09', 'Opus', 'mp4a', 'zzzz'].map(ascii));
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fourCc, fc.uint8Array({ maxLength: 40 }))
      .map(([first, second, cc, rest]) => bytes(first, second, cc, [...rest])),
    fc.tuple(fc.integer({ min: 0, max: 255 }), fourCc, fc.uint8Array({ maxLength: 40 })).map(([first, cc, rest]) => bytes(first, cc, [...rest])),
  );

  it('parseVideoTag throws nothing but FlvTagError', () => {
    fc.assert(fc.property(body, onlyOurError(parseVideoTag)), { numRuns: 5000 });
  });

  it('parseAudioTag throws nothing but FlvTagError', () => {
    fc.assert(fc.property(body, onlyOurError(parseAudioTag)), { numRuns: 5000 });
  });
});
