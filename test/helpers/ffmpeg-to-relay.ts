import { spawn, type ChildProcess } from 'node:child_process';
import type { Origin } from '../../src/relay/index.ts';
import { HangBroadcastWriter } from '../../src/media/hang/publisher.ts';
import { avcCodecString } from '../../src/media/h264.ts';
import { hevcCodecString } from '../../src/media/h265.ts';
import { buildOpusHead } from '../../src/media/opus.ts';
import type { TrackInfo } from '../../src/media/frame.ts';

/**
 * Publishes what ffmpeg encodes into a relay broadcast in the hang format, without RTMP:
 * ffmpeg writes fragmented MP4 to a pipe, a small demuxer below reads samples (DTS, CTS,
 * keyframe flag) and the lead's HangBroadcastWriter turns them into catalog + legacy frames.
 */
export interface FfmpegPublishOptions {
  seconds: number;
  /** -re: encode in real time (live-like); otherwise as fast as possible. */
  realtime?: boolean;
  video?: { width?: number; height?: number; fps?: number; gop?: number; bframes?: number; profile?: string; codec?: 'h264' | 'h265'; pixelFormat?: string } | false;
  audio?: 'aac' | 'opus' | false;
  /** Close the broadcast when ffmpeg exits (default true). */
  closeAtEnd?: boolean;
}

export interface PublishedSample {
  track: string;
  dtsUs: number;
  ptsUs: number;
  keyframe: boolean;
  bytes: number;
}

export interface FfmpegPublisher {
  writer: HangBroadcastWriter;
  /** Every sample published, in publish order (for comparisons with what HLS delivers). */
  samples: PublishedSample[];
  /** Resolves when ffmpeg has exited and everything is written. */
  done: Promise<void>;
  stop(): void;
}

