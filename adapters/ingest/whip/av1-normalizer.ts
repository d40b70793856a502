import { av1CodecString } from '../../../src/media/av1.ts';
import type { VideoTrackInfo } from '../../../src/media/frame.ts';
import { bytesEqual } from '../../../src/media/nal.ts';
import { joinObus, ObuType, splitObus } from './av1-obu.ts';
import { buildAv1C, parseAv1SequenceHeader } from './av1-sequence-header.ts';
import type { FrameNormalizer, NormalizedFrame } from './frame-normalizer.ts';
import type { CodecFrame } from './rtp-frame-assembler.ts';

/** OBUs a sample does not carry (AV1 ISOBMFF binding §2.4: temporal delimiters; padding, tile lists). */
const DROPPED = new Set<number>([ObuType.TemporalDelimiter, ObuType.Padding, ObuType.TileList]);

/**
 * AV1 temporal units (AV1 RTP spec depacketized) → samples whose OBUs all carry sizes; the
 * in-band sequence header becomes the av1C description. A key frame is a temporal unit that
 * starts a coded video sequence (the RTP N bit) once a sequence header is known.
 */
export class Av1Normalizer implements FrameNormalizer {
  #info: VideoTrackInfo | undefined;
  /** A new description not yet handed out: a sequence header may come in a temporal unit of its own. */
  #pendingInfo: VideoTrackInfo | undefined;

  normalize(frame: CodecFrame): NormalizedFrame | undefined {
    const obus = splitObus(frame.data);
    const sequenceHeader = obus.find((o) => o.type === ObuType.SequenceHeader);
    if (sequenceHeader) {
      const header = parseAv1SequenceHeader(sequenceHeader.payload);
      const av1c = buildAv1C(header, sequenceHeader);
      if (!this.#info?.description || !bytesEqual(av1c, this.#info.description)) {
        this.#info = { kind: 'video', codec: av1CodecString(av1c), description: av1c, codedWidth: header.maxWidth, codedHeight: header.maxHeight };
        this.#pendingInfo = this.#info;
      }
    }
    const kept = obus.filter((o) => !DROPPED.has(o.type));
    if (!this.#info || kept.length === 0) return undefined;
    const keyframe = frame.keyframe && sequenceHeader !== undefined;
    const info = this.#pendingInfo;
    this.#pendingInfo = undefined;
    return { payload: joinObus(kept), keyframe, ...(info ? { info } : {}) };
  }
}
