import type { AudioTrackInfo, TrackInfo, VideoTrackInfo } from '../frame.ts';
import { fromHex, toHex } from '../hex.ts';
import { MediaParseError } from '../errors.ts';

/** The catalog track every hang broadcast carries (draft-lcurley-moq-hang §Catalog). */
export const CATALOG_TRACK = 'catalog.json';

/** Subscriber priorities @moq/watch uses; publishers mirror them so congestion sheds video first. */
export const TRACK_PRIORITY = { catalog: 100, audio: 80, video: 60 } as const;

type Json = Record<string, unknown>;

/** Catalog JSON for a broadcast's tracks: renditions keyed by track name. */
function buildCatalog(tracks: ReadonlyMap<string, TrackInfo>): Json {
  const video: Record<string, Json> = {};
  const audio: Record<string, Json> = {};
  let display: { width: number; height: number } | undefined;
  for (const [name, info] of tracks) {
    if (info.kind === 'video') {
      video[name] = videoRendition(info);
      display ??= { width: info.codedWidth, height: info.codedHeight };
    } else {
      audio[name] = audioRendition(info);
    }
  }
  const catalog: Json = {};
  if (Object.keys(video).length > 0) catalog.video = { renditions: video, ...(display ? { display } : {}) };
  if (Object.keys(audio).length > 0) catalog.audio = { renditions: audio };
  return catalog;
}

function videoRendition(info: VideoTrackInfo): Json {
  return {
    codec: info.codec,
    container: { kind: 'legacy' },
    ...(info.description ? { description: toHex(info.description) } : {}),
    codedWidth: info.codedWidth,
    codedHeight: info.codedHeight,
    ...(info.framerate ? { framerate: info.framerate } : {}),
    ...(info.bitrate ? { bitrate: Math.round(info.bitrate) } : {}),
    optimizeForLatency: true,
  };
}

function audioRendition(info: AudioTrackInfo): Json {
  return {
    codec: info.codec,
    container: { kind: 'legacy' },
    ...(info.description ? { description: toHex(info.description) } : {}),
    sampleRate: info.sampleRate,
    numberOfChannels: info.numberOfChannels,
    ...(info.bitrate ? { bitrate: Math.round(info.bitrate) } : {}),
  };
}

export function encodeCatalog(tracks: ReadonlyMap<string, TrackInfo>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(buildCatalog(tracks)));
}

/**
 * Track descriptions from a hang catalog. Renditions in containers other than legacy, or with
 * malformed fields, are skipped rather than failing the whole catalog.
 */
export function parseCatalog(input: Uint8Array | unknown): Map<string, TrackInfo> {
  let json: unknown = input;
  if (input instanceof Uint8Array) {
    try {
      json = JSON.parse(new TextDecoder().decode(input));
    } catch (error) {
      throw new MediaParseError(`catalog is not JSON: ${(error as Error).message}`);
    }
  }
  if (!isObject(json)) throw new MediaParseError('catalog is not a JSON object');
  const tracks = new Map<string, TrackInfo>();
  for (const [name, r] of renditions(json.video)) {
    if (!isLegacy(r) || typeof r.codec !== 'string') continue;
    tracks.set(name, {
      kind: 'video',
      codec: r.codec,
      description: hexField(r.description),
      codedWidth: numberField(r.codedWidth),
      codedHeight: numberField(r.codedHeight),
      ...(typeof r.framerate === 'number' ? { framerate: r.framerate } : {}),
      ...(typeof r.bitrate === 'number' ? { bitrate: r.bitrate } : {}),
    });
  }
  for (const [name, r] of renditions(json.audio)) {
    if (!isLegacy(r) || typeof r.codec !== 'string') continue;
    tracks.set(name, {
      kind: 'audio',
      codec: r.codec,
      description: hexField(r.description),
      sampleRate: numberField(r.sampleRate),
      numberOfChannels: numberField(r.numberOfChannels),
      ...(typeof r.bitrate === 'number' ? { bitrate: r.bitrate } : {}),
    });
  }
  return tracks;
}

/** What a catalog says of each track, whatever its container: for listings (the API), not for decoding. */
export interface CatalogTrackSummary {
  name: string;
  kind: 'video' | 'audio';
  codec: string;
  /** The publisher's declared bitrate (bits per second), when it gives one. */
  bitrate?: number;
}

/** The tracks a hang catalog lists; throws MediaParseError when it is not a catalog at all. */
export function summarizeCatalog(input: Uint8Array): CatalogTrackSummary[] {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(input));
  } catch (error) {
    throw new MediaParseError(`catalog is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw new MediaParseError('catalog is not a JSON object');
  const out: CatalogTrackSummary[] = [];
  for (const kind of ['video', 'audio'] as const) {
    for (const [name, r] of renditions(json[kind])) {
      if (typeof r.codec !== 'string') continue;
      out.push({ name, kind, codec: r.codec, ...(typeof r.bitrate === 'number' && Number.isFinite(r.bitrate) ? { bitrate: r.bitrate } : {}) });
    }
  }
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function renditions(section: unknown): [string, Json][] {
  if (!isObject(section) || !isObject(section.renditions)) return [];
  return Object.entries(section.renditions).filter((entry): entry is [string, Json] => isObject(entry[1]));
}

function isLegacy(rendition: Json): boolean {
  return rendition.container === undefined || (isObject(rendition.container) && rendition.container.kind === 'legacy');
}

function hexField(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return fromHex(value);
  } catch {
    return undefined;
  }
}

function numberField(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
