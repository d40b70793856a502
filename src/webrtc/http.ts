import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http/server.ts';
import { PublishRefusedError } from '../media/publishers.ts';
import { SdpError, UnsupportedOfferError } from './errors.ts';

/** HTTP details of WHIP (RFC 9725): CORS for browser clients, media types, errors → statuses. */

export const SDP_TYPE = 'application/sdp';
export const TRICKLE_TYPE = 'application/trickle-ice-sdpfrag';

/** Browsers read Location and ETag from cross-origin answers only when exposed (Fetch §CORS). */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Location, ETag, Link, Accept-Patch, Accept-Post',
} as const;

export function preflightHeaders(allow: string): Record<string, string> {
  return {
    ...CORS_HEADERS,
    allow,
    'access-control-allow-methods': allow,
    'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
    'access-control-max-age': '86400',
  };
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** `Authorization: Bearer <token>` (RFC 6750 §2.1), undefined when absent or another scheme. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** Map an error to its status: the adapter's and the registry's errors are the client's doing. */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof SdpError) return 400;
  if (error instanceof UnsupportedOfferError) return 422;
  if (error instanceof PublishRefusedError) return 409;
  return 500;
}

export function sendText(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...CORS_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${message}\n`);
}
