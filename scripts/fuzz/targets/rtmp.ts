/**
 * RTMP ingest (adapters/ingest/rtmp): the chunk stream de-multiplexer, AMF0 commands and
 * metadata, FLV audio/video tag bodies, the normalizer that turns tags into frames, and the
 * stream-name parser for the `app` / `tcUrl` / publish name strings.
 */
import { decodeCommand, decodeMetadata } from '../../../adapters/ingest/rtmp/amf.ts';
import { RtmpChunkReader, type RtmpMessage } from '../../../adapters/ingest/rtmp/chunk-reader.ts';
import { FlvTagError, RtmpProtocolError } from '../../../adapters/ingest/rtmp/errors.ts';
import { parseAudioTag } from '../../../adapters/ingest/rtmp/flv-audio.ts';
import { parseVideoTag } from '../../../adapters/ingest/rtmp/flv-video.ts';
import { silentLogger } from '../../../adapters/ingest/rtmp/logger.ts';
import { RtmpMediaNormalizer } from '../../../adapters/ingest/rtmp/media-normalizer.ts';
import { resolvePublishTarget, StreamNameError } from '../../../adapters/ingest/rtmp/stream-names.ts';
import type { MediaSink } from '../../../src/media/frame.ts';
import { ascii, bigEndian, cat, fromHex, latin1, messages, framed, pieces } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

/** The ingest's default (rtmp-ingest.ts DEFAULTS.maxMessageSize). */
const MAX_MESSAGE_SIZE = 8 * 1024 * 1024;

const is =
  (...classes: (abstract new (...args: never[]) => Error)[]) =>
  (error: unknown): boolean =>
    classes.some((c) => error instanceof c);

// --- seed records --------------------------------------------------------------------------

const SPS = fromHex('6764000dacd94141fb0110000003001000000303c0f1429960');
const PPS = fromHex('68ebe3cb22c0');
const AVCC = fromHex('0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000668ebe3cb22c0fdf8f800');
const HVCC = fromHex(
  '0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a1' +
    '0001002a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10a2000100074401c172b46240',
);
const AV1C = fromHex('81000c000a0b000000043cffbcdaf90040');
const VPCC = fromHex('010000000014820202020000');
const ASC = fromHex('1210');
const OPUS_HEAD = fromHex('4f707573486561640102380180bb0000000000');

const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const withLength = (nalu: Uint8Array): Uint8Array => cat(bigEndian(nalu.byteLength, 4), nalu);
const IDR = withLength(Uint8Array.of(0x65, 0x88, 0x84, 0x00, 0x21));
const SLICE = withLength(Uint8Array.of(0x41, 0x9a, 0x02));
const exVideo = (frameType: number, packetType: number): number => 0x80 | (frameType << 4) | packetType;

/** FLV video tag bodies: legacy AVC and E-RTMP (hvc1, av01, vp09, multitrack, ModEx). */
const VIDEO_TAGS = [
  cat(0x17, 0, u24(0), AVCC),
  cat(0x17, 1, u24(67), IDR),
  cat(0x27, 1, u24(0xffffdf), SLICE),
  cat(0x17, 2, u24(0)),
  cat(exVideo(1, 0), ascii('hvc1'), HVCC),
  cat(exVideo(1, 1), ascii('hvc1'), u24(0), withLength(Uint8Array.of(0x26, 0x01, 0xaf))),
  cat(exVideo(1, 3), ascii('avc1'), IDR),
  cat(exVideo(1, 0), ascii('av01'), AV1C),
  cat(exVideo(1, 1), ascii('av01'), Uint8Array.of(0x12, 0x00, 0x32, 0x02, 0x10, 0x00)),
  cat(exVideo(1, 0), ascii('vp09'), VPCC),
  cat(exVideo(1, 4), ascii('avc1'), 0x02, 0x00, 0x0a, ascii('colorInfo'), 0x03, 0, 0, 9),
  // ModEx TimestampOffsetNano (3 bytes) then CodedFrames.
  cat(exVideo(1, 7), 0x02, 0x00, 0x01, 0x00, 0x01, ascii('avc1'), u24(0), IDR),
  // Multitrack, OneTrack avc1: track id then body.
  cat(exVideo(1, 6), 0x01, ascii('avc1'), 0x01, u24(0), IDR),
  // ManyTracks avc1: each track id + u24 size + body.
  cat(exVideo(1, 6), 0x11, ascii('avc1'), 0x00, u24(3 + IDR.byteLength), u24(0), IDR, 0x01, u24(3 + SLICE.byteLength), u24(0), SLICE),
  // ManyTracksManyCodecs: FourCC per track.
  cat(exVideo(1, 6), 0x20, ascii('avc1'), 0x00, u24(3 + IDR.byteLength), u24(0), IDR, ascii('vp09'), 0x01, u24(2), 0x82, 0x49),
];

