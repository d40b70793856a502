/**
 * MPEG-2 transport stream muxer (ISO/IEC 13818-1) for the frame model: one program, H.264 or
 * H.265 video and AAC audio, as legacy HLS players (HLS version 3) and SRT readers expect it.
 * PAT and PMT on demand (every HLS segment starts with them), PCR on the video PID (on the
 * audio PID without video), H.264/H.265 in Annex B with an access unit delimiter before every
 * access unit and the parameter sets before every keyframe, AAC in ADTS.
 */
import { buildAdtsHeader, parseAudioSpecificConfig, type AudioSpecificConfig } from '../aac.ts';
import { MediaParseError } from '../errors.ts';
import { parseAvcC } from '../h264.ts';
import { parseHvcC } from '../h265.ts';
import { splitAnnexB, splitLengthPrefixed } from '../nal.ts';
import { crc32Mpeg2 } from './crc32.ts';
import { ContinuityCounters, packetCount, packetize, TS_PACKET_SIZE, type PacketFlags } from './packetizer.ts';

export const PMT_PID = 0x1000;
export const VIDEO_PID = 0x100;
export const AUDIO_PID = 0x101;
/** stream_type values, 13818-1 Table 2-34 (and its amendments for HEVC). */
const STREAM_TYPE = { h264: 0x1b, h265: 0x24, aac: 0x0f } as const;
/** PCR runs this far ahead of decoding (T-STD buffering; 13818-1 §2.4.2.3 allows up to 1 s). */
const PCR_LEAD_90K = 9000;

export interface TsVideoTrack {
  codec: 'h264' | 'h265';
  /** avcC / hvcC. Without one, payloads are Annex B with the parameter sets in band. */
  description?: Uint8Array;
}

export interface TsAudioTrack {
  codec: 'aac';
  /** AudioSpecificConfig. */
  description: Uint8Array;
}

export interface TsSample {
  ptsUs: number;
  dtsUs: number;
  keyframe: boolean;
  /** Length-prefixed NAL units (with a description) or Annex B; a raw AAC frame for audio. */
  payload: Uint8Array;
}

const START_CODE = Uint8Array.of(0, 0, 0, 1);
/** Access unit delimiters: H.264 7.3.2.4 (primary_pic_type 7: any), H.265 7.3.2.5 (pic_type 2). */
const AUD = { h264: Uint8Array.of(0x09, 0xf0), h265: Uint8Array.of(0x46, 0x01, 0x50) } as const;

interface VideoState {
  codec: 'h264' | 'h265';
  lengthSize: number | undefined;
  parameterSets: Uint8Array[];
}

export class TsMuxer {
  readonly #counters = new ContinuityCounters();
  readonly #video: VideoState | undefined;
  readonly #audio: AudioSpecificConfig | undefined;
  readonly #pmt: Uint8Array;
  readonly #pat: Uint8Array;

