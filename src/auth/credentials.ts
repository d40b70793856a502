import type { IncomingHttpHeaders } from 'node:http';

/** Headers as Node's http module or the fetch API hand them to us. */
export type HeaderSource = Headers | IncomingHttpHeaders | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The `?jwt=` token of a connection URL (how MoQ clients pass it: WebTransport has no auth header). */
export function tokenFrom(url: URL | string): string | undefined {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url, 'http://localhost') : url;
  } catch {
    return undefined;
  }
  return nonEmpty(parsed.searchParams.get('jwt'));
}

/** The credential of an `Authorization: Bearer <credential>` header (WHIP, the HTTP API). */
export function bearerFrom(headers: HeaderSource): string | undefined {
  const value = headerValue(headers, 'authorization');
  const match = value === undefined ? null : /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
  return match ? match[1] : undefined;
}

/** The `jwt` of an RTMP publish query (`rtmp://host/live/demo?jwt=…`, or OBS stream key `demo?jwt=…`). */
export function rtmpToken(query: URLSearchParams): string | undefined {
  return nonEmpty(query.get('jwt'));
}

/** The `key` of an RTMP publish query, checked against the configured stream keys. */
export function rtmpStreamKey(query: URLSearchParams): string | undefined {
  return nonEmpty(query.get('key'));
}

export interface PublishCredentials {
  jwt?: string;
  key?: string;
}

/** Sorts one opaque credential (a WHIP bearer) into a JWT or a stream key by its shape. */
export function splitCredential(value: string | undefined): PublishCredentials {
  if (value === undefined || value === '') return {};
  return looksLikeJwt(value) ? { jwt: value } : { key: value };
}

function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

function nonEmpty(value: string | null): string | undefined {
  return value === null || value === '' ? undefined : value;
}