/** FLV audio tag bodies: legacy AAC and E-RTMP (Opus, mp4a, multichannel, multitrack). */
const AUDIO_TAGS = [
  cat(0xaf, 0x00, ASC),
  cat(0xaf, 0x01, Uint8Array.of(0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c)),
  cat(0x90, ascii('Opus'), OPUS_HEAD),
  cat(0x91, ascii('Opus'), Uint8Array.of(0xfc, 0xff, 0xfe)),
  cat(0x90, ascii('mp4a'), ASC),
  cat(0x94, ascii('Opus'), 0x02, 0x06, Uint8Array.of(0, 1, 2, 3, 4, 5)),
  cat(0x94, ascii('Opus'), 0x01, 0x02, Uint8Array.of(0, 0, 0, 3)),
  cat(0x95, 0x01, ascii('Opus'), 0x00, Uint8Array.of(0xfc, 0xff, 0xfe)),
  cat(0x95, 0x11, ascii('mp4a'), 0x00, u24(2), 0x21, 0x10, 0x01, u24(2), 0x21, 0x10),
  cat(0x97, 0x02, 0x00, 0x01, 0x00, 0x01, ascii('Opus'), Uint8Array.of(0xfc)),
];

// AMF0 values.
const amfString = (s: string): Uint8Array => cat(0x02, bigEndian(s.length, 2), ascii(s));
const amfNumber = (n: number): Uint8Array => {
  const b = Buffer.alloc(9);
  b[0] = 0x00;
  b.writeDoubleBE(n, 1);
  return new Uint8Array(b);
};
const amfKey = (s: string): Uint8Array => cat(bigEndian(s.length, 2), ascii(s));
const amfObject = (entries: [string, Uint8Array][]): Uint8Array => cat(0x03, ...entries.flatMap(([k, v]) => [amfKey(k), v]), 0x00, 0x00, 0x09);
const amfEcma = (entries: [string, Uint8Array][]): Uint8Array => cat(0x08, bigEndian(entries.length, 4), ...entries.flatMap(([k, v]) => [amfKey(k), v]), 0x00, 0x00, 0x09);

const CONNECT = cat(
  amfString('connect'),
  amfNumber(1),
  amfObject([
    ['app', amfString('live')],
    ['type', amfString('nonprivate')],
    ['flashVer', amfString('FMLE/3.0 (compatible; FMSc/1.0)')],
    ['tcUrl', amfString('rtmp://127.0.0.1/live?jwt=x')],
    ['objectEncoding', amfNumber(0)],
  ]),
);
const RELEASE_STREAM = cat(amfString('releaseStream'), amfNumber(2), 0x05, amfString('demo'));
const CREATE_STREAM = cat(amfString('createStream'), amfNumber(4), 0x05);
const PUBLISH = cat(amfString('publish'), amfNumber(5), 0x05, amfString('demo?key=abc'), amfString('live'));
const METADATA = cat(
  amfString('@setDataFrame'),
  amfString('onMetaData'),
  amfEcma([
    ['width', amfNumber(1280)],
    ['height', amfNumber(720)],
    ['framerate', amfNumber(30)],
    ['videodatarate', amfNumber(2500)],
    ['videocodecid', amfNumber(7)],
    ['audiocodecid', amfNumber(10)],
    ['encoder', amfString('obs-output module')],
    ['stereo', Uint8Array.of(0x01, 0x01)],
    ['strict', Uint8Array.of(0x0a, 0, 0, 0, 1, 0x05)],
  ]),
);
const AMF_SEEDS = [CONNECT, RELEASE_STREAM, CREATE_STREAM, PUBLISH, METADATA];

