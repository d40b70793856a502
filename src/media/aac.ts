import { BitReader, BitWriter } from './bits.ts';
import { MediaParseError } from './errors.ts';

/** samplingFrequencyIndex table, ISO/IEC 14496-3 1.6.3.4 (indices 13, 14 reserved, 15 explicit). */
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Object types whose AudioSpecificConfig carries a GASpecificConfig (14496-3 1.6.2.1). */
const GA_OBJECT_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);
/** Core object types that explicit SBR (5) and PS (29) signalling may name (14496-3 1.6.5.1). */
const SBR_CORE_OBJECT_TYPES = new Set([2, 22]);
/** syncExtensionType values of backward-compatible (implicit) signalling, 14496-3 1.6.6.2. */
const SYNC_EXTENSION_SBR = 0x2b7;
const SYNC_EXTENSION_PS = 0x548;

export interface AudioSpecificConfig {
  /** audioObjectType as signalled first: 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS (HE-AACv2). */
  objectType: number;
  /** The core's sampling frequency: one raw frame is 1024 samples at this rate. */
  sampleRate: number;
  /** Channels of the core stream (PS decodes a mono core to stereo: see `ps`). */
  channels: number;
  channelConfiguration: number;
  /** For explicit SBR/PS signalling (objectType 5 or 29): the core object type. */
  coreObjectType?: number;
  /** With SBR present (explicit or implicit): the output sampling frequency. */
  extensionSampleRate?: number;
  /** SBR / PS present, from explicit or backward-compatible (implicit) signalling. */
  sbr?: boolean;
  ps?: boolean;
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

/**
 * program_config_element, 14496-3 4.4.1.1, read whole (the implicit SBR signalling after it
 * can only be found past its comment field). Returns the channel count.
 */
function readProgramConfigElement(r: BitReader): number {
  r.skipBits(4 + 2 + 4); // element_instance_tag, object_type, sampling_frequency_index
  const front = r.readBits(4);
  const side = r.readBits(4);
  const back = r.readBits(4);
  const lfe = r.readBits(2);
  const assoc = r.readBits(3);
  const cc = r.readBits(4);
  if (r.readFlag()) r.skipBits(4); // mono_mixdown
  if (r.readFlag()) r.skipBits(4); // stereo_mixdown
  if (r.readFlag()) r.skipBits(3); // matrix_mixdown
  let channels = lfe;
  for (let i = 0; i < front + side + back; i++) {
    channels += r.readFlag() ? 2 : 1; // is_cpe: a channel pair element
    r.skipBits(4);
  }
  r.skipBits(lfe * 4 + assoc * 4 + cc * 5);
  r.byteAlign(); // relative to the start of the AudioSpecificConfig, as decoders read it
  r.skipBytes(r.readBits(8)); // comment_field_bytes
  if (channels === 0) throw new MediaParseError('program_config_element has no channels');
  return channels;
}

/** GASpecificConfig, 14496-3 4.4.1; returns the channel count. */
function readGaSpecificConfig(r: BitReader, channelConfiguration: number, objectType: number): number {
  r.skipBits(1); // frameLengthFlag
  if (r.readFlag()) r.skipBits(14); // dependsOnCoreCoder: coreCoderDelay
  const extensionFlag = r.readFlag();
  const channels = channelConfiguration === 0 ? readProgramConfigElement(r) : channelsOf(channelConfiguration);
  if (objectType === 6 || objectType === 20) r.skipBits(3); // layerNr
  if (extensionFlag) {
    if (objectType === 22) r.skipBits(5 + 11); // numOfSubFrame, layer_length
    if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) r.skipBits(3); // resilience flags
    r.skipBits(1); // extensionFlag3
  }
  return channels;
}

