/** The gateway's JSON API as the pages use it (shapes served by src/http/api.ts). */
import { pageToken } from './token.ts';

export interface TrackInfo {
  name: string;
  kind: string;
  codec: string;
  /** Bits per second, when the gateway measures it. */
  bitrate?: number;
}

export interface BroadcastInfo {
  path: string;
  tracks: TrackInfo[];
  /** `connected: false` while the encoder is away within its reconnect grace period. */
  publisher: { protocol: string; remoteAddress: string; connected?: boolean } | null;
  viewers: number;
  /** When the broadcast went live: epoch ms or an ISO date string. */
  startedAt: number | string;
}

export interface GatewayInfo {
  /** null when RTMP ingest is disabled. */
  rtmpPort: number | null;
  httpPort: number;
  version: string;
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
