import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../adapters/ingest/rtmp/logger.ts';
import { RtmpMediaNormalizer } from '../../adapters/ingest/rtmp/media-normalizer.ts';
import { resolvePublishTarget, StreamNameError } from '../../adapters/ingest/rtmp/stream-names.ts';
import { RtmpTimeline } from '../../adapters/ingest/rtmp/timeline.ts';
import type { MediaFrame, MediaSink, TrackInfo } from '../../src/media/frame.ts';
import { buildAvcC } from '../../src/media/h264.ts';
import { buildHvcC } from '../../src/media/h265.ts';
import { fromHex } from '../../src/media/hex.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';

// Parameter sets from x264 / x265 encoding ffmpeg's testsrc2 at 320x240.
const SPS = fromHex('6764000dacd94141fb0110000003001000000303c0f1429960');
const PPS = fromHex('68ebe3cb22c0');
const HEVC_VPS = fromHex('40010c01ffff01600000030090000003000003003c959809');
const HEVC_SPS = fromHex('42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10');
const HEVC_PPS = fromHex('4401c172b46240');

type Call =
  | { op: 'setTrack'; name: string; info: TrackInfo }
  | { op: 'writeFrame'; name: string; frame: MediaFrame }
  | { op: 'removeTrack'; name: string }
  | { op: 'close'; reason: string | undefined };

function recorder(): { sink: MediaSink; calls: Call[]; frames: (name: string) => MediaFrame[] } {
  const calls: Call[] = [];
  return {
    calls,
    frames: (name) => calls.flatMap((c) => (c.op === 'writeFrame' && c.name === name ? [c.frame] : [])),
    sink: {
      setTrack: (name, info) => calls.push({ op: 'setTrack', name, info }),
      writeFrame: (name, frame) => calls.push({ op: 'writeFrame', name, frame }),
      removeTrack: (name) => calls.push({ op: 'removeTrack', name }),
      close: (reason) => calls.push({ op: 'close', reason }),
    },
  };
}

const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const si24 = (n: number): number[] => u24(n < 0 ? n + 0x1000000 : n);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const bytes = (...parts: (number | number[] | Uint8Array)[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...p])));
function lengthBytes(size: number, length: number): number[] {
  return Array.from({ length: size }, (_, i) => (length >> (8 * (size - 1 - i))) & 0xff);
}
/** One NAL unit behind a big-endian length of `size` bytes. */
const withLength = (size: number, nalu: number[]): number[] => [...lengthBytes(size, nalu.length), ...nalu];
const avcSequenceHeader = (avcc: Uint8Array): Uint8Array => bytes(0x17, 0, 0, 0, 0, avcc);
const avcFrame = (key: boolean, cts: number, au: number[]): Uint8Array => bytes(key ? 0x17 : 0x27, 1, si24(cts), au);
const IDR = [0x65, 0x88, 0x84, 0x00];
const SLICE = [0x41, 0x9a, 0x02];

