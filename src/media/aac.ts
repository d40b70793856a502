import { BitReader, BitWriter } from './bits.ts';
import { MediaParseError } from './errors.ts';

/** samplingFrequencyIndex table, ISO/IEC 14496-3 1.6.3.4 (indices 13, 14 reserved, 15 explicit). */
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Object types whose GASpecificConfig may carry a program_config_element (14496-3 4.4.1). */
const GA_OBJECT_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);

export interface AudioSpecificConfig {
  /** audioObjectType as signalled first: 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS (HE-AACv2). */
  objectType: number;
  sampleRate: number;
  channels: number;
  channelConfiguration: number;
  /** For explicit SBR/PS signalling (objectType 5 or 29): the core object type and output rate. */
  coreObjectType?: number;
  extensionSampleRate?: number;
}

function readObjectType(r: BitReader): number {
  const type = r.readBits(5);
  return type === 31 ? 32 + r.readBits(6) : type;
}

function readSampleRate(r: BitReader): number {
  const index = r.readBits(4);
  if (index === 15) {
    const rate = r.readBits(24);
    if (rate === 0) throw new MediaParseError('AudioSpecificConfig sample rate 0');
    return rate;
  }
  const rate = SAMPLE_RATES[index];
  if (rate === undefined) throw new MediaParseError(`reserved samplingFrequencyIndex ${index}`);
  return rate;
}

/** channelConfiguration -> channel count, 14496-3 Table 1.19 (7 is 7.1, 8 channels). */
function channelsOf(configuration: number): number {
  if (configuration >= 1 && configuration <= 6) return configuration;
  if (configuration === 7) return 8;
  throw new MediaParseError(`unsupported channelConfiguration ${configuration}`);
}

/** Channel count from a program_config_element, 14496-3 4.4.1.1 (only as far as needed). */
function pceChannels(r: BitReader): number {
  r.skipBits(4 + 2 + 4); // element_instance_tag, object_type, sampling_frequency_index
  const front = r.readBits(4);
  const side = r.readBits(4);
  const back = r.readBits(4);
  const lfe = r.readBits(2);
  r.skipBits(3 + 4); // num_assoc_data_elements, num_valid_cc_elements
  if (r.readFlag()) r.skipBits(4); // mono_mixdown
  if (r.readFlag()) r.skipBits(4); // stereo_mixdown
  if (r.readFlag()) r.skipBits(3); // matrix_mixdown
  let channels = lfe;
  for (let i = 0; i < front + side + back; i++) {
    channels += r.readFlag() ? 2 : 1; // is_cpe: a channel pair element
    r.skipBits(4);
  }
  if (channels === 0) throw new MediaParseError('program_config_element has no channels');
  return channels;
}

/** Parse an AudioSpecificConfig, ISO/IEC 14496-3 1.6.2.1. */
export function parseAudioSpecificConfig(asc: Uint8Array): AudioSpecificConfig {
  const r = new BitReader(asc);
  const objectType = readObjectType(r);
  if (objectType === 0) throw new MediaParseError('AudioSpecificConfig object type 0');
  const sampleRate = readSampleRate(r);
  const channelConfiguration = r.readBits(4);
  const config: AudioSpecificConfig = { objectType, sampleRate, channels: 0, channelConfiguration };
  let coreObjectType = objectType;
  if (objectType === 5 || objectType === 29) {
    config.extensionSampleRate = readSampleRate(r);
    coreObjectType = readObjectType(r);
    config.coreObjectType = coreObjectType;
  }
  if (channelConfiguration !== 0) {
    config.channels = channelsOf(channelConfiguration);
  } else if (GA_OBJECT_TYPES.has(coreObjectType)) {
    r.skipBits(1); // frameLengthFlag
    if (r.readFlag()) r.skipBits(14); // dependsOnCoreCoder: coreCoderDelay
    r.skipBits(1); // extensionFlag
    config.channels = pceChannels(r);
  } else {
    throw new MediaParseError(`channelConfiguration 0 unsupported for object type ${coreObjectType}`);
  }
  return config;
}

/**
 * Minimal AudioSpecificConfig: object type (escaped past 30), frequency index or explicit rate,
 * channel configuration, and a GASpecificConfig of three zero flags. 44.1 kHz stereo AAC-LC is
 * `12 10`. Channel counts without a channelConfiguration (7, > 8) need a PCE and are rejected.
 */
