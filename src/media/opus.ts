import { MediaParseError } from './errors.ts';

const MAGIC = [0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]; // "OpusHead"

/** Channel mapping table for families other than 0, RFC 7845 5.1.1. */
export interface OpusChannelMapping {
  family: number;
  streamCount: number;
  coupledCount: number;
  /** One entry per output channel: decoded channel index, or 255 for silence. */
  mapping: number[];
}

export interface OpusHead {
  version: number;
  channels: number;
  preSkip: number;
  /** Informational only: Opus always decodes at 48 kHz. */
  inputSampleRate: number;
  /** Q7.8 dB. */
  outputGain: number;
  mappingFamily: number;
  /** Present when mappingFamily is not 0. */
  mapping?: OpusChannelMapping;
}

/**
 * Identification header, RFC 7845 5.1 (all fields little-endian). Family 0 (mono/stereo) unless a
 * mapping is given: for more channels only the encoder knows its stream layout.
 */
export function buildOpusHead(channels: number, sampleRate: number, preSkip = 0, mapping?: OpusChannelMapping): Uint8Array {
  if (!Number.isInteger(channels) || channels < 1 || channels > 255) throw new MediaParseError(`invalid Opus channel count ${channels}`);
  if (!mapping && channels > 2) throw new MediaParseError('Opus with more than 2 channels needs a channel mapping');
  if (mapping && mapping.mapping.length !== channels) throw new MediaParseError('Opus channel mapping length differs from channel count');
  const isByte = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 255;
  if (mapping && !(mapping.family > 0 && [mapping.family, mapping.streamCount, mapping.coupledCount, ...mapping.mapping].every(isByte))) {
    throw new MediaParseError('invalid Opus channel mapping');
  }
  if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) throw new MediaParseError(`invalid Opus pre-skip ${preSkip}`);
  if (!Number.isInteger(sampleRate) || sampleRate < 0 || sampleRate > 0xffffffff) throw new MediaParseError(`invalid sample rate ${sampleRate}`);
  const out = new Uint8Array(19 + (mapping ? 2 + channels : 0));
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[8] = 1;
  out[9] = channels;
  view.setUint16(10, preSkip, true);
  view.setUint32(12, sampleRate, true);
  view.setInt16(16, 0, true);
  out[18] = mapping ? mapping.family : 0;
  if (mapping) {
    out[19] = mapping.streamCount;
    out[20] = mapping.coupledCount;
    out.set(mapping.mapping, 21);
  }
  parseOpusHead(out); // stream counts and mapping indices must agree
  return out;
}

export function parseOpusHead(head: Uint8Array): OpusHead {
  if (head.length < 19 || MAGIC.some((b, i) => head[i] !== b)) throw new MediaParseError('not an OpusHead');
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = head[8]!;
  // RFC 7845 5.1: versions 0..15 share this layout; a new major version is incompatible.
  if (version > 15) throw new MediaParseError(`unsupported OpusHead version ${version}`);
  const channels = head[9]!;
  if (channels === 0) throw new MediaParseError('OpusHead with 0 channels');
  const result: OpusHead = {
    version,
    channels,
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
    outputGain: view.getInt16(16, true),
    mappingFamily: head[18]!,
  };
  if (result.mappingFamily === 0) {
    if (channels > 2) throw new MediaParseError('OpusHead family 0 allows at most 2 channels');
    return result;
  }
  if (head.length < 21 + channels) throw new MediaParseError('OpusHead channel mapping table truncated');
  const streamCount = head[19]!;
  const coupledCount = head[20]!;
  if (streamCount === 0 || coupledCount > streamCount || streamCount + coupledCount > 255) {
    throw new MediaParseError('invalid OpusHead stream counts');
  }
  const mapping = Array.from(head.subarray(21, 21 + channels));
  if (mapping.some((m) => m !== 255 && m >= streamCount + coupledCount)) throw new MediaParseError('OpusHead mapping index out of range');
  result.mapping = { family: result.mappingFamily, streamCount, coupledCount, mapping };
  return result;
}