describe('RtmpMediaNormalizer video', () => {
  it('declares H.264 from the sequence header and passes 4-byte length-prefixed frames through', () => {
    const { sink, calls, frames } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    const avcc = buildAvcC([SPS], [PPS]);
    n.onVideoMessage(0, avcSequenceHeader(avcc));
    n.onVideoMessage(0, avcFrame(true, 67, withLength(4, IDR)));
    n.onVideoMessage(33, avcFrame(false, -33, withLength(4, SLICE)));
    expect(calls[0]).toEqual({
      op: 'setTrack',
      name: 'video',
      info: { kind: 'video', codec: 'avc1.64000d', description: avcc, codedWidth: 320, codedHeight: 240 },
    });
    expect(frames('video')).toEqual([
      { timestamp: 0, compositionOffset: 67_000, keyframe: true, payload: bytes(withLength(4, IDR)) },
      { timestamp: 33_000, compositionOffset: -33_000, keyframe: false, payload: bytes(withLength(4, SLICE)) },
    ]);
  });

  it('rewrites 2-byte NAL lengths to 4 and says so in the description', () => {
    const { sink, calls, frames } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    const avcc = buildAvcC([SPS], [PPS]);
    avcc[4] = 0xfd; // lengthSizeMinusOne = 1
    n.onVideoMessage(0, avcSequenceHeader(avcc));
    n.onVideoMessage(0, avcFrame(true, 0, [...withLength(2, [0x09, 0xf0]), ...withLength(2, IDR)]));
    const info = calls[0]!.op === 'setTrack' ? calls[0]!.info : undefined;
    expect(info?.description?.[4]).toBe(0xff);
    const payload = frames('video')[0]!.payload;
    expect(splitLengthPrefixed(payload, 4).map((u) => [...u])).toEqual([[0x09, 0xf0], IDR]);
  });

  it('sets the track again only when the sequence header changes', () => {
    const { sink, calls } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    n.onVideoMessage(0, avcSequenceHeader(buildAvcC([SPS], [PPS])));
    n.onVideoMessage(10, avcSequenceHeader(buildAvcC([SPS], [PPS])));
    n.onVideoMessage(20, avcSequenceHeader(buildAvcC([SPS], [fromHex('68ebe3cb22c1')])));
    expect(calls.filter((c) => c.op === 'setTrack')).toHaveLength(2);
  });

  it('takes the keyframe flag from IDR presence, drops empty and config-less frames', () => {
    const { sink, frames } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    n.onVideoMessage(0, avcFrame(true, 0, withLength(4, IDR))); // before any sequence header
    n.onVideoMessage(0, avcSequenceHeader(buildAvcC([SPS], [PPS])));
    n.onVideoMessage(10, avcFrame(true, 0, withLength(4, SLICE))); // flagged key, no IDR
    n.onVideoMessage(20, avcFrame(false, 0, withLength(4, IDR))); // flagged inter, has IDR
    n.onVideoMessage(30, bytes(0x17, 1, 0, 0, 0)); // empty frame (AVC end of sequence in disguise)
    n.onVideoMessage(40, bytes(0x17, 2, 0, 0, 0)); // real end of sequence
    n.onVideoMessage(50, avcFrame(false, 0, [0, 0, 0, 9, 1])); // NAL length overruns: dropped
    expect(frames('video').map((f) => [f.timestamp, f.keyframe])).toEqual([
      [10_000, false],
      [20_000, true],
    ]);
  });

  it('handles E-RTMP hvc1 with IRAP keyframes and multitrack names', () => {
    const { sink, calls, frames } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    const hvcc = buildHvcC([HEVC_VPS], [HEVC_SPS], [HEVC_PPS]);
    n.onVideoMessage(0, bytes(0x80 | 0x10 | 0, ascii('hvc1'), hvcc));
    n.onVideoMessage(0, bytes(0x80 | 0x10 | 1, ascii('hvc1'), si24(0), withLength(4, [0x26, 0x01, 0xaf])));
    n.onVideoMessage(40, bytes(0x80 | 0x20 | 3, ascii('hvc1'), withLength(4, [0x02, 0x01, 0xd0])));
    // Multitrack OneTrack, trackId 1: its own track name.
    n.onVideoMessage(40, bytes(0x80 | 0x10 | 6, 0x00, ascii('hvc1'), 1, hvcc));
    const set = calls.filter((c) => c.op === 'setTrack');
    expect(set.map((c) => [c.name, c.op === 'setTrack' && c.info.codec])).toEqual([
      ['video', 'hvc1.1.6.L60.90'],
      ['video1', 'hvc1.1.6.L60.90'],
    ]);
    expect(set[0]!.op === 'setTrack' && set[0]!.info.kind === 'video' && [set[0]!.info.codedWidth, set[0]!.info.codedHeight]).toEqual([320, 240]);
    expect(frames('video').map((f) => f.keyframe)).toEqual([true, false]);
  });

  it('drops an unsupported codec without throwing, and removes a track that switches to one', () => {
    const { sink, calls } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    n.onVideoMessage(0, avcSequenceHeader(buildAvcC([SPS], [PPS])));
    n.onVideoMessage(10, bytes(0x12, 1, 2, 3)); // legacy Sorenson H.263
    n.onVideoMessage(20, bytes(0x80 | 0x10 | 1, ascii('vvc1'), 0, 0, 0, 1)); // not supported yet
    n.onAudioMessage(0, bytes(0x2f, 0xff, 0xfb)); // MP3
    expect(calls.map((c) => c.op)).toEqual(['setTrack', 'removeTrack']);
  });
});

