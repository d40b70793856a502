import { BitReader, unescapeRbsp } from './bits.ts';
import { MediaParseError } from './errors.ts';
import type { TrackInfo } from './frame.ts';
import { avcCodecString, buildAvcC, H264NalType, parseSps } from './h264.ts';
import { buildHvcC, H265NalType, h265NalType, hevcCodecString, parseHevcSps } from './h265.ts';
import { bytesEqual, joinLengthPrefixed, splitAnnexB, splitLengthPrefixed } from './nal.ts';

/**
 * Decoder configuration for H.264 / H.265 tracks whose parameter sets travel in-band only.
 *
 * A hang catalog entry without `description` means the WebCodecs convention for AVC/HEVC
 * (W3C "AVC (H.264) WebCodecs Registration" §3, "HEVC (H.265) WebCodecs Registration" §3):
 * the chunks are Annex B byte streams (ITU-T H.264 Annex B) that carry SPS/PPS (and VPS) in-band,
 * as @moq/publish sends them. ISOBMFF / CMAF wants length-prefixed samples and an avcC / hvcC
 * record (ISO/IEC 14496-15 §5.3.3, §8.3.3): this tracker converts each access unit and builds
 * that record from the parameter sets it has seen, reporting when they change.
 */
export type InBandFamily = 'avc' | 'hevc';

export interface InBandConfig {
  /** avcC or hvcC with 4-byte NAL lengths, from the latest parameter sets. */
  description: Uint8Array;
  /** RFC 6381 codec string of that record (`avc1.…`, `hvc1.…`). */
  codec: string;
  /** Cropped size from the SPS. */
  width: number;
  height: number;
}

export interface InBandAccessUnit {
  /** The access unit as 4-byte length-prefixed NAL units (parameter sets kept in-band). */
  sample: Uint8Array;
  /** The configuration after this access unit, once an SPS and PPS (and VPS) were seen. */
  config: InBandConfig | undefined;
  /** True when this access unit brought parameter sets that differ from the previous ones. */
  changed: boolean;
}

/**
 * True when `data` is an Annex B byte stream rather than 4-byte length-prefixed NAL units. A
 * 4-byte start code cannot open a sensible length-prefixed sample (a 1-byte NAL unit); a 3-byte
 * start code can (a length of 256..511), so that case is Annex B only when it does not parse as
 * length-prefixed NAL units.
 */
export function isAnnexB(data: Uint8Array): boolean {
  if (data.length < 4 || data[0] !== 0 || data[1] !== 0) return false;
  if (data[2] === 0 && data[3] === 1) return true;
  if (data[2] !== 1) return false;
  try {
    splitLengthPrefixed(data);
    return false;
  } catch (error) {
    if (error instanceof MediaParseError) return true;
    throw error;
  }
}

type Kind = 'vps' | 'sps' | 'pps';
/** Parameter sets of one kind by their id (H.264 7.4.2.1-2, H.265 7.4.3.1-3), in id order. */
type SetsById = Map<number, Uint8Array>;

/**
 * Follows the parameter sets of one H.264 or H.265 track. An access unit that carries an SPS
 * brings the whole set (encoders repeat every parameter set before each IDR): it replaces what
 * is held. Parameter sets in other access units (a PPS update) are merged by id. Bounded by the
 * id ranges (32 SPS / 256 PPS at most for H.264; 16 VPS / 16 SPS / 64 PPS for H.265).
 */
export class InBandParameterSets {
  #sets: Record<Kind, SetsById> = { vps: new Map(), sps: new Map(), pps: new Map() };
  #config: InBandConfig | undefined;

  constructor(readonly family: InBandFamily) {}

  get config(): InBandConfig | undefined {
    return this.#config;
  }

