import { FlvTagError } from './errors.ts';
import { AvMultitrackType, printableFourCc, readModEx, readMultitrackBodies, type TrackBody } from './ex-header.ts';
import { TagReader } from './tag-reader.ts';

/**
 * FLV AUDIODATA tag bodies as RTMP audio messages carry them: the legacy AudioTagHeader
 * (Adobe FLV spec v10.1, E.4.2.1; AAC is the only codec we take from it) and the E-RTMP v2
 * ExAudioTagHeader (SoundFormat 9: FourCC codecs such as `Opus` and `mp4a`, ModEx,
 * multichannel config, multitrack). Which codecs are accepted is the caller's decision.
 */

export type AudioPacket =
  /** AudioSpecificConfig (mp4a) or OpusHead, possibly empty for Opus. */
  | { type: 'sequence-start'; trackId: number; fourCc: string; config: Uint8Array }
  /** One access unit: raw AAC (no ADTS) or an Opus packet. */
  | { type: 'coded-frame'; trackId: number; fourCc: string; data: Uint8Array }
  | { type: 'sequence-end'; trackId: number; fourCc: string }
  /** AudioPacketType.MultichannelConfig; only the channel count matters to us. */
  | { type: 'multichannel-config'; trackId: number; fourCc: string; channelCount: number }
  /** A codec we cannot carry (legacy MP3/PCM/Speex...): the whole track is unusable. */
  | { type: 'unsupported-codec'; trackId: number; codec: string; reason: string }
  /** A reserved packet type of an otherwise usable track: skip just this packet. */
  | { type: 'unknown-packet'; trackId: number; codec: string; reason: string };

export interface AudioTag {
  packets: AudioPacket[];
  timestampOffsetNs: number;
}

const SOUND_FORMAT_EX_HEADER = 9;
const SOUND_FORMAT_AAC = 10;
const LEGACY_SOUND_FORMAT_NAMES: Record<number, string> = {
  0: 'Linear PCM (platform endian)',
  1: 'ADPCM',
  2: 'MP3',
  3: 'Linear PCM (little endian)',
  4: 'Nellymoser 16 kHz',
  5: 'Nellymoser 8 kHz',
  6: 'Nellymoser',
  7: 'G.711 A-law',
  8: 'G.711 mu-law',
  11: 'Speex',
  14: 'MP3 8 kHz',
  15: 'device-specific sound',
};

const AAC_SEQUENCE_HEADER = 0;
const AAC_RAW = 1;

/** AudioPacketType (E-RTMP v2). */
const AudioPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  MultichannelConfig: 4,
  Multitrack: 5,
  ModEx: 7,
} as const;

const AudioChannelOrder = { Unspecified: 0, Native: 1, Custom: 2 } as const;

/** Parse one audio message body. Throws FlvTagError only. */
export function parseAudioTag(body: Uint8Array): AudioTag {
  // An empty audio message is RTMP's undocumented "silence" message (E-RTMP v2 names it):
  // nothing to deliver.
  if (body.length === 0) return { packets: [], timestampOffsetNs: 0 };
  const reader = new TagReader(body);
  const first = reader.u8('audio tag header');
  const soundFormat = first >> 4;
  if (soundFormat !== SOUND_FORMAT_EX_HEADER) return { packets: [parseLegacy(reader, soundFormat)], timestampOffsetNs: 0 };

  const { packetType: afterModEx, timestampOffsetNs } = readModEx(reader, first & 0x0f);
  let packetType = afterModEx;
  let tracks: TrackBody[];
  if (packetType === AudioPacketType.Multitrack) {
    const next = reader.u8('multitrack header');
    const multitrackType = next >> 4;
    packetType = next & 0x0f;
    if (packetType === AudioPacketType.Multitrack || packetType === AudioPacketType.ModEx) {
      throw new FlvTagError(`audio packet type ${packetType} is not allowed inside multitrack`);
    }
    const shared = multitrackType === AvMultitrackType.ManyTracksManyCodecs ? '' : reader.fourCc('audio FourCC');
    tracks = readMultitrackBodies(reader, multitrackType, shared);
  } else {
    tracks = [{ trackId: 0, fourCc: reader.fourCc('audio FourCC'), body: reader.rest() }];
  }
  return { packets: tracks.map((track) => parseExBody(packetType, track)), timestampOffsetNs };
}

function parseLegacy(reader: TagReader, soundFormat: number): AudioPacket {
  if (soundFormat !== SOUND_FORMAT_AAC) {
    const name = LEGACY_SOUND_FORMAT_NAMES[soundFormat] ?? `reserved SoundFormat ${soundFormat}`;
    return { type: 'unsupported-codec', trackId: 0, codec: name, reason: `legacy FLV audio format ${name}` };
  }
  const aacPacketType = reader.u8('AACPacketType');
  if (aacPacketType === AAC_SEQUENCE_HEADER) return { type: 'sequence-start', trackId: 0, fourCc: 'mp4a', config: reader.rest() };
  if (aacPacketType === AAC_RAW) return { type: 'coded-frame', trackId: 0, fourCc: 'mp4a', data: reader.rest() };
  return { type: 'unknown-packet', trackId: 0, codec: 'mp4a', reason: `reserved AACPacketType ${aacPacketType}` };
}

function parseExBody(packetType: number, track: TrackBody): AudioPacket {
  const { trackId, fourCc } = track;
  const reader = new TagReader(track.body);
  switch (packetType) {
    case AudioPacketType.SequenceStart:
      return { type: 'sequence-start', trackId, fourCc, config: reader.rest() };
    case AudioPacketType.CodedFrames:
      return { type: 'coded-frame', trackId, fourCc, data: reader.rest() };
    case AudioPacketType.SequenceEnd:
      return { type: 'sequence-end', trackId, fourCc };
    case AudioPacketType.MultichannelConfig: {
      const order = reader.u8('AudioChannelOrder');
      const channelCount = reader.u8('channelCount');
      // Later frames build their decoder config from this count: zero channels is no config.
      if (channelCount === 0) throw new FlvTagError('MultichannelConfig with 0 channels');
      if (order === AudioChannelOrder.Custom) reader.bytes(channelCount, 'audioChannelMapping');
      else if (order === AudioChannelOrder.Native) reader.bytes(4, 'audioChannelFlags');
      return { type: 'multichannel-config', trackId, fourCc, channelCount };
    }
    default:
      return { type: 'unknown-packet', trackId, codec: printableFourCc(fourCc), reason: `reserved AudioPacketType ${packetType}` };
  }
}