export function publishWithFfmpeg(origin: Origin, path: string, options: FfmpegPublishOptions): FfmpegPublisher {
  const video = options.video === false ? undefined : { width: 320, height: 240, fps: 30, gop: 30, bframes: 2, profile: 'high', codec: 'h264', pixelFormat: 'yuv420p', ...options.video };
  const audio = options.audio === false ? undefined : (options.audio ?? 'aac');
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  if (options.realtime ?? true) args.push('-re');
  if (video) args.push('-f', 'lavfi', '-i', `testsrc2=size=${video.width}x${video.height}:rate=${video.fps}`);
  if (audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  args.push('-t', String(options.seconds));
  if (video) {
    if (video.codec === 'h265') {
      const x265 = `keyint=${video.gop}:min-keyint=${video.gop}:scenecut=0:bframes=${video.bframes}:log-level=error`;
      args.push('-c:v', 'libx265', '-preset', 'ultrafast', '-profile:v', video.profile, '-pix_fmt', video.pixelFormat, '-tag:v', 'hvc1', '-x265-params', x265);
    } else {
      args.push('-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', video.profile, '-pix_fmt', video.pixelFormat);
      args.push('-g', String(video.gop), '-keyint_min', String(video.gop), '-sc_threshold', '0', '-bf', String(video.bframes));
    }
  }
  if (audio === 'aac') args.push('-c:a', 'aac', '-b:a', '96k', '-ac', '2');
  if (audio === 'opus') args.push('-c:a', 'libopus', '-b:a', '64k', '-ac', '2');
  // Small fragments (≤ 50 ms) so samples reach the relay about when they are encoded.
  args.push('-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '50000', 'pipe:1');

  const writer = new HangBroadcastWriter(origin, path, { protocol: 'ffmpeg-test' });
  const samples: PublishedSample[] = [];
  const child: ChildProcess = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const demuxer = new FragmentedMp4Demuxer();
  const declared = new Set<number>();
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const event of demuxer.push(chunk)) {
      const track = demuxer.tracks.get(event.trackId);
      if (!track) continue;
      const name = track.kind;
      if (!declared.has(event.trackId)) {
        declared.add(event.trackId);
        writer.setTrack(name, track.info);
      }
      samples.push({ track: name, dtsUs: event.dtsUs, ptsUs: event.ptsUs, keyframe: event.keyframe, bytes: event.data.byteLength });
      writer.writeFrame(name, { timestamp: event.dtsUs, compositionOffset: event.ptsUs - event.dtsUs, keyframe: event.keyframe, payload: event.data });
    }
  });
  let stopped = false;
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (options.closeAtEnd ?? true) writer.close();
      // ffmpeg answers SIGTERM by finishing the file and exiting 255.
      if (code === 0 || stopped) resolve();
      else reject(new Error(`ffmpeg exited with ${code}: ${stderr}`));
    });
  });
  return {
    writer,
    samples,
    done,
    stop: () => {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A fragmented-MP4 reader just large enough for ffmpeg's `empty_moov+default_base_moof` output
// (ISO/IEC 14496-12 boxes: moov/trak/mdhd/hdlr/stsd/elst, moof/tfhd/tfdt/trun, mdat).

interface DemuxedTrack {
  kind: 'video' | 'audio';
  timescale: number;
  info: TrackInfo;
  /** Edit list: media time shown first (subtracted) and leading empty time in µs (added). */
  mediaTimeStart: number;
  emptyUs: number;
}

interface DemuxedSample {
  trackId: number;
  dtsUs: number;
  ptsUs: number;
  keyframe: boolean;
  data: Uint8Array;
}

interface Box {
  type: string;
  start: number;
  size: number;
  body: Uint8Array;
}

function* boxes(data: Uint8Array, from = 0, to = data.byteLength): Generator<Box> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = from;
  while (pos + 8 <= to) {
    let size = view.getUint32(pos);
    const type = String.fromCharCode(...data.subarray(pos + 4, pos + 8));
    let header = 8;
    if (size === 1) {
      size = Number(view.getBigUint64(pos + 8));
      header = 16;
    }
    if (size < header || pos + size > to) return;
    yield { type, start: pos, size, body: data.subarray(pos + header, pos + size) };
    pos += size;
  }
}

function child(body: Uint8Array, ...path: string[]): Uint8Array | undefined {
  let current: Uint8Array | undefined = body;
  for (const type of path) {
    let found: Uint8Array | undefined;
    for (const b of boxes(current!)) if (b.type === type) found ??= b.body;
    current = found;
    if (!current) return undefined;
  }
  return current;
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

class FragmentedMp4Demuxer {
  readonly tracks = new Map<number, DemuxedTrack>();
  #buffer = new Uint8Array(0);
  #pendingMoof: Uint8Array | undefined;

  push(chunk: Uint8Array): DemuxedSample[] {
    const joined = new Uint8Array(this.#buffer.byteLength + chunk.byteLength);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.byteLength);
    const out: DemuxedSample[] = [];
    let consumed = 0;
    for (const box of boxes(joined)) {
      const whole = joined.subarray(box.start, box.start + box.size);
      consumed = box.start + box.size;
      if (box.type === 'moov') this.#readMoov(box.body);
      else if (box.type === 'moof') this.#pendingMoof = whole.slice();
      else if (box.type === 'mdat' && this.#pendingMoof) {
        const fragment = new Uint8Array(this.#pendingMoof.byteLength + whole.byteLength);
        fragment.set(this.#pendingMoof);
        fragment.set(whole, this.#pendingMoof.byteLength);
        out.push(...this.#readFragment(fragment));
        this.#pendingMoof = undefined;
      }
    }
    this.#buffer = joined.slice(consumed);
    // Interleave tracks by time, as an encoder feeding a live relay would.
    return out.sort((a, b) => a.dtsUs - b.dtsUs);
  }

  #readMoov(moov: Uint8Array): void {
    const movieTimescale = dv(child(moov, 'mvhd')!).getUint32(12);
    for (const b of boxes(moov)) {
      if (b.type !== 'trak') continue;
      const tkhd = child(b.body, 'tkhd')!;
      const trackId = dv(tkhd).getUint32(tkhd[0] === 1 ? 20 : 12);
      const mdhd = child(b.body, 'mdia', 'mdhd')!;
      const timescale = dv(mdhd).getUint32(mdhd[0] === 1 ? 20 : 12);
      const handler = String.fromCharCode(...child(b.body, 'mdia', 'hdlr')!.subarray(8, 12));
      const stsd = child(b.body, 'mdia', 'minf', 'stbl', 'stsd')!;
      const entry = [...boxes(stsd, 8)][0]!;
      let info: TrackInfo | undefined;
      if (handler === 'vide' && entry.type === 'avc1') {
        const e = dv(entry.body);
        const avcC = child(entry.body.subarray(78), 'avcC')!.slice();
        info = { kind: 'video', codec: avcCodecString(avcC), description: avcC, codedWidth: e.getUint16(24), codedHeight: e.getUint16(26) };
      } else if (handler === 'vide' && entry.type === 'hvc1') {
        const e = dv(entry.body);
        const hvcC = child(entry.body.subarray(78), 'hvcC')!.slice();
        info = { kind: 'video', codec: hevcCodecString(hvcC), description: hvcC, codedWidth: e.getUint16(24), codedHeight: e.getUint16(26) };
      } else if (handler === 'soun' && entry.type === 'mp4a') {
        const esds = child(entry.body.subarray(28), 'esds')!;
        const asc = decoderSpecificInfo(esds.subarray(4));
        info = { kind: 'audio', codec: 'mp4a.40.2', description: asc, sampleRate: timescale, numberOfChannels: dv(entry.body).getUint16(16) };
      } else if (handler === 'soun' && entry.type === 'Opus') {
        const dOps = dv(child(entry.body.subarray(28), 'dOps')!);
        const channels = dOps.getUint8(1);
        info = { kind: 'audio', codec: 'opus', description: buildOpusHead(channels, dOps.getUint32(4), dOps.getUint16(2)), sampleRate: 48000, numberOfChannels: channels };
      }
      if (!info) continue;
      let mediaTimeStart = 0;
      let emptyUs = 0;
      const elst = child(b.body, 'edts', 'elst');
      if (elst) {
        const v = dv(elst);
        const version = elst[0]!;
        const count = v.getUint32(4);
        for (let i = 0, pos = 8; i < count; i++, pos += version === 1 ? 20 : 12) {
          const duration = version === 1 ? Number(v.getBigUint64(pos)) : v.getUint32(pos);
          const mediaTime = version === 1 ? Number(v.getBigInt64(pos + 8)) : v.getInt32(pos + 4);
          if (mediaTime === -1) emptyUs += (duration * 1e6) / movieTimescale;
          else {
            mediaTimeStart = mediaTime;
            break;
          }
        }
      }
      this.tracks.set(trackId, { kind: info.kind, timescale, info, mediaTimeStart, emptyUs });
    }
  }

  #readFragment(fragment: Uint8Array): DemuxedSample[] {
    const out: DemuxedSample[] = [];
    const moof = [...boxes(fragment)][0]!;
    for (const traf of boxes(moof.body)) {
      if (traf.type !== 'traf') continue;
      const tfhd = child(traf.body, 'tfhd')!;
      const t = dv(tfhd);
      const flags = t.getUint32(0) & 0xffffff;
      const trackId = t.getUint32(4);
      const track = this.tracks.get(trackId);
      if (!track) continue;
      let pos = 8;
      let base = moof.start;
      if (flags & 0x1) {
        base = Number(t.getBigUint64(pos));
        pos += 8;
      }
      if (flags & 0x2) pos += 4;
      let defaultDuration = 0;
      let defaultSize = 0;
      let defaultFlags = 0;
      if (flags & 0x8) (defaultDuration = t.getUint32(pos)), (pos += 4);
      if (flags & 0x10) (defaultSize = t.getUint32(pos)), (pos += 4);
      if (flags & 0x20) defaultFlags = t.getUint32(pos);
      const tfdt = child(traf.body, 'tfdt')!;
      let dts = tfdt[0] === 1 ? Number(dv(tfdt).getBigUint64(4)) : dv(tfdt).getUint32(4);
      for (const run of boxes(traf.body)) {
        if (run.type !== 'trun') continue;
        const r = dv(run.body);
        const version = run.body[0]!;
        const rflags = r.getUint32(0) & 0xffffff;
        const count = r.getUint32(4);
        let p = 8;
        let offset = base;
        if (rflags & 0x1) (offset = base + r.getInt32(p)), (p += 4);
        let firstFlags: number | undefined;
        if (rflags & 0x4) (firstFlags = r.getUint32(p)), (p += 4);
        for (let i = 0; i < count; i++) {
          const duration = rflags & 0x100 ? r.getUint32((p += 4) - 4) : defaultDuration;
          const size = rflags & 0x200 ? r.getUint32((p += 4) - 4) : defaultSize;
          let sampleFlags = rflags & 0x400 ? r.getUint32((p += 4) - 4) : defaultFlags;
          if (i === 0 && firstFlags !== undefined) sampleFlags = firstFlags;
          const cto = rflags & 0x800 ? (version === 1 ? r.getInt32((p += 4) - 4) : r.getUint32((p += 4) - 4)) : 0;
          const toUs = (ticks: number) => ((ticks - track.mediaTimeStart) * 1e6) / track.timescale + track.emptyUs;
          out.push({
            trackId,
            dtsUs: Math.round(toUs(dts)),
            ptsUs: Math.round(toUs(dts + cto)),
            keyframe: track.kind === 'audio' || (sampleFlags & 0x10000) === 0,
            data: fragment.slice(offset, offset + size),
          });
          offset += size;
          dts += duration;
        }
      }
    }
    return out;
  }
}

/** DecoderSpecificInfo (tag 5) inside an ES_Descriptor (ISO/IEC 14496-1 §7.2.6). */
function decoderSpecificInfo(es: Uint8Array): Uint8Array {
  let pos = 0;
  const readSize = () => {
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const b = es[pos++]!;
      size = (size << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    return size;
  };
  while (pos < es.byteLength) {
    const tag = es[pos++]!;
    const size = readSize();
    if (tag === 0x03) {
      const flags = es[pos + 2]!;
      pos += 3 + (flags & 0x80 ? 2 : 0) + (flags & 0x20 ? 2 : 0);
      if (flags & 0x40) pos += 1 + es[pos]!;
    } else if (tag === 0x04) {
      pos += 13;
    } else if (tag === 0x05) {
      return es.slice(pos, pos + size);
    } else {
      pos += size;
    }
  }
  throw new Error('esds without DecoderSpecificInfo');
}
