/** Every address a broadcast is reachable at, derived from the page's own location. */
import { withToken } from './token.ts';

const DEFAULT_RTMP_PORT = 1935;

/** A broadcast path as URL path segments (each one encoded, slashes kept). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** The broadcast named by the rest of the page's path, e.g. `/watch/live/demo` → `live/demo`. */
export function broadcastFromLocation(prefix: string): string {
  const rest = location.pathname.startsWith(prefix) ? location.pathname.slice(prefix.length) : '';
  return rest
    .split('/')
    .filter((segment) => segment !== '')
    .map(safeDecode)
    .join('/');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The MoQ relay URL: the page's origin (WebTransport on UDP, WebSocket on TCP, same port). */
export function moqUrl(token?: string): string {
  return withToken(`${location.origin}/`, token);
}

export const watchHref = (path: string): string => `/watch/${encodePath(path)}`;
export const publishHref = (path: string): string => `/publish/${encodePath(path)}`;
export const hlsUrl = (path: string, token?: string): string => withToken(`${location.origin}/hls/${encodePath(path)}/index.m3u8`, token);
/** MPEG-TS segments, HLS version 3: for old TVs, set-top boxes and GStreamer's legacy playbin. */
export const legacyHlsUrl = (path: string, token?: string): string => withToken(`${location.origin}/hls/${encodePath(path)}/legacy.m3u8`, token);

export interface ObsSettings {
  server: string;
  streamKey: string;
  /** The single URL ffmpeg and GStreamer take. */
  url: string;
}

/**
 * RTMP publishes `<app>/<stream>`: OBS puts the app in the server URL and the rest in the
 * stream key, so `live/demo` is server `rtmp://host/live`, key `demo`. A one-segment name
 * cannot be published over RTMP (null).
 */
export function obsSettings(path: string, rtmpPort: number, token?: string): ObsSettings | null {
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) return null;
  const app = path.slice(0, slash);
  // The token rides in the stream key's query (never part of the broadcast name).
  const streamKey = token ? `${path.slice(slash + 1)}?jwt=${token}` : path.slice(slash + 1);
  const port = rtmpPort === DEFAULT_RTMP_PORT ? '' : `:${rtmpPort}`;
  const server = `rtmp://${location.hostname}${port}/${app}`;
  return { server, streamKey, url: `${server}/${streamKey}` };
}
