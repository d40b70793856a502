/**
 * Test media, encoded once with ffmpeg and cached in bench/.cache:
 * - a 2.5 Mbps CBR, 30 fps, 1 s GOP, no B-frame H.264 elementary stream (720p testsrc2 + noise),
 *   split into access units so bench publishers can stamp every frame (SEI) and loop it forever;
 * - a 6 Mbps H.264 + AAC FLV file for ffmpeg `-re -stream_loop -1 -c copy` ingest publishers.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const CACHE_DIR = fileURLToPath(new URL('../.cache/', import.meta.url));

export interface AccessUnit {
  /** NAL units without start codes (no AUD, SPS, PPS). */
  nalus: Buffer[];
  keyframe: boolean;
  bytes: number;
}

export interface H264Source {
  fps: number;
  bitrateKbps: number;
  width: number;
  height: number;
  sps: Buffer;
  pps: Buffer;
  /** AVCDecoderConfigurationRecord. */
  avcC: Buffer;
  /** `avc1.PPCCLL` */
  codec: string;
  units: AccessUnit[];
}

const VIDEO_FILTER = (size: string, fps: number) => `testsrc2=size=${size}:rate=${fps},noise=alls=12:allf=t`;

function ffmpeg(args: string[], what: string): void {
  const result = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
  if (result.status !== 0) throw new Error(`ffmpeg (${what}) failed: ${result.stderr?.toString().slice(-2000)}`);
}

/** Encodes (once) and loads the H.264 source. */
export function loadH264Source(opts: { kbps?: number; fps?: number; size?: string; seconds?: number } = {}): H264Source {
  const kbps = opts.kbps ?? 2500;
  const fps = opts.fps ?? 30;
  const size = opts.size ?? '1280x720';
  const seconds = opts.seconds ?? 10;
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, `src-${size}-${fps}fps-${kbps}k-${seconds}s.h264`);
  if (!existsSync(file)) {
    const tmp = `${file}.tmp`;
    ffmpeg(
      [
        '-f', 'lavfi', '-i', VIDEO_FILTER(size, fps), '-t', String(seconds),
        '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
        '-bf', '0', '-g', String(fps), '-keyint_min', String(fps), '-sc_threshold', '0',
        '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-minrate', `${kbps}k`, '-bufsize', `${kbps}k`,
        '-x264-params', 'nal-hrd=cbr', '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264', tmp,
      ],
      'encode H.264 source',
    );
    renameSync(tmp, file);
  }
  const [width, height] = size.split('x').map(Number) as [number, number];
  return parseAnnexB(readFileSync(file), { fps, kbps, width, height });
}

/** Encodes (once) a 6 Mbps H.264 + AAC FLV for ffmpeg ingest publishers; returns its path. */
export function ensureIngestFlv(opts: { kbps?: number; fps?: number; size?: string; seconds?: number } = {}): string {
  const kbps = opts.kbps ?? 6000;
  const fps = opts.fps ?? 30;
  const size = opts.size ?? '1280x720';
  const seconds = opts.seconds ?? 10;
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, `ingest-${size}-${fps}fps-${kbps}k-${seconds}s.flv`);
  if (existsSync(file)) return file;
  const tmp = `${file}.tmp`;
  ffmpeg(
    [
      '-f', 'lavfi', '-i', VIDEO_FILTER(size, fps), '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', String(fps * 2), '-sc_threshold', '0',
      '-b:v', `${kbps - 128}k`, '-maxrate', `${kbps - 128}k`, '-minrate', `${kbps - 128}k`, '-bufsize', `${kbps}k`, '-x264-params', 'nal-hrd=cbr',
      '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', tmp,
    ],
    'encode ingest FLV',
  );
  renameSync(tmp, file);
  return file;
}

export function splitAnnexB(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && data[end - 1] === 0) end--; // trailing zero of a 4-byte start code
        out.push(data.subarray(start, end));
      }
      i += 3;
      start = i;
    } else i++;
  }
  if (start >= 0 && start < data.length) out.push(data.subarray(start));
  return out;
}

function parseAnnexB(data: Buffer, meta: { fps: number; kbps: number; width: number; height: number }): H264Source {
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  const units: AccessUnit[] = [];
  let current: AccessUnit | undefined;
  for (const nalu of splitAnnexB(data)) {
    const type = nalu[0]! & 0x1f;
    if (type === 9) {
      current = { nalus: [], keyframe: false, bytes: 0 };
      units.push(current);
      continue;
    }
    if (type === 7) {
      sps ??= Buffer.from(nalu);
      continue;
    }
    if (type === 8) {
      pps ??= Buffer.from(nalu);
      continue;
    }
    if (!current) {
      current = { nalus: [], keyframe: false, bytes: 0 };
      units.push(current);
    }
    if (type === 5) current.keyframe = true;
    current.nalus.push(nalu);
    current.bytes += nalu.length + 4;
  }
  if (!sps || !pps) throw new Error('H.264 source has no SPS/PPS');
  const avcC = Buffer.concat([
    Buffer.from([1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1]),
    u16(sps.length),
    sps,
    Buffer.from([1]),
    u16(pps.length),
    pps,
  ]);
  const codec = `avc1.${[sps[1]!, sps[2]!, sps[3]!].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  const filtered = units.filter((u) => u.nalus.length > 0);
  if (!filtered[0]?.keyframe) throw new Error('H.264 source does not start with an IDR');
  return { ...meta, bitrateKbps: meta.kbps, sps, pps, avcC, codec, units: filtered };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** NAL units as one AVCC (4-byte length prefixed) buffer. */
export function toAvcc(nalus: Buffer[]): Buffer {
  let size = 0;
  for (const n of nalus) size += 4 + n.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const n of nalus) {
    out.writeUInt32BE(n.length, at);
    n.copy(out, at + 4);
    at += 4 + n.length;
  }
  return out;
}
