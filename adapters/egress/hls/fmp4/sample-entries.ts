import type { BoxWriter } from './box-writer.ts';

/** Writes one entry of `stsd` (ISO/IEC 14496-12 §8.5.2), sample-entry box included. */
export type SampleEntryWriter = (w: BoxWriter) => void;

/** A codec configuration box inside a sample entry, e.g. avcC (14496-15 §5.4.2.1). */
export interface CodecConfigBox {
  type: string;
  payload: Uint8Array;
  /** vpcC is a FullBox (version 1); avcC, hvcC and av1C are plain boxes. */
  fullBoxVersion?: number;
}

/** SampleEntry's common head (§8.5.2.2): six reserved bytes and data_reference_index 1. */
function writeSampleEntryHead(w: BoxWriter): void {
  w.zeros(6);
  w.u16(1);
}

/** VisualSampleEntry (§12.1.3) with its codec configuration box. */
export function visualSampleEntry(fourcc: string, width: number, height: number, config: CodecConfigBox): SampleEntryWriter {
  return (w) =>
    w.box(fourcc, () => {
      writeSampleEntryHead(w);
      w.u16(0); // pre_defined
      w.u16(0); // reserved
      w.zeros(12); // pre_defined[3]
      w.u16(width);
      w.u16(height);
      w.u32(0x00480000); // 72 dpi
      w.u32(0x00480000);
      w.u32(0); // reserved
      w.u16(1); // frame_count
      w.zeros(32); // compressorname
      w.u16(0x0018); // depth
      w.i16(-1); // pre_defined
      if (config.fullBoxVersion === undefined) w.box(config.type, () => w.bytes(config.payload));
      else w.fullBox(config.type, config.fullBoxVersion, 0, () => w.bytes(config.payload));
    });
}

/**
 * AudioSampleEntry (§12.2.3). `samplerate` is 16.16 fixed point, so rates above 65535 Hz are
 * written as 0 there; the decoder configuration carries the real rate.
 */
export function audioSampleEntry(fourcc: string, channels: number, sampleRate: number, writeConfig: (w: BoxWriter) => void): SampleEntryWriter {
  return (w) =>
    w.box(fourcc, () => {
      writeSampleEntryHead(w);
      w.zeros(8); // reserved[2]
      w.u16(channels);
      w.u16(16); // samplesize
      w.u16(0); // pre_defined
      w.u16(0); // reserved
      w.u32(sampleRate <= 0xffff ? sampleRate * 0x10000 : 0);
      writeConfig(w);
    });
}
