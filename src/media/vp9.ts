import { MediaParseError } from './errors.ts';

/** VPCodecConfigurationRecord, VP Codec ISO Media File Format Binding 2.2 (vpcC version 1). */
export interface VpConfig {
  profile: number;
  level: number;
  bitDepth: number;
  chromaSubsampling: number;
  videoFullRange: boolean;
  colourPrimaries: number;
  transferCharacteristics: number;
  matrixCoefficients: number;
}

/**
 * Parse a vpcC payload, with or without its FullBox version/flags prefix (ffmpeg's E-RTMP
 * muxer writes the prefix). They are told apart by bytes 1..3: the bare record's third byte
 * holds bitDepth (8, 10 or 12) in its high nibble and so is never 0, while the prefix's flags are 0.
 */
export function parseVpcC(vpcc: Uint8Array): VpConfig {
  const hasPrefix = vpcc.length >= 12 && vpcc[0] === 1 && vpcc[1] === 0 && vpcc[2] === 0 && vpcc[3] === 0;
  const record = hasPrefix ? vpcc.subarray(4) : vpcc;
  if (record.length < 8) throw new MediaParseError('vpcC record shorter than 8 bytes');
  const config: VpConfig = {
    profile: record[0]!,
    level: record[1]!,
    bitDepth: record[2]! >>> 4,
    chromaSubsampling: (record[2]! >>> 1) & 7,
    videoFullRange: (record[2]! & 1) === 1,
    colourPrimaries: record[3]!,
    transferCharacteristics: record[4]!,
    matrixCoefficients: record[5]!,
  };
  const initDataSize = (record[6]! << 8) | record[7]!;
  if (initDataSize > record.length - 8) throw new MediaParseError('vpcC codecInitializationData overruns record');
  if (config.bitDepth !== 8 && config.bitDepth !== 10 && config.bitDepth !== 12) {
    throw new MediaParseError(`vpcC bit depth ${config.bitDepth} invalid`);
  }
  return config;
}

/** Codecs parameter string, short form `vp09.PP.LL.DD` (two-digit decimals), e.g. `vp09.00.10.08`. */
export function vp9CodecString(vpcc: Uint8Array): string {
  const c = parseVpcC(vpcc);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `vp09.${two(c.profile)}.${two(c.level)}.${two(c.bitDepth)}`;
}