/** A type-0 chunk, then type-3 continuations every `chunkSize` bytes (RTMP 1.0 §5.3). */
function chunked(csid: number, typeId: number, streamId: number, timestamp: number, payload: Uint8Array, chunkSize = 128): Uint8Array {
  const parts: Uint8Array[] = [];
  const basic = (fmt: number): number[] => (csid < 64 ? [(fmt << 6) | csid] : [fmt << 6, csid - 64]);
  parts.push(
    cat(basic(0), u24(Math.min(timestamp, 0xffffff)), u24(payload.byteLength), typeId, Uint8Array.of(streamId & 0xff, (streamId >> 8) & 0xff, 0, 0)),
  );
  if (timestamp >= 0xffffff) parts.push(bigEndian(timestamp, 4));
  for (let at = 0; at < payload.byteLength || at === 0; at += chunkSize) {
    if (at > 0) parts.push(Uint8Array.of(...basic(3)));
    parts.push(payload.subarray(at, at + chunkSize));
    if (payload.byteLength === 0) break;
  }
  return cat(...parts);
}

/** A publisher's session after the handshake: SetChunkSize, connect, publish, metadata, media. */
const CHUNK_SEEDS = [
  cat(
    chunked(2, 1, 0, 0, bigEndian(4096, 4)),
    chunked(3, 20, 0, 0, CONNECT, 4096),
    chunked(3, 20, 0, 0, CREATE_STREAM, 4096),
    chunked(4, 20, 1, 0, PUBLISH, 4096),
    chunked(4, 18, 1, 0, METADATA, 4096),
    chunked(6, 9, 1, 0, VIDEO_TAGS[0]!, 4096),
    chunked(7, 8, 1, 0, AUDIO_TAGS[0]!, 4096),
    chunked(6, 9, 1, 33, VIDEO_TAGS[1]!, 4096),
    chunked(7, 8, 1, 23, AUDIO_TAGS[1]!, 4096),
  ),
  cat(chunked(3, 20, 0, 0, CONNECT), chunked(4, 20, 1, 0, PUBLISH), chunked(6, 9, 1, 0xffffff + 5, VIDEO_TAGS[4]!), chunked(6, 9, 1, 0xffffff + 40, VIDEO_TAGS[5]!)),
  cat(chunked(70, 17, 0, 0, cat(0x00, CONNECT)), chunked(2, 5, 0, 0, bigEndian(2500000, 4)), chunked(2, 4, 0, 0, Uint8Array.of(0, 6, 0, 0, 0, 1)), chunked(2, 2, 0, 0, bigEndian(6, 4))),
];

// --- targets -------------------------------------------------------------------------------

const nullSink: MediaSink = { setTrack() {}, writeFrame() {}, removeTrack() {}, close() {} };

/** What RtmpSession.onMessage does with each message, minus the replies and the relay. */
function dispatch(normalizer: RtmpMediaNormalizer, message: RtmpMessage): void {
  switch (message.typeId) {
    case 20:
      decodeCommand(message.payload);
      return;
    case 17:
      decodeCommand(message.payload.subarray(1));
      return;
    case 9:
      normalizer.onVideoMessage(message.timestamp, message.payload);
      return;
    case 8:
      normalizer.onAudioMessage(message.timestamp, message.payload);
      return;
    case 18:
    case 15: {
      const payload = message.typeId === 15 ? message.payload.subarray(1) : message.payload;
      let metadata: ReturnType<typeof decodeMetadata>;
      try {
        metadata = decodeMetadata(payload);
      } catch (error) {
        if (!(error instanceof RtmpProtocolError)) throw error;
        return; // the session ignores a malformed data message
      }
      if (metadata) normalizer.setMetadata(metadata);
      return;
    }
    case 5:
      if (message.payload.length >= 4) message.payload.readUInt32BE(0);
      return;
    case 4:
      if (message.payload.length >= 6) message.payload.readUInt32BE(2);
      return;
  }
}

/** The input as FLV message bodies for the normalizer: a selector byte (video/audio), then the body. */
function normalizerMessages(bytes: Uint8Array): { video: boolean; timestamp: number; body: Uint8Array }[] {
  return messages(bytes).map((m, i) => ({ video: ((m[0] ?? 0) & 1) === 0, timestamp: i * 33 + ((m[0] ?? 0) >> 1) * 1000, body: m.subarray(1) }));
}