describe('RtmpMediaNormalizer audio and timing', () => {
  it('declares AAC from the AudioSpecificConfig and marks every frame a keyframe', () => {
    const { sink, calls, frames } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    n.onAudioMessage(0, bytes(0xaf, 0, 0x11, 0x90)); // AAC-LC 48 kHz stereo
    n.onAudioMessage(0, bytes(0xaf, 1, 0x21, 0x10));
    n.onAudioMessage(21, bytes(0xaf, 1, 0x21, 0x11));
    expect(calls[0]).toEqual({
      op: 'setTrack',
      name: 'audio',
      info: { kind: 'audio', codec: 'mp4a.40.2', description: bytes(0x11, 0x90), sampleRate: 48000, numberOfChannels: 2 },
    });
    expect(frames('audio').map((f) => [f.timestamp, f.keyframe, f.compositionOffset])).toEqual([
      [0, true, 0],
      [21_000, true, 0],
    ]);
  });

  it('declares E-RTMP Opus from OpusHead, or from the TOC when the sequence start is missing', () => {
    const head = bytes(ascii('OpusHead'), 1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0);
    const a = recorder();
    const n = new RtmpMediaNormalizer(a.sink, silentLogger);
    n.onAudioMessage(0, bytes(0x90, ascii('Opus'), head));
    n.onAudioMessage(0, bytes(0x91, ascii('Opus'), 0xfc, 0xff, 0xfe));
    expect(a.calls[0]).toMatchObject({ op: 'setTrack', name: 'audio', info: { codec: 'opus', sampleRate: 48000, numberOfChannels: 2, description: head } });
    expect(a.frames('audio')).toHaveLength(1);

    const b = recorder();
    const m = new RtmpMediaNormalizer(b.sink, silentLogger);
    m.onAudioMessage(0, bytes(0x91, ascii('Opus'), 0xf8, 0xff, 0xfe)); // TOC stereo bit clear: mono
    expect(b.calls[0]).toMatchObject({ op: 'setTrack', info: { codec: 'opus', numberOfChannels: 1 } });
    expect(b.frames('audio')).toHaveLength(1);
  });

  it('unwraps 32-bit timestamps on one timeline shared by audio and video', () => {
    const { sink, frames } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    n.onVideoMessage(0xffffff00, avcSequenceHeader(buildAvcC([SPS], [PPS])));
    n.onAudioMessage(0xffffff00, bytes(0xaf, 0, 0x11, 0x90));
    n.onVideoMessage(0xffffff00, avcFrame(true, 0, withLength(4, IDR)));
    n.onAudioMessage(0xfffffff0, bytes(0xaf, 1, 1));
    n.onVideoMessage(0x00000010, avcFrame(false, 0, withLength(4, SLICE))); // wrapped
    n.onAudioMessage(0x00000005, bytes(0xaf, 1, 2)); // wrapped, a little behind the video
    const base = 0xffffff00 * 1000;
    expect(frames('video').map((f) => f.timestamp - base)).toEqual([0, 0x110 * 1000]);
    expect(frames('audio').map((f) => f.timestamp - base)).toEqual([0xf0 * 1000, 0x105 * 1000]);
  });

  it('clamps a backwards step per track', () => {
    const { sink, frames } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    n.onAudioMessage(0, bytes(0xaf, 0, 0x11, 0x90));
    for (const ts of [100, 200, 150, 300]) n.onAudioMessage(ts, bytes(0xaf, 1, 1));
    expect(frames('audio').map((f) => f.timestamp / 1000)).toEqual([100, 200, 200, 300]);
  });

  it('adds the E-RTMP TimestampOffsetNano to the timestamp', () => {
    const { sink, frames } = recorder();
    const n = new RtmpMediaNormalizer(sink, silentLogger);
    n.onAudioMessage(0, bytes(0x90, ascii('mp4a'), 0x11, 0x90));
    n.onAudioMessage(10, bytes(0x97, 2, u24(500_000), 0x01, ascii('mp4a'), 1));
    expect(frames('audio')[0]!.timestamp).toBe(10_500);
  });

  it('RtmpTimeline follows small steps back and forth across the wrap', () => {
    const t = new RtmpTimeline();
    expect([0xfffffffe, 1, 0xffffffff, 5].map((raw) => t.unwrap(raw))).toEqual([0xfffffffe, 0x100000001, 0xffffffff, 0x100000005]);
  });
});

describe('resolvePublishTarget', () => {
  it('builds <app>/<stream> and keeps queries out of the name', () => {
    const t = resolvePublishTarget('live', 'rtmp://h:1935/live', 'demo?secret=x');
    expect(t.broadcast).toBe('live/demo');
    expect(t.query.get('secret')).toBe('x');
  });

  it('merges the connect query (OBS puts it in app and tcUrl); the stream key wins', () => {
    const t = resolvePublishTarget('live?token=a&k=1', 'rtmp://h/live?token=a&k=1', 'demo?k=2');
    expect(t.broadcast).toBe('live/demo');
    expect([...t.query]).toEqual([
      ['token', 'a'],
      ['k', '2'],
    ]);
    expect(resolvePublishTarget('live/', 'rtmp://h/live/?t=z', 'a/b').query.get('t')).toBe('z');
    expect(resolvePublishTarget('live/', undefined, 'a/b').broadcast).toBe('live/a/b');
  });

  it('refuses empty and unsafe names', () => {
    for (const [app, stream] of [
      ['live', ''],
      ['live', '?x=1'],
      ['', 'demo'],
      ['live', '../etc'],
      ['live', 'a//b'],
      ['live', 'a\u0000'],
    ] as const) {
      expect(() => resolvePublishTarget(app, undefined, stream)).toThrow(StreamNameError);
    }
  });
});
