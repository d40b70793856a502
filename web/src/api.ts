/** The gateway's JSON API as the pages use it (shapes served by src/http/api.ts). */
import type { ApiBroadcast, ApiInfo, ApiPublisher, ApiTrack } from '../../src/http/api-types.ts';
import { pageToken } from './token.ts';

/*
 * The page's views of the served shapes (src/http/api-types.ts), loosened where the page
 * tolerates an older or newer gateway: a renamed or retyped field there fails the type check here.
 */
export type TrackInfo = Pick<ApiTrack, 'name' | 'kind' | 'codec'> & Partial<Pick<ApiTrack, 'bitrate'>>;

export interface BroadcastInfo extends Pick<ApiBroadcast, 'path' | 'viewers'> {
  tracks: TrackInfo[];
  /** `connected: false` while the encoder is away within its reconnect grace period. */
  publisher: (Omit<ApiPublisher, 'connected'> & Partial<Pick<ApiPublisher, 'connected'>>) | null;
  /** When the broadcast went live: epoch ms or an ISO date string. */
  startedAt: number | ApiBroadcast['startedAt'];
}

export interface GatewayInfo extends Omit<ApiInfo, 'rtmpPort' | 'udp' | 'workers'> {
  /** null when RTMP ingest is disabled. */
  rtmpPort: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 5000;

async function getJson(path: string): Promise<unknown> {
  const token = pageToken();
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { cache: 'no-store', headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!response.ok) throw new ApiError(response.status, `${path}: HTTP ${response.status}`);
  return response.json();
}

export async function fetchBroadcasts(): Promise<BroadcastInfo[]> {
  const body = (await getJson('/api/broadcasts')) as { broadcasts?: unknown };
  if (!Array.isArray(body.broadcasts)) throw new ApiError(0, '/api/broadcasts: unexpected response');
  return body.broadcasts.filter(isBroadcast).map(normalizeBroadcast);
}

export async function fetchInfo(): Promise<GatewayInfo> {
  const body = (await getJson('/api/info')) as Partial<GatewayInfo>;
  return {
    rtmpPort: typeof body.rtmpPort === 'number' ? body.rtmpPort : null,
    httpPort: typeof body.httpPort === 'number' ? body.httpPort : Number(location.port || 80),
    version: typeof body.version === 'string' ? body.version : '',
  };
}

function isBroadcast(value: unknown): value is BroadcastInfo {
  return typeof value === 'object' && value !== null && typeof (value as BroadcastInfo).path === 'string';
}

/** Tolerate missing optional fields so an older or newer API never breaks the page. */
function normalizeBroadcast(b: BroadcastInfo): BroadcastInfo {
  return {
    path: b.path,
    tracks: Array.isArray(b.tracks) ? b.tracks : [],
    publisher: b.publisher ?? null,
    viewers: typeof b.viewers === 'number' ? b.viewers : 0,
    startedAt: b.startedAt ?? Date.now(),
  };
}
