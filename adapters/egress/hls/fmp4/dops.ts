import type { BoxWriter } from './box-writer.ts';

/** What `dOps` carries: the OpusHead fields (RFC 7845 §5.1) minus magic and version. */
export interface OpusDecoderConfig {
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  outputGain: number;
  mappingFamily: number;
  mapping?: { streamCount: number; coupledCount: number; mapping: number[] };
}

/**
 * OpusSpecificBox `dOps` ("Encapsulation of Opus in ISO Base Media File Format" §4.3.2). Same
 * fields as OpusHead but big-endian and with Version 0; mp4box has no writer for it.
 */
export function writeDOps(w: BoxWriter, config: OpusDecoderConfig): void {
  w.box('dOps', () => {
    w.u8(0); // Version
    w.u8(config.channels);
    w.u16(config.preSkip);
    w.u32(config.inputSampleRate);
    w.i16(config.outputGain);
    w.u8(config.mappingFamily);
    if (config.mappingFamily !== 0 && config.mapping) {
      w.u8(config.mapping.streamCount);
      w.u8(config.mapping.coupledCount);
      w.bytes(Uint8Array.from(config.mapping.mapping));
    }
  });
}