/** Parse an AudioSpecificConfig, ISO/IEC 14496-3 1.6.2.1, including implicit SBR/PS (1.6.6.2). */
export function parseAudioSpecificConfig(asc: Uint8Array): AudioSpecificConfig {
  const r = new BitReader(asc);
  const objectType = readObjectType(r);
  if (objectType === 0) throw new MediaParseError('AudioSpecificConfig object type 0');
  const sampleRate = readSampleRate(r);
  const channelConfiguration = r.readBits(4);
  const config: AudioSpecificConfig = { objectType, sampleRate, channels: 0, channelConfiguration };
  let coreObjectType = objectType;
  const explicit = objectType === 5 || objectType === 29;
  if (explicit) {
    config.extensionSampleRate = readSampleRate(r);
    coreObjectType = readObjectType(r);
    config.coreObjectType = coreObjectType;
    if (!SBR_CORE_OBJECT_TYPES.has(coreObjectType) || (objectType === 29 && coreObjectType !== 2)) {
      throw new MediaParseError(`object type ${objectType} (SBR${objectType === 29 ? '+PS' : ''}) over core object type ${coreObjectType}, which cannot carry it`);
    }
    if (config.extensionSampleRate < sampleRate) {
      throw new MediaParseError(`SBR output rate ${config.extensionSampleRate} Hz below its core rate ${sampleRate} Hz`);
    }
    if (coreObjectType === 22) r.skipBits(4); // extensionChannelConfiguration
    config.sbr = true;
    if (objectType === 29) config.ps = true;
  }
  if (!GA_OBJECT_TYPES.has(coreObjectType)) {
    if (channelConfiguration === 0) throw new MediaParseError(`channelConfiguration 0 unsupported for object type ${coreObjectType}`);
    config.channels = channelsOf(channelConfiguration);
    return config;
  }
  config.channels = readGaSpecificConfig(r, channelConfiguration, coreObjectType);
  if (!explicit && r.bitsLeft >= 16) readImplicitSignalling(r, config);
  return config;
}

/**
 * Backward-compatible SBR/PS signalling after the core config (14496-3 1.6.6.2). Decoders skip
 * a truncated or unknown extension rather than fail, and so does this.
 */
function readImplicitSignalling(r: BitReader, config: AudioSpecificConfig): void {
  try {
    if (r.readBits(11) !== SYNC_EXTENSION_SBR || readObjectType(r) !== 5) return;
    const sbr = r.readFlag();
    if (!sbr) {
      config.sbr = false;
      return;
    }
    const extensionSampleRate = readSampleRate(r);
    Object.assign(config, { sbr, extensionSampleRate });
    if (r.bitsLeft >= 12 && r.readBits(11) === SYNC_EXTENSION_PS) config.ps = r.readFlag();
  } catch (error) {
    if (!(error instanceof MediaParseError)) throw error;
  }
}

/**
 * ffmpeg's native AAC encoder, asked for `-profile:a aac_he`, encodes AAC-LC but writes object
 * type 5 into an AAC-LC layout (no extension rate or core type): `2a 08 56 e5 00` for 44.1 kHz
 * mono, which no decoder can read ("Audio object type SBR+21"). When the explicit SBR fields do
 * not parse but the same bits read as AAC-LC, the stream is AAC-LC: return that config and a
 * reason to log. Any other config is returned unchanged (or throws as the parser does).
 */
export function repairAudioSpecificConfig(asc: Uint8Array): { config: Uint8Array; repaired?: string } {
  try {
    parseAudioSpecificConfig(asc);
    return { config: asc };
  } catch (error) {
    const objectType = asc.length > 0 ? asc[0]! >>> 3 : 0;
    if (!(error instanceof MediaParseError) || (objectType !== 5 && objectType !== 29)) throw error;
    const lc = asc.slice();
    lc[0] = (2 << 3) | (lc[0]! & 0x07);
    try {
      const parsed = parseAudioSpecificConfig(lc);
      if (parsed.sbr) throw error; // claims SBR both ways: not the known encoder mistake
    } catch {
      throw error;
    }
    return { config: lc, repaired: `object type ${objectType} written in the AAC-LC layout (${error.message}); read as AAC-LC` };
  }
}

function writeObjectType(w: BitWriter, objectType: number): void {
  if (objectType >= 31) {
    w.writeBits(31, 5);
    w.writeBits(objectType - 32, 6);
  } else {
    w.writeBits(objectType, 5);
  }
}