  constructor(tracks: { video?: TsVideoTrack; audio?: TsAudioTrack }) {
    if (!tracks.video && !tracks.audio) throw new MediaParseError('a transport stream needs a track');
    if (tracks.video) this.#video = videoState(tracks.video);
    if (tracks.audio) {
      this.#audio = parseAudioSpecificConfig(tracks.audio.description);
      buildAdtsHeader(this.#audio, 0); // refuse what ADTS cannot carry now, not per frame
    }
    this.#pat = section(0x00, 1, Uint8Array.of(0x00, 0x01, 0xe0 | (PMT_PID >>> 8), PMT_PID & 0xff));
    const pcrPid = tracks.video ? VIDEO_PID : AUDIO_PID;
    const streams: number[] = [];
    if (tracks.video) streams.push(STREAM_TYPE[tracks.video.codec], 0xe0 | (VIDEO_PID >>> 8), VIDEO_PID & 0xff, 0xf0, 0x00);
    if (tracks.audio) streams.push(STREAM_TYPE.aac, 0xe0 | (AUDIO_PID >>> 8), AUDIO_PID & 0xff, 0xf0, 0x00);
    // PCR_PID, program_info_length 0, then stream_type / elementary_PID / ES_info_length 0.
    this.#pmt = section(0x02, 1, Uint8Array.of(0xe0 | (pcrPid >>> 8), pcrPid & 0xff, 0xf0, 0x00, ...streams));
  }

  /** PAT then PMT: two packets. */
  tables(): Uint8Array {
    const out = new Uint8Array(2 * TS_PACKET_SIZE);
    packetize(out, packetize(out, 0, 0x0000, this.#pat, this.#counters), PMT_PID, this.#pmt, this.#counters);
    return out;
  }

  /** One video access unit as whole TS packets. */
  video(sample: TsSample): Uint8Array {
    const video = this.#video;
    if (!video) throw new MediaParseError('no video track in this transport stream');
    const nalus = video.lengthSize === undefined ? splitAnnexB(sample.payload) : splitLengthPrefixed(sample.payload, video.lengthSize);
    const units: Uint8Array[] = [AUD[video.codec]];
    const type = (nalu: Uint8Array): number => (video.codec === 'h264' ? nalu[0]! & 0x1f : (nalu[0]! >>> 1) & 0x3f);
    const isAud = video.codec === 'h264' ? 9 : 35;
    const isParameterSet = video.codec === 'h264' ? (t: number) => t === 7 || t === 8 : (t: number) => t >= 32 && t <= 34;
    if (sample.keyframe && !nalus.some((n) => n.length > 0 && isParameterSet(type(n)))) units.push(...video.parameterSets);
    for (const nalu of nalus) if (nalu.length > 0 && type(nalu) !== isAud) units.push(nalu);
    let size = 0;
    for (const unit of units) size += START_CODE.length + unit.length;
    const es = new Uint8Array(size);
    let pos = 0;
    for (const unit of units) {
      es.set(START_CODE, pos);
      es.set(unit, pos + START_CODE.length);
      pos += START_CODE.length + unit.length;
    }
    const dts = to90k(sample.dtsUs);
    // Video PES packets may leave PES_packet_length 0 (unbounded), 13818-1 §2.4.3.7.
    return this.#pes(VIDEO_PID, 0xe0, to90k(sample.ptsUs), dts, es, { pcr: Math.max(0, dts - PCR_LEAD_90K) * 300, randomAccess: sample.keyframe }, true);
  }

  /** One raw AAC frame as whole TS packets (in ADTS, one frame per PES packet). */
  audio(sample: TsSample): Uint8Array {
    const config = this.#audio;
    if (!config) throw new MediaParseError('no audio track in this transport stream');
    const header = buildAdtsHeader(config, sample.payload.length);
    const es = new Uint8Array(header.length + sample.payload.length);
    es.set(header);
    es.set(sample.payload, header.length);
    const pts = to90k(sample.ptsUs);
    const flags: PacketFlags = this.#video ? { randomAccess: true } : { pcr: Math.max(0, pts - PCR_LEAD_90K) * 300, randomAccess: true };
    return this.#pes(AUDIO_PID, 0xc0, pts, pts, es, flags, false);
  }

  #pes(pid: number, streamId: number, pts: number, dts: number, es: Uint8Array, flags: PacketFlags, unbounded: boolean): Uint8Array {
    const withDts = dts !== pts;
    const headerData = withDts ? 10 : 5;
    const pes = new Uint8Array(9 + headerData + es.length);
    const length = 3 + headerData + es.length; // bytes after PES_packet_length
    pes.set([0, 0, 1, streamId, 0, 0, 0x80 | (streamId === 0xe0 ? 0x04 : 0), withDts ? 0xc0 : 0x80, headerData]);
    if (!unbounded || length <= 0xffff) {
      if (length > 0xffff) throw new MediaParseError(`PES packet of ${length} bytes too long`);
      pes[4] = length >>> 8;
      pes[5] = length & 0xff;
    }
    writeTimestamp(pes, 9, withDts ? 0x3 : 0x2, pts);
    if (withDts) writeTimestamp(pes, 14, 0x1, dts);
    pes.set(es, 9 + headerData);
    const out = new Uint8Array(packetCount(pes.length, flags) * TS_PACKET_SIZE);
    packetize(out, 0, pid, pes, this.#counters, flags);
    return out;
  }
}

function videoState(track: TsVideoTrack): VideoState {
  if (!track.description) return { codec: track.codec, lengthSize: undefined, parameterSets: [] };
  if (track.codec === 'h264') {
    const avcC = parseAvcC(track.description);
    return { codec: 'h264', lengthSize: avcC.lengthSize, parameterSets: [...avcC.sps, ...avcC.pps] };
  }
  const hvcC = parseHvcC(track.description);
  const byType = (t: number) => hvcC.arrays.filter((a) => a.nalType === t).flatMap((a) => a.nalus);
  return { codec: 'h265', lengthSize: hvcC.lengthSize, parameterSets: [...byType(32), ...byType(33), ...byType(34)] };
}

/** µs → 90 kHz, wrapped to 33 bits. */
function to90k(us: number): number {
  return Math.round(us * 0.09) % 2 ** 33;
}

/** PTS/DTS: 4-bit prefix, then 33 bits in 3, 15, 15 with marker bits, 13818-1 §2.4.3.7. */
function writeTimestamp(out: Uint8Array, at: number, prefix: number, t: number): void {
  out[at] = (prefix << 4) | ((Math.floor(t / 2 ** 30) & 0x7) << 1) | 1;
  const mid = Math.floor(t / 2 ** 15) & 0x7fff;
  out[at + 1] = mid >>> 7;
  out[at + 2] = ((mid & 0x7f) << 1) | 1;
  const low = t & 0x7fff;
  out[at + 3] = low >>> 7;
  out[at + 4] = ((low & 0x7f) << 1) | 1;
}

/** A PSI section with pointer_field 0: table_id, section_length, id, version 0, CRC_32 (§2.4.4). */
function section(tableId: number, id: number, body: Uint8Array): Uint8Array {
  const length = 5 + body.length + 4; // after section_length: id..last_section_number, body, CRC
  // Padded to one packet's payload with 0xff, the stuffing PSI uses (§2.4.4.2), not an
  // adaptation field.
  const s = new Uint8Array(Math.max(1 + 3 + length, TS_PACKET_SIZE - 4)).fill(0xff);
  s.set([0x00, tableId, 0xb0 | (length >>> 8), length & 0xff, id >>> 8, id & 0xff, 0xc1, 0x00, 0x00]);
  s.set(body, 9);
  const end = 1 + 3 + length;
  const crc = crc32Mpeg2(s.subarray(1, end - 4));
  s.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], end - 4);
  return s;
}
