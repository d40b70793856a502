import type http from 'node:http';

/** Any origin may play (hls.js in a page elsewhere): simple CORS, no credentials. */
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Range, Origin, Accept',
  'access-control-expose-headers': 'Content-Length, Content-Type, Date',
  'access-control-max-age': '86400',
};

/** RFC 8216bis §4 / Apple: `.m3u8` as application/vnd.apple.mpegurl. */
const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/** Playlists change with every part: never reuse a stored copy without revalidating. */
const PLAYLIST_CACHE = 'no-cache';
/** Media URLs carry the session id, so their bytes never change. */
const MEDIA_CACHE = 'public, max-age=3600, immutable';

export function sendPreflight(res: http.ServerResponse): void {
  res.writeHead(204, { ...CORS_HEADERS, 'content-length': '0' });
  res.end();
}

export function sendPlaylist(req: http.IncomingMessage, res: http.ServerResponse, text: string): void {
  const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('jwt');
  const body = Buffer.from(token ? withQuery(text, `jwt=${encodeURIComponent(token)}`) : text, 'utf8');
  res.writeHead(200, { ...CORS_HEADERS, 'content-type': PLAYLIST_CONTENT_TYPE, 'cache-control': PLAYLIST_CACHE, 'content-length': String(body.byteLength) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * A playlist whose every URI carries `query` too: a player asked with `?jwt=` must send the
 * token with the playlists and media it is pointed at, and players only copy what URIs hold.
 */
function withQuery(playlist: string, query: string): string {
  const append = (uri: string) => `${uri}${uri.includes('?') ? '&' : '?'}${query}`;
  return playlist
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      if (!line.startsWith('#')) return append(line);
      return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${append(uri)}"`);
    })
    .join('\n');
}

/** Media as one or more buffers (a segment is its parts back to back). */
export function sendMedia(req: http.IncomingMessage, res: http.ServerResponse, contentType: string, chunks: readonly Uint8Array[]): void {
  const length = chunks.reduce((sum, c) => sum + c.byteLength, 0);
  res.writeHead(200, { ...CORS_HEADERS, 'content-type': contentType, 'cache-control': MEDIA_CACHE, 'content-length': String(length) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  for (const chunk of chunks) res.write(chunk);
  res.end();
}

export function sendError(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...CORS_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${message}\n`);
}
