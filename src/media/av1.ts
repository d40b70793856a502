import { MediaParseError } from './errors.ts';

/** AV1CodecConfigurationRecord, AV1 Codec ISOBMFF Binding 2.3.3. */
export interface Av1Config {
  seqProfile: number;
  seqLevelIdx0: number;
  seqTier0: number;
  highBitdepth: boolean;
  twelveBit: boolean;
  monochrome: boolean;
  chromaSubsamplingX: boolean;
  chromaSubsamplingY: boolean;
  chromaSamplePosition: number;
  initialPresentationDelayMinusOne?: number;
  /** Sequence header and metadata OBUs (a copy). */
  configObus: Uint8Array;
}

export function parseAv1C(av1c: Uint8Array): Av1Config {
  if (av1c.length < 4) throw new MediaParseError('av1C shorter than 4 bytes');
  const [b0, b1, b2, b3] = [av1c[0]!, av1c[1]!, av1c[2]!, av1c[3]!];
  if (b0 !== 0x81) throw new MediaParseError('av1C marker/version is not 1/1');
  const config: Av1Config = {
    seqProfile: b1 >>> 5,
    seqLevelIdx0: b1 & 0x1f,
    seqTier0: b2 >>> 7,
    highBitdepth: (b2 & 0x40) !== 0,
    twelveBit: (b2 & 0x20) !== 0,
    monochrome: (b2 & 0x10) !== 0,
    chromaSubsamplingX: (b2 & 0x08) !== 0,
    chromaSubsamplingY: (b2 & 0x04) !== 0,
    chromaSamplePosition: b2 & 0x03,
    configObus: av1c.slice(4),
  };
  if (b3 & 0x10) config.initialPresentationDelayMinusOne = b3 & 0x0f;
  return config;
}

function av1BitDepth(config: Av1Config): number {
  return config.highBitdepth ? (config.twelveBit ? 12 : 10) : 8;
}

/**
 * Codecs parameter string, AV1 Codec ISOBMFF Binding "Codecs Parameter String", short form:
 * `av01.<profile>.<level, 2 digits><tier M|H>.<bit depth, 2 digits>`, e.g. `av01.0.08M.08`.
 * The optional colour fields must all be present or all absent; they live in the sequence
 * header OBU, not in av1C's fixed bytes, so they are left out.
 */
export function av1CodecString(av1c: Uint8Array): string {
  const c = parseAv1C(av1c);
  const level = String(c.seqLevelIdx0).padStart(2, '0');
  return `av01.${c.seqProfile}.${level}${c.seqTier0 ? 'H' : 'M'}.${String(av1BitDepth(c)).padStart(2, '0')}`;
}