const NORMALIZER_SEEDS = [
  framed([cat(0, VIDEO_TAGS[0]!), cat(1, AUDIO_TAGS[0]!), cat(0, VIDEO_TAGS[1]!), cat(1, AUDIO_TAGS[1]!), cat(0, VIDEO_TAGS[2]!), cat(0, VIDEO_TAGS[3]!)]),
  framed([cat(0, VIDEO_TAGS[4]!), cat(0, VIDEO_TAGS[5]!), cat(1, AUDIO_TAGS[2]!), cat(1, AUDIO_TAGS[3]!), cat(1, AUDIO_TAGS[5]!)]),
  framed([cat(0, VIDEO_TAGS[7]!), cat(0, VIDEO_TAGS[8]!), cat(0, VIDEO_TAGS[9]!), cat(1, AUDIO_TAGS[4]!), cat(1, AUDIO_TAGS[8]!)]),
  framed([cat(0, VIDEO_TAGS[12]!), cat(0, VIDEO_TAGS[13]!), cat(0, VIDEO_TAGS[14]!), cat(0, VIDEO_TAGS[11]!), cat(1, AUDIO_TAGS[7]!), cat(1, AUDIO_TAGS[9]!)]),
  framed([cat(0, cat(0x17, 0, u24(0), fromHex('0164000dffe1'), bigEndian(SPS.byteLength, 2), SPS, 0x01, bigEndian(PPS.byteLength, 2), PPS)), cat(0, VIDEO_TAGS[1]!)]),
];

export const rtmpTargets: FuzzTarget[] = [
  {
    name: 'rtmp.chunk-stream',
    seeds: CHUNK_SEEDS,
    allowed: is(RtmpProtocolError),
    run(bytes) {
      const normalizer = new RtmpMediaNormalizer(nullSink, silentLogger);
      const reader = new RtmpChunkReader({ maxMessageSize: MAX_MESSAGE_SIZE, onMessage: (message) => dispatch(normalizer, message) });
      for (const piece of pieces(bytes)) reader.push(Buffer.from(piece));
    },
  },
  {
    name: 'rtmp.amf',
    seeds: AMF_SEEDS,
    allowed: is(RtmpProtocolError),
    run(bytes) {
      const payload = Buffer.from(bytes);
      try {
        decodeCommand(payload);
      } catch (error) {
        if (!(error instanceof RtmpProtocolError)) throw error;
      }
      decodeMetadata(payload);
    },
  },
  {
    name: 'rtmp.flv-video',
    seeds: VIDEO_TAGS,
    allowed: is(FlvTagError),
    run(bytes) {
      parseVideoTag(bytes);
    },
  },
  {
    name: 'rtmp.flv-audio',
    seeds: AUDIO_TAGS,
    allowed: is(FlvTagError),
    run(bytes) {
      parseAudioTag(bytes);
    },
  },
  {
    // The normalizer catches FlvTagError/MediaParseError itself: nothing may escape it.
    name: 'rtmp.normalizer',
    seeds: NORMALIZER_SEEDS,
    allowed: () => false,
    run(bytes) {
      const normalizer = new RtmpMediaNormalizer(nullSink, silentLogger);
      for (const { video, timestamp, body } of normalizerMessages(bytes)) {
        if (video) normalizer.onVideoMessage(timestamp >>> 0, body);
        else normalizer.onAudioMessage(timestamp >>> 0, body);
      }
    },
  },
  {
    // connect's app and tcUrl and publish's name, NUL-separated.
    name: 'rtmp.stream-name',
    seeds: [ascii('live\0rtmp://host/live?jwt=a.b.c\0demo?key=k'), ascii('live?jwt=x\0\0cam/1'), ascii('/live/\0rtmp://h:1935/live\0..')],
    allowed: is(StreamNameError),
    run(bytes) {
      const [app = '', tcUrl, name = ''] = latin1(bytes).split('\0');
      const target = resolvePublishTarget(app, tcUrl === '' ? undefined : tcUrl, name);
      target.query.get('jwt');
    },
  },
];
