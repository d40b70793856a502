import type { AudioTrackInfo, TrackInfo, VideoTrackInfo } from '../../../src/media/frame.ts';
import { avcCodecString, parseAvcC } from '../../../src/media/h264.ts';
import { hevcCodecString } from '../../../src/media/h265.ts';
import { buildAudioSpecificConfig, parseAudioSpecificConfig } from '../../../src/media/aac.ts';
import { parseOpusHead } from '../../../src/media/opus.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import { buildInitSegment } from './fmp4/init-segment.ts';
import { audioSampleEntry, visualSampleEntry, type SampleEntryWriter } from './fmp4/sample-entries.ts';
import { writeEsds } from './fmp4/esds.ts';
import { writeDOps, type OpusDecoderConfig } from './fmp4/dops.ts';
import { opusPacketSamples } from './opus-packet-duration.ts';

/** Each rendition is its own CMAF track file with one track (ISO/IEC 23000-19 §7.3.1). */
export const CMAF_TRACK_ID = 1;
const VIDEO_TIMESCALE = 90_000;

/** What the packager needs to know about a rendition, derived from its catalog entry. */
export interface CmafTrack {
  kind: 'video' | 'audio';
  timescale: number;
  /** RFC 6381 codec for the CODECS attribute, matching the sample entry written. */
  codecs: string;
  init: Uint8Array;
  /** Video: frames of lookahead to start DTS reconstruction with (0 when B-frames cannot occur). */
  reorderDepthHint: number;
  /** Audio: samples (in the timescale) in one packet. */
  frameSamples?: (packet: Uint8Array) => number | undefined;
}

export type CmafTrackResult =
  | { kind: 'ready'; track: CmafTrack }
  /** Parameter sets travel in-band only: describe again with the ones of the first keyframe (InBandParameterSets). */
  | { kind: 'needs-keyframe' }
  | { kind: 'unsupported'; reason: string };

/** Map a hang rendition to a CMAF track. */
export function describeCmafTrack(info: TrackInfo): CmafTrackResult {
  try {
    return info.kind === 'video' ? describeVideo(info) : describeAudio(info);
  } catch (error) {
    if (error instanceof MediaParseError) return { kind: 'unsupported', reason: error.message };
    throw error;
  }
}

function videoTrack(info: VideoTrackInfo, fourcc: string, codecs: string, config: Parameters<typeof visualSampleEntry>[3], reorderDepthHint: number): CmafTrackResult {
  const sampleEntry = visualSampleEntry(fourcc, info.codedWidth, info.codedHeight, config);
  const init = buildInitSegment({ trackId: CMAF_TRACK_ID, kind: 'video', timescale: VIDEO_TIMESCALE, width: info.codedWidth, height: info.codedHeight, sampleEntry });
  return { kind: 'ready', track: { kind: 'video', timescale: VIDEO_TIMESCALE, codecs, init, reorderDepthHint } };
}

function describeVideo(info: VideoTrackInfo): CmafTrackResult {
  const family = info.codec.slice(0, 4);
  if (family === 'avc1' || family === 'avc3') {
    const avcC = info.description;
    if (!avcC) return { kind: 'needs-keyframe' };
    // Constrained Baseline / Baseline (profile_idc 66) has no B slices: no lookahead needed.
    const reorder = parseAvcC(avcC).profile === 66 ? 0 : 2;
    // avc1: parameter sets out of band in avcC (ISO/IEC 14496-15 §5.4.2); in-band copies are harmless.
    return videoTrack(info, 'avc1', avcCodecString(avcC), { type: 'avcC', payload: avcC }, reorder);
  }
  if (family === 'hvc1' || family === 'hev1') {
    const hvcC = info.description;
    if (!hvcC) return { kind: 'needs-keyframe' };
    return videoTrack(info, 'hvc1', hevcCodecString(hvcC, 'hvc1'), { type: 'hvcC', payload: hvcC }, 2);
  }
  if (family === 'av01') {
    // AV1 in ISOBMFF (§2.3) needs av1C; WebCodecs makes it optional, so without it we pass.
    if (!info.description) return { kind: 'unsupported', reason: 'AV1 without an av1C description' };
    return videoTrack(info, 'av01', info.codec, { type: 'av1C', payload: info.description }, 0);
  }
  if (family === 'vp09') {
    return videoTrack(info, 'vp09', info.codec, { type: 'vpcC', payload: vpcCFromCodec(info.codec, info.description), fullBoxVersion: 1 }, 0);
  }
  return { kind: 'unsupported', reason: `video codec ${info.codec}` };
}