  /** Convert one access unit (Annex B or length-prefixed) and take in its parameter sets. */
  push(accessUnit: Uint8Array): InBandAccessUnit {
    const annexB = isAnnexB(accessUnit);
    const nalus = annexB ? splitAnnexB(accessUnit) : splitLengthPrefixed(accessUnit);
    const found: Record<Kind, SetsById> = { vps: new Map(), sps: new Map(), pps: new Map() };
    let any = false;
    for (const nalu of nalus) {
      const kind = this.#kindOf(nalu);
      if (!kind) continue;
      found[kind].set(parameterSetId(this.family, kind, nalu), nalu);
      any = true;
    }
    let changed = false;
    if (any && this.#take(found)) {
      const config = this.#build();
      if (config && !(this.#config && bytesEqual(config.description, this.#config.description))) {
        this.#config = config;
        changed = true;
      }
    }
    return { sample: annexB ? joinLengthPrefixed(nalus) : accessUnit, config: this.#config, changed };
  }

  /** Hold the parameter sets of one access unit; true when that changes what is held. */
  #take(found: Record<Kind, SetsById>): boolean {
    const next: Record<Kind, SetsById> =
      found.sps.size > 0
        ? { vps: found.vps.size > 0 ? found.vps : this.#sets.vps, sps: found.sps, pps: found.pps.size > 0 ? found.pps : this.#sets.pps }
        : { vps: merged(this.#sets.vps, found.vps), sps: this.#sets.sps, pps: merged(this.#sets.pps, found.pps) };
    const kinds: Kind[] = ['vps', 'sps', 'pps'];
    if (kinds.every((kind) => sameSets(next[kind], this.#sets[kind]))) return false;
    // Copies in id order: the inputs are views into the access unit.
    for (const kind of kinds) this.#sets[kind] = new Map([...next[kind]].sort(([a], [b]) => a - b).map(([id, nalu]) => [id, nalu.slice()]));
    return true;
  }

  #kindOf(nalu: Uint8Array): Kind | undefined {
    if (this.family === 'avc') {
      if (nalu.length === 0) return undefined;
      const type = nalu[0]! & 0x1f;
      return type === H264NalType.Sps ? 'sps' : type === H264NalType.Pps ? 'pps' : undefined;
    }
    if (nalu.length < 2) return undefined;
    const type = h265NalType(nalu);
    return type === H265NalType.Vps ? 'vps' : type === H265NalType.Sps ? 'sps' : type === H265NalType.Pps ? 'pps' : undefined;
  }

  #build(): InBandConfig | undefined {
    const [vps, sps, pps] = [[...this.#sets.vps.values()], [...this.#sets.sps.values()], [...this.#sets.pps.values()]];
    if (sps.length === 0 || pps.length === 0) return undefined;
    if (this.family === 'avc') {
      const description = buildAvcC(sps, pps);
      const { width, height } = parseSps(sps[0]!);
      return { description, codec: avcCodecString(description), width, height };
    }
    if (vps.length === 0) return undefined;
    const description = buildHvcC(vps, sps, pps);
    const { width, height } = parseHevcSps(sps[0]!);
    return { description, codec: hevcCodecString(description, 'hvc1'), width, height };
  }
}

function merged(held: SetsById, found: SetsById): SetsById {
  return found.size === 0 ? held : new Map([...held, ...found]);
}

function sameSets(a: SetsById, b: SetsById): boolean {
  if (a.size !== b.size) return false;
  for (const [id, nalu] of a) {
    const other = b.get(id);
    if (!other || !bytesEqual(other, nalu)) return false;
  }
  return true;
}

/**
 * The id a parameter set is referenced by: H.264 seq_parameter_set_id / pic_parameter_set_id
 * (7.3.2.1.1, 7.3.2.2), H.265 vps_video_parameter_set_id / sps_seq_parameter_set_id /
 * pps_pic_parameter_set_id (7.3.2.1-3).
 */
function parameterSetId(family: InBandFamily, kind: Kind, nalu: Uint8Array): number {
  if (family === 'avc') {
    if (kind === 'sps') return parseSps(nalu).spsId;
    const id = new BitReader(unescapeRbsp(nalu.subarray(1, 8))).readUe();
    if (id > 255) throw new MediaParseError(`pic_parameter_set_id ${id} out of range`);
    return id;
  }
  if (nalu.length < 3) throw new MediaParseError('truncated H.265 parameter set');
  if (kind === 'vps') return nalu[2]! >>> 4;
  if (kind === 'sps') return parseHevcSps(nalu).spsId;
  const id = new BitReader(unescapeRbsp(nalu.subarray(2, 9))).readUe();
  if (id > 63) throw new MediaParseError(`pps_pic_parameter_set_id ${id} out of range`);
  return id;
}

/**
 * The tracker a rendition needs: H.264 / H.265 without a description carry their parameter
 * sets in-band, as Annex B (the WebCodecs convention hang follows). `previous` (the tracker of
 * the previous catalog entry) is kept when the codec family is the same, so known parameter
 * sets survive a catalog update. Undefined when the track needs none.
 */
export function inBandTracker(info: TrackInfo | undefined, previous: InBandParameterSets | undefined): InBandParameterSets | undefined {
  if (info?.kind !== 'video' || info.description) return undefined;
  const family = info.codec.slice(0, 4);
  const kind = family === 'avc1' || family === 'avc3' ? 'avc' : family === 'hvc1' || family === 'hev1' ? 'hevc' : undefined;
  if (!kind) return undefined;
  return previous?.family === kind ? previous : new InBandParameterSets(kind);
}
