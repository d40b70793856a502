import { FlvTagError } from './errors.ts';
import { AvMultitrackType, printableFourCc, readModEx, readMultitrackBodies, type TrackBody } from './ex-header.ts';
import { TagReader } from './tag-reader.ts';

/**
 * FLV VIDEODATA tag bodies as RTMP video messages carry them: the legacy VideoTagHeader
 * (Adobe FLV spec v10.1, E.4.3.1, AVC only) and the E-RTMP ExVideoTagHeader (veovera
 * enhanced-rtmp v1/v2: FourCC codecs, ModEx, multitrack). Pure parsing: which codecs the
 * gateway accepts is decided by the caller, so an unknown codec is data here, not an error.
 */

export type VideoPacket =
  /** Codec configuration record: avcC, hvcC, av1C, vpcC. */
  | { type: 'sequence-start'; trackId: number; fourCc: string; config: Uint8Array }
  | {
      type: 'coded-frame';
      trackId: number;
      fourCc: string;
      /** FLV frame type 1 (key) or 4 (generated key). */
      keyframe: boolean;
      /** PTS − DTS in ms (SI24; 0 for CodedFramesX and codecs without reordering). */
      compositionTimeMs: number;
      /** Codec bitstream as carried: length-prefixed NAL units (AVC/HEVC), OBUs (AV1), frames (VP9). */
      data: Uint8Array;
    }
  | { type: 'sequence-end'; trackId: number; fourCc: string }
  /** VideoPacketType.Metadata: AMF-encoded [name, value] pairs such as colorInfo. */
  | { type: 'metadata'; trackId: number; fourCc: string; data: Uint8Array }
  /** VideoFrameType.Command (client-side seeking markers); carries no video. */
  | { type: 'command'; command: number }
  /** A codec we cannot carry (legacy VP6/H.263, unknown FourCC): the whole track is unusable. */
  | { type: 'unsupported-codec'; trackId: number; codec: string; reason: string }
  /** A reserved or unsupported packet type of an otherwise usable track: skip just this packet. */
  | { type: 'unknown-packet'; trackId: number; codec: string; reason: string };

export interface VideoTag {
  packets: VideoPacket[];
  /** E-RTMP TimestampOffsetNano ModEx, added to the message timestamp; 0 when absent. */
  timestampOffsetNs: number;
}

const FRAME_TYPE_KEY = 1;
const FRAME_TYPE_GENERATED_KEY = 4;
const FRAME_TYPE_COMMAND = 5;

const LEGACY_CODEC_AVC = 7;
const LEGACY_CODEC_NAMES: Record<number, string> = {
  2: 'Sorenson H.263',
  3: 'Screen video',
  4: 'On2 VP6',
  5: 'On2 VP6 with alpha',
  6: 'Screen video v2',
  12: 'HEVC (non-standard CodecID 12)',
};

const AVC_SEQUENCE_HEADER = 0;
const AVC_NALU = 1;
const AVC_END_OF_SEQUENCE = 2;

/** VideoPacketType (E-RTMP). */
const VideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  Mpeg2TsSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;

/** FourCCs whose CodedFrames start with an SI24 composition time offset. */
const FOURCC_WITH_CTS = new Set(['avc1', 'hvc1', 'vvc1']);
/** FourCCs whose CodedFrames are the bare bitstream. */
const FOURCC_WITHOUT_CTS = new Set(['av01', 'vp09', 'vp08']);

function isKeyFrameType(frameType: number): boolean {
  return frameType === FRAME_TYPE_KEY || frameType === FRAME_TYPE_GENERATED_KEY;
}

