/**
 * The MSF catalog (draft-ietf-moq-msf §5): a JSON document on the track named `catalog` listing the
 * broadcast's tracks. Parsing keeps every field it does not interpret (§5: "A parser MUST ignore
 * fields it does not understand"; we also carry them along) and throws MediaParseError on anything
 * that is not a catalog.
 */
import { MediaParseError } from '../errors.ts';

/** Track name of the top-level catalog (§5). */
export const MSF_CATALOG_TRACK = 'catalog';

/** The MSF version this gateway writes (§5.1.1). */
export const MSF_VERSION = 'draft-01';

export interface MsfTrack {
  name: string;
  namespace?: string;
  packaging: string;
  isLive?: boolean;
  role?: string;
  codec?: string;
  width?: number;
  height?: number;
  framerate?: number;
  timescale?: number;
  bitrate?: number;
  samplerate?: number;
  channelConfig?: string;
  renderGroup?: number;
  altGroup?: number;
  initRef?: string;
  /** draft-00 style inline init data (base64), still emitted by some publishers. */
  initData?: string;
  [field: string]: unknown;
}

export interface MsfInitData {
  id: string;
  type: string;
  data: string;
}

export interface MsfCatalog {
  version: string;
  generatedAt?: number;
  isComplete?: boolean;
  tracks: MsfTrack[];
  initDataList?: MsfInitData[];
  /** Present on delta updates (§5.1.6). */
  deltaUpdate?: unknown[];
  [field: string]: unknown;
}

/** Catalogs are small; refuse anything that would be expensive to parse. */
const MAX_MSF_CATALOG_BYTES = 1024 * 1024;

export function parseMsfCatalog(bytes: Uint8Array): MsfCatalog {
  if (bytes.byteLength > MAX_MSF_CATALOG_BYTES) throw new MediaParseError(`MSF catalog of ${bytes.byteLength} bytes is too large`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new MediaParseError(`MSF catalog is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw new MediaParseError('MSF catalog is not a JSON object');
  const version = json.version;
  if (typeof version !== 'string' && typeof version !== 'number') throw new MediaParseError('MSF catalog has no version');
  const tracks = Array.isArray(json.tracks) ? json.tracks.filter(isTrack) : [];
  const initDataList = Array.isArray(json.initDataList) ? json.initDataList.filter(isInitData) : undefined;
  return {
    ...json,
    version: String(version),
    tracks,
    ...(initDataList ? { initDataList } : {}),
    ...(Array.isArray(json.deltaUpdate) ? { deltaUpdate: json.deltaUpdate } : {}),
  };
}

export function encodeMsfCatalog(catalog: MsfCatalog): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(catalog));
}

/** A track's init data, resolving draft-01 `initRef` against inline `initDataList` entries. */
export function msfInitData(catalog: MsfCatalog, track: MsfTrack): string | undefined {
  if (typeof track.initData === 'string') return track.initData;
  if (track.initRef === undefined) return undefined;
  return catalog.initDataList?.find((entry) => entry.id === track.initRef && entry.type === 'inline')?.data;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTrack(value: unknown): value is MsfTrack {
  return isObject(value) && typeof value.name === 'string' && typeof value.packaging === 'string';
}

function isInitData(value: unknown): value is MsfInitData {
  return isObject(value) && typeof value.id === 'string' && typeof value.type === 'string' && typeof value.data === 'string';
}
