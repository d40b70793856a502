import { aacCodecString, parseAudioSpecificConfig } from '../../../src/media/aac.ts';
import { av1CodecString } from '../../../src/media/av1.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import type { AudioTrackInfo, VideoTrackInfo } from '../../../src/media/frame.ts';
import { avcCodecString, parseAvcC, parseSps } from '../../../src/media/h264.ts';
import { H265NalType, hevcCodecString, parseHevcSps, parseHvcC } from '../../../src/media/h265.ts';
import { buildOpusHead, parseOpusHead } from '../../../src/media/opus.ts';
import { vp9CodecString } from '../../../src/media/vp9.ts';

/**
 * Codec configuration from RTMP sequence headers -> frame-model TrackInfo. Throws
 * MediaParseError for a malformed record.
 */

export const SUPPORTED_VIDEO_FOURCC = new Set(['avc1', 'hvc1', 'av01', 'vp09']);
export const SUPPORTED_AUDIO_FOURCC = new Set(['mp4a', 'Opus']);

/** What onMetaData told us; only used where the codec record lacks it. */
export interface StreamHints {
  width?: number;
  height?: number;
  framerate?: number;
  videoBitrate?: number;
  audioBitrate?: number;
}

export interface VideoTrackSetup {
  info: VideoTrackInfo;
  /** NAL length size the encoder uses in its frames (AVC/HEVC); frames are rewritten to 4. */
  nalLengthSize?: number;
}

/** Copy of a config record with its lengthSizeMinusOne bits (at `offset`) set to 3. */
function withFourByteLengths(record: Uint8Array, offset: number): Uint8Array {
  const copy = record.slice();
  copy[offset] = copy[offset]! | 0x03;
  return copy;
}

function optional(hints: StreamHints): { framerate?: number; bitrate?: number } {
  return {
    ...(hints.framerate !== undefined ? { framerate: hints.framerate } : {}),
    ...(hints.videoBitrate !== undefined ? { bitrate: hints.videoBitrate } : {}),
  };
}

export function videoTrackSetup(fourCc: string, config: Uint8Array, hints: StreamHints): VideoTrackSetup {
  switch (fourCc) {
    case 'avc1': {
      const avcc = parseAvcC(config);
      const sps = avcc.sps[0];
      if (!sps) throw new MediaParseError('avcC without an SPS');
      const { width, height } = parseSps(sps);
      // avcC byte 4: reserved(6) + lengthSizeMinusOne(2), ISO/IEC 14496-15 5.3.3.1.
      const description = avcc.lengthSize === 4 ? config.slice() : withFourByteLengths(config, 4);
      return {
        info: { kind: 'video', codec: avcCodecString(config), description, codedWidth: width, codedHeight: height, ...optional(hints) },
        nalLengthSize: avcc.lengthSize,
      };
    }
    case 'hvc1': {
      const hvcc = parseHvcC(config);
      const sps = hvcc.arrays.find((a) => a.nalType === H265NalType.Sps)?.nalus[0];
      if (!sps) throw new MediaParseError('hvcC without an SPS');
      const { width, height } = parseHevcSps(sps);
      // hvcC byte 21: constantFrameRate(2) numTemporalLayers(3) temporalIdNested(1) lengthSizeMinusOne(2), 14496-15 8.3.3.1.
      const description = hvcc.lengthSize === 4 ? config.slice() : withFourByteLengths(config, 21);
      return {
        info: { kind: 'video', codec: hevcCodecString(config), description, codedWidth: width, codedHeight: height, ...optional(hints) },
        nalLengthSize: hvcc.lengthSize,
      };
    }
    case 'av01':
    case 'vp09': {
      // Neither av1C's fixed bytes nor vpcC carry the picture size (it is in the AV1 sequence
      // header OBU / each VP9 keyframe header), so take it from onMetaData when sent.
      const codec = fourCc === 'av01' ? av1CodecString(config) : vp9CodecString(config);
      return {
        info: { kind: 'video', codec, description: config.slice(), codedWidth: hints.width ?? 0, codedHeight: hints.height ?? 0, ...optional(hints) },
      };
    }
    default:
      throw new MediaParseError(`unsupported video FourCC ${fourCc}`);
  }
}

/** `channelCount`: from an E-RTMP MultichannelConfig, for an Opus sequence start without OpusHead. */
export function audioTrackInfo(fourCc: string, config: Uint8Array, hints: StreamHints, channelCount?: number): AudioTrackInfo {
  const bitrate = hints.audioBitrate !== undefined ? { bitrate: hints.audioBitrate } : {};
  if (fourCc === 'mp4a') {
    const asc = parseAudioSpecificConfig(config);
    // With SBR present the decoder outputs at the extension rate; PS decodes a mono core to stereo.
    const sampleRate = asc.extensionSampleRate ?? asc.sampleRate;
    const channels = asc.ps ? 2 : asc.channels;
    return { kind: 'audio', codec: aacCodecString(config), description: config.slice(), sampleRate, numberOfChannels: channels, ...bitrate };
  }
  if (fourCc === 'Opus') {
    // Opus always decodes at 48 kHz (RFC 7845 5.1: input rate is informational).
    if (config.length > 0) {
      const head = parseOpusHead(config);
      return { kind: 'audio', codec: 'opus', description: config.slice(), sampleRate: 48000, numberOfChannels: head.channels, ...bitrate };
    }
    // E-RTMP v2: an empty Opus sequence start means MultichannelConfig's count, else mono/stereo.
    const channels = channelCount ?? 2;
    return { kind: 'audio', codec: 'opus', description: buildOpusHead(channels, 48000), sampleRate: 48000, numberOfChannels: channels, ...bitrate };
  }
  throw new MediaParseError(`unsupported audio FourCC ${fourCc}`);
}