/** Parse one video message body. Throws FlvTagError only. */
export function parseVideoTag(body: Uint8Array): VideoTag {
  const reader = new TagReader(body);
  const first = reader.u8('video tag header');
  const isExHeader = (first & 0x80) !== 0;
  const frameType = (first >> 4) & 0x07;
  const low = first & 0x0f;
  if (!isExHeader) return { packets: [parseLegacy(reader, frameType, low)], timestampOffsetNs: 0 };

  const { packetType: afterModEx, timestampOffsetNs } = readModEx(reader, low);
  let packetType = afterModEx;
  if (packetType !== VideoPacketType.Metadata && frameType === FRAME_TYPE_COMMAND) {
    return { packets: [{ type: 'command', command: reader.u8('video command') }], timestampOffsetNs };
  }
  let tracks: TrackBody[];
  if (packetType === VideoPacketType.Multitrack) {
    const next = reader.u8('multitrack header');
    const multitrackType = next >> 4;
    packetType = next & 0x0f;
    if (packetType === VideoPacketType.Multitrack || packetType === VideoPacketType.ModEx) {
      throw new FlvTagError(`multitrack video packet type ${packetType} is not allowed inside multitrack`);
    }
    const shared = multitrackType === AvMultitrackType.ManyTracksManyCodecs ? '' : reader.fourCc('video FourCC');
    tracks = readMultitrackBodies(reader, multitrackType, shared);
  } else {
    tracks = [{ trackId: 0, fourCc: reader.fourCc('video FourCC'), body: reader.rest() }];
  }
  const packets = tracks.map((track) => parseExBody(packetType, frameType, track));
  return { packets, timestampOffsetNs };
}

function parseLegacy(reader: TagReader, frameType: number, codecId: number): VideoPacket {
  if (codecId !== LEGACY_CODEC_AVC) {
    const name = LEGACY_CODEC_NAMES[codecId] ?? `reserved CodecID ${codecId}`;
    return { type: 'unsupported-codec', trackId: 0, codec: name, reason: `legacy FLV video codec ${name}` };
  }
  if (frameType === FRAME_TYPE_COMMAND) return { type: 'command', command: reader.u8('video command') };
  const avcPacketType = reader.u8('AVCPacketType');
  if (avcPacketType === AVC_END_OF_SEQUENCE) {
    // Some muxers stop after the packet type; the CompositionTime that should follow is meaningless.
    return { type: 'sequence-end', trackId: 0, fourCc: 'avc1' };
  }
  const compositionTimeMs = reader.si24('CompositionTime');
  if (avcPacketType === AVC_SEQUENCE_HEADER) {
    return { type: 'sequence-start', trackId: 0, fourCc: 'avc1', config: reader.rest() };
  }
  if (avcPacketType === AVC_NALU) {
    return {
      type: 'coded-frame',
      trackId: 0,
      fourCc: 'avc1',
      keyframe: isKeyFrameType(frameType),
      compositionTimeMs,
      data: reader.rest(),
    };
  }
  return { type: 'unknown-packet', trackId: 0, codec: 'avc1', reason: `reserved AVCPacketType ${avcPacketType}` };
}

function parseExBody(packetType: number, frameType: number, track: TrackBody): VideoPacket {
  const { trackId, fourCc } = track;
  const reader = new TagReader(track.body);
  switch (packetType) {
    case VideoPacketType.SequenceStart:
      return { type: 'sequence-start', trackId, fourCc, config: reader.rest() };
    case VideoPacketType.SequenceEnd:
      return { type: 'sequence-end', trackId, fourCc };
    case VideoPacketType.Metadata:
      return { type: 'metadata', trackId, fourCc, data: reader.rest() };
    case VideoPacketType.CodedFramesX:
      return { type: 'coded-frame', trackId, fourCc, keyframe: isKeyFrameType(frameType), compositionTimeMs: 0, data: reader.rest() };
    case VideoPacketType.CodedFrames: {
      if (FOURCC_WITH_CTS.has(fourCc)) {
        const compositionTimeMs = reader.si24('CompositionTime');
        return { type: 'coded-frame', trackId, fourCc, keyframe: isKeyFrameType(frameType), compositionTimeMs, data: reader.rest() };
      }
      if (FOURCC_WITHOUT_CTS.has(fourCc)) {
        return { type: 'coded-frame', trackId, fourCc, keyframe: isKeyFrameType(frameType), compositionTimeMs: 0, data: reader.rest() };
      }
      // Without knowing the codec we cannot tell whether an SI24 precedes the data.
      return { type: 'unsupported-codec', trackId, codec: printableFourCc(fourCc), reason: `unknown video FourCC ${printableFourCc(fourCc)}` };
    }
    case VideoPacketType.Mpeg2TsSequenceStart:
      return { type: 'unsupported-codec', trackId, codec: printableFourCc(fourCc), reason: 'MPEG2TSSequenceStart (MPEG-2 TS descriptors) is not supported' };
    default:
      return { type: 'unknown-packet', trackId, codec: printableFourCc(fourCc), reason: `reserved VideoPacketType ${packetType}` };
  }
}