function writeSampleRate(w: BitWriter, sampleRate: number): void {
  const index = SAMPLE_RATES.indexOf(sampleRate);
  if (index >= 0) {
    w.writeBits(index, 4);
  } else {
    w.writeBits(15, 4);
    w.writeBits(sampleRate, 24);
  }
}

/**
 * Minimal AudioSpecificConfig: object type (escaped past 30), frequency index or explicit rate,
 * channel configuration, and a GASpecificConfig of three zero flags. 44.1 kHz stereo AAC-LC is
 * `12 10`. Channel counts without a channelConfiguration (7, > 8) need a PCE and are rejected.
 * For HE-AAC (5) and HE-AACv2 (29), `sampleRate` and `channels` are the decoder's output, as a
 * codec string and a catalog give them: the config signals SBR explicitly (14496-3 1.6.5.1) over
 * an AAC-LC core at half the rate (when that is a whole number of Hz), mono under PS.
 */
export function buildAudioSpecificConfig(objectType: number, sampleRate: number, channels: number): Uint8Array {
  if (!Number.isInteger(objectType) || objectType < 1 || objectType > 95) throw new MediaParseError(`invalid AAC object type ${objectType}`);
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffff) throw new MediaParseError(`invalid sample rate ${sampleRate}`);
  const sbr = objectType === 5 || objectType === 29;
  const coreChannels = objectType === 29 ? 1 : channels;
  if (objectType === 29 && channels !== 2) throw new MediaParseError(`HE-AACv2 (PS) decodes to 2 channels, not ${channels}`);
  const configuration = coreChannels >= 1 && coreChannels <= 6 ? coreChannels : coreChannels === 8 ? 7 : -1;
  if (configuration < 0 || !Number.isInteger(channels)) throw new MediaParseError(`no channelConfiguration for ${channels} channels`);
  const w = new BitWriter();
  writeObjectType(w, objectType);
  writeSampleRate(w, sbr && sampleRate % 2 === 0 ? sampleRate / 2 : sampleRate);
  w.writeBits(configuration, 4);
  if (sbr) {
    writeSampleRate(w, sampleRate);
    writeObjectType(w, 2);
  }
  w.writeBits(0, 3); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
  return w.toBytes();
}

/** RFC 6381 codec string for MP4 audio: the object type signalled first (`mp4a.40.2` for AAC-LC). */
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

/**
 * An ADTS header (7 bytes, no CRC) for one raw AAC frame of `payloadLength` bytes, 14496-3
 * 1.A.2.2. ADTS carries a 2-bit profile, a frequency index and a channel configuration only:
 * HE-AAC goes as its AAC-LC core (decoders find SBR/PS in the payload, as with implicit
 * signalling), and configs needing an explicit rate or a PCE are refused.
 */
export function buildAdtsHeader(config: AudioSpecificConfig, payloadLength: number): Uint8Array {
  const core = config.coreObjectType ?? config.objectType;
  if (core < 1 || core > 4) throw new MediaParseError(`object type ${core} cannot be carried in ADTS`);
  const index = SAMPLE_RATES.indexOf(config.sampleRate);
  if (index < 0) throw new MediaParseError(`ADTS has no frequency index for ${config.sampleRate} Hz`);
  if (config.channelConfiguration < 1 || config.channelConfiguration > 7) throw new MediaParseError('ADTS needs a channelConfiguration (a PCE layout is not supported)');
  const frameLength = 7 + payloadLength;
  if (frameLength > 0x1fff) throw new MediaParseError(`AAC frame of ${payloadLength} bytes too long for ADTS`);
  const profile = core - 1;
  const ch = config.channelConfiguration;
  return Uint8Array.of(
    0xff,
    0xf1, // syncword, MPEG-4, layer 0, protection_absent
    (profile << 6) | (index << 2) | (ch >>> 2),
    ((ch & 3) << 6) | (frameLength >>> 11),
    (frameLength >>> 3) & 0xff,
    ((frameLength & 7) << 5) | 0x1f, // adts_buffer_fullness 0x7ff: variable rate
    0xfc, // rest of the fullness, one raw_data_block
  );
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