/**
 * vpcC record (VP Codec ISO Media File Format Binding §2.2, version 1) from the description
 * when there is one, else from the codec string `vp09.PP.LL.DD[.CC.cp.tc.mc.FF]`, whose
 * optional fields default to 4:2:0 BT.709 limited range (§3 "Codecs Parameter String").
 */
function vpcCFromCodec(codec: string, description: Uint8Array | undefined): Uint8Array {
  if (description) {
    const prefixed = description.length >= 12 && description[0] === 1 && description[1] === 0 && description[2] === 0 && description[3] === 0;
    return prefixed ? description.subarray(4) : description;
  }
  const fields = codec.split('.').slice(1).map((f) => Number.parseInt(f, 10));
  if (fields.length < 3 || fields.some((f) => !Number.isInteger(f))) throw new MediaParseError(`malformed VP9 codec string ${codec}`);
  const [profile, level, bitDepth, chroma = 1, primaries = 1, transfer = 1, matrix = 1, fullRange = 0] = fields as number[];
  return Uint8Array.of(profile!, level!, (bitDepth! << 4) | (chroma << 1) | (fullRange & 1), primaries, transfer, matrix, 0, 0);
}

function audioTrack(timescale: number, codecs: string, sampleEntry: SampleEntryWriter, frameSamples: CmafTrack['frameSamples']): CmafTrackResult {
  const init = buildInitSegment({ trackId: CMAF_TRACK_ID, kind: 'audio', timescale, sampleEntry });
  return { kind: 'ready', track: { kind: 'audio', timescale, codecs, init, reorderDepthHint: 0, frameSamples } };
}

function describeAudio(info: AudioTrackInfo): CmafTrackResult {
  if (info.codec.startsWith('mp4a.40')) {
    const asc = info.description ?? buildAudioSpecificConfig(Number(info.codec.split('.')[2] ?? 2) || 2, info.sampleRate, info.numberOfChannels);
    const config = parseAudioSpecificConfig(asc);
    // The timescale is the core sample rate: one raw AAC frame is 1024 of its samples, also
    // for HE-AAC whose SBR doubles the output rate (ISO/IEC 14496-3 §4.5.2.8).
    const channels = config.ps ? 2 : config.channels || info.numberOfChannels;
    const entry = audioSampleEntry('mp4a', channels, config.sampleRate, (w) => writeEsds(w, asc, { esId: CMAF_TRACK_ID, avgBitrate: info.bitrate }));
    const codecs = config.objectType === 2 ? 'mp4a.40.2' : `mp4a.40.${config.objectType}`;
    return audioTrack(config.sampleRate, codecs, entry, () => 1024);
  }
  if (info.codec === 'opus') {
    const opus = opusConfig(info);
    // Opus always decodes at 48 kHz (RFC 7845 §5.1: input rate is informational); the sample
    // entry says 48000 too ("Encapsulation of Opus in ISOBMFF" §4.3.1).
    const entry = audioSampleEntry('Opus', opus.channels, 48_000, (w) => writeDOps(w, opus));
    return audioTrack(48_000, 'opus', entry, opusPacketSamples);
  }
  return { kind: 'unsupported', reason: `audio codec ${info.codec}` };
}

function opusConfig(info: AudioTrackInfo): OpusDecoderConfig {
  if (info.description) {
    const head = parseOpusHead(info.description);
    return {
      channels: head.channels,
      preSkip: head.preSkip,
      inputSampleRate: head.inputSampleRate,
      outputGain: head.outputGain,
      mappingFamily: head.mappingFamily,
      ...(head.mapping ? { mapping: head.mapping } : {}),
    };
  }
  // WebRTC Opus comes without an OpusHead: mono or stereo, family 0, no pre-skip signalled.
  const channels = info.numberOfChannels || 2;
  if (channels > 2) throw new MediaParseError('Opus with more than 2 channels needs an OpusHead description');
  return { channels, preSkip: 0, inputSampleRate: info.sampleRate || 48_000, outputGain: 0, mappingFamily: 0 };
}
