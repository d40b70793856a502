import { avcCodecString, buildAvcC, extractParameterSets, H264NalType, parseSps } from '../../../src/media/h264.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import type { VideoTrackInfo } from '../../../src/media/frame.ts';
import { bytesEqual, joinLengthPrefixed, splitAnnexB } from '../../../src/media/nal.ts';
import type { FrameNormalizer, NormalizedFrame } from './frame-normalizer.ts';
import type { CodecFrame } from './rtp-frame-assembler.ts';

/** NAL units that belong in the avcC (or nowhere), not in an AVCC sample. */
const OUT_OF_BAND = new Set<number>([H264NalType.Sps, H264NalType.Pps, H264NalType.AccessUnitDelimiter, H264NalType.Filler]);

/**
 * H.264 access units from RTP (RFC 6184; werift writes them Annex B) → AVCC samples. Senders
 * repeat SPS/PPS in-band before IDRs (RFC 6184 §8.4); they become the avcC description, and a
 * changed set (resolution switch) declares the track again.
 *
 * A new description takes effect at an IDR, never mid-GOP: the frames after parameter sets
 * that came without an IDR are dropped (undefined: the ingest asks for a key frame with a PLI)
 * until one arrives, so the description handed out with a frame always matches it and the
 * group it opens.
 *
 * Every IDR sample keeps the parameter sets in-band as well (AVCC, ahead of the slices), so
 * each group describes itself whatever catalog a decoder was configured from: @moq/watch
 * replays the groups it cached (up to 5 s) into a decoder configured from a newer catalog, and
 * feeds a new group to the decoder of the older one until it switches. ISO/IEC 14496-15 lets
 * an `avc1` stream repeat parameter sets in its samples; LOC §"Parameter Sets In Payload" and
 * Shaka's LOC transmuxer expect them there too.
 */
export class H264Normalizer implements FrameNormalizer {
  #sps: Uint8Array[] = [];
  #pps: Uint8Array[] = [];
  #info: VideoTrackInfo | undefined;
  /** A new description not yet handed out: it waits for the IDR that starts using it. */
  #pendingInfo: VideoTrackInfo | undefined;

  normalize(frame: CodecFrame): NormalizedFrame | undefined {
    const nalus = splitAnnexB(frame.data);
    if (nalus.length === 0) throw new MediaParseError('H.264 access unit without NAL units');
    for (const nalu of nalus) {
      if (nalu[0]! & 0x80) throw new MediaParseError('H.264 NAL unit with forbidden_zero_bit set');
    }
    const sets = extractParameterSets(nalus);
    if (sets.sps.length > 0 || sets.pps.length > 0) this.#pendingInfo = this.#update(sets.sps, sets.pps) ?? this.#pendingInfo;
    const sample = nalus.filter((n) => !OUT_OF_BAND.has(n[0]! & 0x1f));
    if (!this.#info || sample.length === 0) return undefined;
    const keyframe = sample.some((n) => (n[0]! & 0x1f) === H264NalType.Idr);
    // New parameter sets without an IDR: what follows cannot be decoded with the old ones.
    if (this.#pendingInfo && !keyframe) return undefined;
    const info = this.#pendingInfo;
    this.#pendingInfo = undefined;
    const payload = joinLengthPrefixed(keyframe ? [...this.#sps, ...this.#pps, ...sample] : sample);
    return { payload, keyframe, ...(info ? { info } : {}) };
  }

  /** New in-band parameter sets: a new description when they differ from the current ones. */
  #update(sps: Uint8Array[], pps: Uint8Array[]): VideoTrackInfo | undefined {
    const nextSps = sps.length > 0 ? sps.map((s) => s.slice()) : this.#sps;
    const nextPps = pps.length > 0 ? pps.map((p) => p.slice()) : this.#pps;
    if (sameSets(nextSps, this.#sps) && sameSets(nextPps, this.#pps)) return undefined;
    if (nextSps.length === 0 || nextPps.length === 0) {
      this.#sps = nextSps; // wait for the other half
      this.#pps = nextPps;
      return undefined;
    }
    // Parse before committing: a bad set is rejected again next time, not silently kept.
    const description = buildAvcC(nextSps, nextPps);
    const { width, height } = parseSps(nextSps[0]!);
    this.#sps = nextSps;
    this.#pps = nextPps;
    this.#info = { kind: 'video', codec: avcCodecString(description), description, codedWidth: width, codedHeight: height };
    return this.#info;
  }
}

function sameSets(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => bytesEqual(x, b[i]!));
}
