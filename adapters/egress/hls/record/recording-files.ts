import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_SUFFIX } from './durable-file.ts';

/** A recorded CMAF track: `v` the broadcast's default video, `a` its audio (follows v's cuts). */
export type TrackLabel = 'v' | 'a';
const LABELS: readonly TrackLabel[] = ['v', 'a'];

/** What a track's init segment describes, written beside it (`<t>-init<v>.json`). */
export interface InitMeta {
  kind: 'video' | 'audio';
  /** RFC 6381 codec string. */
  codecs: string;
  width?: number;
  height?: number;
  channels?: number;
}

/** One media segment on disk: everything about it is in its name, so the index can be rebuilt from a listing. */
export interface SegmentFile {
  track: TrackLabel;
  /** Media sequence number: increasing, gaps mean a segment was lost. */
  seq: number;
  initVersion: number;
  /** Broadcast µs timeline. */
  startUs: number;
  durationUs: number;
  /** A new init segment or timeline starts here (EXT-X-DISCONTINUITY). */
  discontinuity: boolean;
  file: string;
  bytes: number;
}

export interface RecordingMeta {
  broadcast: string;
  startedAt: string;
}

export interface RecordingTrack {
  inits: Map<number, InitMeta>;
  segments: SegmentFile[];
}

export interface RecordingIndex extends RecordingMeta {
  id: string;
  /** Undefined while recording. */
  endedAt: string | undefined;
  tracks: Map<TrackLabel, RecordingTrack>;
  bytes: number;
}

export const META_FILE = 'recording.json';
export const ENDED_FILE = 'ended.json';
export const INDEX_FILE = 'index.json';

export const recordingFiles = {
  init: (track: TrackLabel, version: number): string => `${track}-init${version}.mp4`,
  initMeta: (track: TrackLabel, version: number): string => `${track}-init${version}.json`,
  segment: (s: Omit<SegmentFile, 'file' | 'bytes'>): string =>
    `${s.track}-${String(s.seq).padStart(8, '0')}-i${s.initVersion}-s${s.startUs}-d${s.durationUs}${s.discontinuity ? '-x' : ''}.m4s`,
};

const SEGMENT = /^([va])-(\d{1,15})-i(\d{1,9})-s(-?\d{1,18})-d(\d{1,15})(-x)?\.m4s$/;
const INIT_META = /^([va])-init(\d{1,9})\.json$/;

export function parseSegmentName(name: string): Omit<SegmentFile, 'bytes'> | undefined {
  const m = SEGMENT.exec(name);
  if (!m) return undefined;
  return { track: m[1] as TrackLabel, seq: Number(m[2]), initVersion: Number(m[3]), startUs: Number(m[4]), durationUs: Number(m[5]), discontinuity: m[6] !== undefined, file: name };
}

/** A directory name for a new recording of `broadcast`: readable, unique per millisecond. */
export function recordingId(broadcast: string, startedAt: Date): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${broadcast.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 100)}-${stamp}`;
}

export function isRecordingId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,130}$/.test(id);
}

/**
 * The index of one recording directory, from what is on disk only: the meta file, the init
 * descriptions and the segment names. Temporary files (a write cut short by a crash) are removed,
 * not listed; a segment whose init segment is missing is left out. Undefined when the directory
 * is not a recording (no readable meta file).
 */
export async function rebuildIndex(dir: string): Promise<RecordingIndex | undefined> {
  let meta: RecordingMeta;
  try {
    const parsed = JSON.parse(await readFile(path.join(dir, META_FILE), 'utf8')) as Partial<RecordingMeta>;
    if (typeof parsed.broadcast !== 'string' || typeof parsed.startedAt !== 'string') return undefined;
    meta = { broadcast: parsed.broadcast, startedAt: parsed.startedAt };
  } catch {
    return undefined;
  }
  const names = await readdir(dir);
  const tracks = new Map<TrackLabel, RecordingTrack>(LABELS.map((label) => [label, { inits: new Map(), segments: [] }]));
  let bytes = 0;
  let endedAt: string | undefined;
  let lastWrite = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith(TEMP_SUFFIX)) {
      await rm(file, { force: true });
      continue;
    }
    const initMeta = INIT_META.exec(name);
    if (initMeta) {
      const info = await readInitMeta(file);
      if (info && names.includes(recordingFiles.init(initMeta[1] as TrackLabel, Number(initMeta[2])))) tracks.get(initMeta[1] as TrackLabel)!.inits.set(Number(initMeta[2]), info);
      continue;
    }
    if (name === ENDED_FILE) {
      endedAt = await readEndedAt(file);
      continue;
    }
    const segment = parseSegmentName(name);
    if (!segment) continue;
    const info = await stat(file);
    lastWrite = Math.max(lastWrite, info.mtimeMs);
    tracks.get(segment.track)!.segments.push({ ...segment, bytes: info.size });
  }
  for (const track of tracks.values()) {
    track.segments = track.segments.filter((s) => track.inits.has(s.initVersion)).sort((a, b) => a.seq - b.seq);
    for (const s of track.segments) bytes += s.bytes;
  }
  for (const [label, track] of tracks) if (track.segments.length === 0) tracks.delete(label);
  // Interrupted (a crash): it ended when its last segment was written.
  if (endedAt === undefined && lastWrite > 0) endedAt = new Date(lastWrite).toISOString();
  return { ...meta, id: path.basename(dir), endedAt, tracks, bytes };
}

async function readInitMeta(file: string): Promise<InitMeta | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<InitMeta>;
    if ((value.kind !== 'video' && value.kind !== 'audio') || typeof value.codecs !== 'string') return undefined;
    return value as InitMeta;
  } catch {
    return undefined;
  }
}

async function readEndedAt(file: string): Promise<string | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as { endedAt?: unknown };
    return typeof value.endedAt === 'string' ? value.endedAt : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds of the recording: its video (or, audio only, its audio). */
export function durationSeconds(index: RecordingIndex): number {
  const track = index.tracks.get('v') ?? index.tracks.get('a');
  return (track?.segments.reduce((sum, s) => sum + s.durationUs, 0) ?? 0) / 1e6;
}