export function buildAudioSpecificConfig(objectType: number, sampleRate: number, channels: number): Uint8Array {
  if (!Number.isInteger(objectType) || objectType < 1 || objectType > 95) throw new MediaParseError(`invalid AAC object type ${objectType}`);
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffff) throw new MediaParseError(`invalid sample rate ${sampleRate}`);
  const configuration = channels >= 1 && channels <= 6 ? channels : channels === 8 ? 7 : -1;
  if (configuration < 0 || !Number.isInteger(channels)) throw new MediaParseError(`no channelConfiguration for ${channels} channels`);
  const w = new BitWriter();
  if (objectType >= 31) {
    w.writeBits(31, 5);
    w.writeBits(objectType - 32, 6);
  } else {
    w.writeBits(objectType, 5);
  }
  const index = SAMPLE_RATES.indexOf(sampleRate);
  if (index >= 0) {
    w.writeBits(index, 4);
  } else {
    w.writeBits(15, 4);
    w.writeBits(sampleRate, 24);
  }
  w.writeBits(configuration, 4);
  w.writeBits(0, 3); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
  return w.toBytes();
}

/** RFC 6381 codec string for MP4 audio (`mp4a.40.2` for AAC-LC). */
export function aacCodecString(asc: Uint8Array): string {
  return `mp4a.40.${parseAudioSpecificConfig(asc).objectType}`;
}

export interface AdtsHeader {
  /** 7, or 9 with CRC. */
  headerLength: number;
  /** Whole frame including the header. */
  frameLength: number;
  objectType: number;
  sampleRate: number;
  channels: number;
  /** raw_data_blocks in this frame (usually 1: 1024 samples). */
  rawDataBlocks: number;
  /** The equivalent AudioSpecificConfig. */
  config: Uint8Array;
}

/** Parse the fixed + variable ADTS header at the start of `data`, ISO/IEC 14496-3 1.A.2.2. */
export function parseAdtsHeader(data: Uint8Array): AdtsHeader {
  const r = new BitReader(data);
  if (r.readBits(12) !== 0xfff) throw new MediaParseError('missing ADTS syncword');
  r.skipBits(1); // ID: MPEG-4 or MPEG-2, same layout
  if (r.readBits(2) !== 0) throw new MediaParseError('ADTS layer must be 0');
  const protectionAbsent = r.readFlag();
  const objectType = r.readBits(2) + 1;
  const index = r.readBits(4);
  const sampleRate = SAMPLE_RATES[index];
  if (sampleRate === undefined) throw new MediaParseError(`reserved ADTS sampling_frequency_index ${index}`);
  r.skipBits(1); // private_bit
  const channelConfiguration = r.readBits(3);
  if (channelConfiguration === 0) throw new MediaParseError('ADTS with in-band PCE channel layout is unsupported');
  r.skipBits(4); // original_copy, home, copyright bits
  const frameLength = r.readBits(13);
  r.skipBits(11); // adts_buffer_fullness
  const rawDataBlocks = r.readBits(2) + 1;
  const headerLength = protectionAbsent ? 7 : 9;
  if (frameLength < headerLength) throw new MediaParseError(`ADTS frame length ${frameLength} shorter than its header`);
  const channels = channelsOf(channelConfiguration);
  return {
    headerLength,
    frameLength,
    objectType,
    sampleRate,
    channels,
    rawDataBlocks,
    config: buildAudioSpecificConfig(objectType, sampleRate, channels),
  };
}

/** Split an ADTS stream into headers and raw AAC payloads (views); a truncated frame throws. */
export function splitAdts(data: Uint8Array): { header: AdtsHeader; payload: Uint8Array }[] {
  const frames: { header: AdtsHeader; payload: Uint8Array }[] = [];
  let pos = 0;
  while (pos < data.length) {
    const header = parseAdtsHeader(data.subarray(pos));
    if (header.frameLength > data.length - pos) throw new MediaParseError('truncated ADTS frame');
    frames.push({ header, payload: data.subarray(pos + header.headerLength, pos + header.frameLength) });
    pos += header.frameLength;
  }
  return frames;
}
