import type { BoxWriter } from './box-writer.ts';

/** MPEG-4 Systems descriptor tags (ISO/IEC 14496-1 §7.2.2.1). */
const ES_DESCRIPTOR = 0x03;
const DECODER_CONFIG_DESCRIPTOR = 0x04;
const DECODER_SPECIFIC_INFO = 0x05;
const SL_CONFIG_DESCRIPTOR = 0x06;
/** objectTypeIndication for Audio ISO/IEC 14496-3 (AAC), streamType 0x05 = AudioStream. */
const OBJECT_TYPE_AAC = 0x40;
const STREAM_TYPE_AUDIO = 0x05;

/** Descriptor sizes use the expandable 7-bits-per-byte form (14496-1 §8.3.3). */
function sizeBytes(size: number): number[] {
  const out = [size & 0x7f];
  for (let rest = size >>> 7; rest > 0; rest >>>= 7) out.unshift(0x80 | (rest & 0x7f));
  return out;
}

function descriptor(tag: number, body: number[]): number[] {
  return [tag, ...sizeBytes(body.length), ...body];
}

/**
 * The `esds` box of an `mp4a` sample entry (ISO/IEC 14496-14 §5.6): an ES_Descriptor whose
 * DecoderSpecificInfo is the AudioSpecificConfig. mp4box has no writer for it.
 */
export function writeEsds(w: BoxWriter, audioSpecificConfig: Uint8Array, options: { esId?: number; avgBitrate?: number } = {}): void {
  const bitrate = Math.max(0, Math.round(options.avgBitrate ?? 0));
  const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  const decoderConfig = descriptor(DECODER_CONFIG_DESCRIPTOR, [
    OBJECT_TYPE_AAC,
    (STREAM_TYPE_AUDIO << 2) | 1, // upStream 0, reserved 1
    0, 0, 0, // bufferSizeDB
    ...u32(bitrate), // maxBitrate
    ...u32(bitrate), // avgBitrate
    ...descriptor(DECODER_SPECIFIC_INFO, [...audioSpecificConfig]),
  ]);
  const esId = options.esId ?? 0;
  const es = descriptor(ES_DESCRIPTOR, [
    (esId >>> 8) & 0xff,
    esId & 0xff,
    0, // no stream dependence, URL or OCR stream; priority 0
    ...decoderConfig,
    ...descriptor(SL_CONFIG_DESCRIPTOR, [0x02]), // predefined: reserved for MP4 files
  ]);
  w.fullBox('esds', 0, 0, () => w.bytes(Uint8Array.from(es)));
}
