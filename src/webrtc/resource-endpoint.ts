/**
 * The HTTP surface WHIP (RFC 9725) and WHEP share: POST an offer to the endpoint, then PATCH
 * (trickle ICE, §4.3) and DELETE (§4.2) the session URL it names, OPTIONS/CORS on both, and
 * errors as text with their status. The services supply the POST and what ending a session means.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody } from '../http/server.ts';
import type { StructuredLogger } from '../logger.ts';
import { SdpError } from './errors.ts';
import { bearerToken, CORS_HEADERS, mediaType, preflightHeaders, SDP_TYPE, sendText, statusOf, TRICKLE_TYPE } from './http.ts';
import { parseTrickleFragment, type TrickleFragment } from './trickle-fragment.ts';

/** A WHIP or WHEP session, as the shared routes see it. */
export interface ResourceSession {
  readonly path: string;
  readonly etag: string;
  readonly remoteIce: { ufrag: string; pwd: string };
  addCandidates(fragment: TrickleFragment): Promise<void>;
}

export interface ResourceEndpoint<S extends ResourceSession> {
  /** `WHIP` or `WHEP`, for messages and logs. */
  readonly name: string;
  readonly logger: StructuredLogger;
  readonly maxBodyBytes: number;
  session(id: string): S | undefined;
  /** An offer for `path` (the URL after the endpoint): answer it (201) or throw an HTTP error. */
  post(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** DELETE: the client ends the session. */
  end(session: S): Promise<void>;
}

const ENDPOINT_METHODS = 'OPTIONS, POST';
const SESSION_METHODS = 'OPTIONS, PATCH, DELETE';

/** Answers one request under the endpoint (`subpath`: after `/whip/` or `/whep/`); never rejects. */
export async function handleResourceRequest<S extends ResourceSession>(endpoint: ResourceEndpoint<S>, req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
  try {
    await route(endpoint, req, res, subpath);
  } catch (error) {
    const status = statusOf(error);
    if (status === 500) endpoint.logger.error({ err: error, url: req.url }, `${endpoint.name.toLowerCase()} request failed`);
    const message = status === 500 ? 'internal error' : (error as Error).message;
    sendText(res, status, message, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
  }
}

async function route<S extends ResourceSession>(endpoint: ResourceEndpoint<S>, req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
  const method = req.method ?? 'GET';
  const segments = subpath.split('/').filter((s) => s.length > 0);
  const session = endpoint.session(segments.at(-1) ?? '');
  if (session && session.path === segments.slice(0, -1).join('/')) {
    if (method === 'DELETE') return remove(endpoint, res, session);
    if (method === 'PATCH') return patch(endpoint, req, res, session);
    if (method === 'OPTIONS') return preflight(res, SESSION_METHODS, { 'accept-patch': TRICKLE_TYPE });
    return sendText(res, 405, `${method} is not allowed on a ${endpoint.name} session`, { allow: SESSION_METHODS });
  }
  if (method === 'POST') return endpoint.post(req, res, segments.join('/'));
  if (method === 'OPTIONS') return preflight(res, ENDPOINT_METHODS, { 'accept-post': SDP_TYPE });
  if (method === 'DELETE' || method === 'PATCH') throw new HttpError(404, `no such ${endpoint.name} session`);
  // RFC 9110 §15.5.6: a 405 names the allowed methods.
  sendText(res, 405, `${method} is not allowed on a ${endpoint.name} endpoint; POST an SDP offer`, { allow: ENDPOINT_METHODS });
}

function preflight(res: ServerResponse, allow: string, extra: Record<string, string>): void {
  res.writeHead(204, { ...preflightHeaders(allow), ...extra });
  res.end();
}

/** RFC 9725 §4.2: DELETE on the session URL ends it. */
async function remove<S extends ResourceSession>(endpoint: ResourceEndpoint<S>, res: ServerResponse, session: S): Promise<void> {
  await endpoint.end(session);
  res.writeHead(200, { ...CORS_HEADERS, 'content-length': '0' });
  res.end();
}

/**
 * RFC 9725 §4.3: trickle candidates (204). ICE restarts are not supported, which §4.3.1 says
 * to answer with 422; a stale If-Match is 412.
 */
async function patch<S extends ResourceSession>(endpoint: ResourceEndpoint<S>, req: IncomingMessage, res: ServerResponse, session: S): Promise<void> {
  if (mediaType(req) !== TRICKLE_TYPE) throw new HttpError(415, `PATCH bodies must be ${TRICKLE_TYPE}`);
  const ifMatch = req.headers['if-match'];
  if (ifMatch === '*') throw new HttpError(422, 'ICE restarts are not supported; start a new session');
  if (ifMatch !== undefined && ifMatch !== session.etag) throw new HttpError(412, 'the ETag does not match the ICE session');
  const fragment = parseTrickleFragment(decodeUtf8(await readBody(req, endpoint.maxBodyBytes)));
  const current = session.remoteIce;
  if ((fragment.iceUfrag !== undefined && fragment.iceUfrag !== current.ufrag) || (fragment.icePwd !== undefined && fragment.icePwd !== current.pwd)) {
    throw new HttpError(422, 'ICE restarts are not supported; start a new session');
  }
  await session.addCandidates(fragment);
  res.writeHead(204, { ...CORS_HEADERS });
  res.end();
}

export interface OfferChecks {
  /** May this Bearer token use `path` here? Absent: anyone may. */
  authorize?: (path: string, token: string | undefined) => boolean | Promise<boolean>;
  /** The 403 text: what the token may not do (e.g. `not allowed to publish here`). */
  refused: string;
  /** Whether one more session would pass the service's bound (asked once the body is in). */
  full(): boolean;
}

/**
 * RFC 9725 §4.2: the offer POSTed for `path`, after the checks every offer passes in this order:
 * its media type (415), the Bearer token (401/403), its body (size-bounded, UTF-8), room (503).
 */
export async function readOffer<S extends ResourceSession>(endpoint: ResourceEndpoint<S>, req: IncomingMessage, path: string, checks: OfferChecks): Promise<string> {
  if (mediaType(req) !== SDP_TYPE) throw new HttpError(415, `the offer must be sent as ${SDP_TYPE}`);
  const token = bearerToken(req);
  if (checks.authorize && !(await checks.authorize(path, token))) {
    throw new HttpError(token === undefined ? 401 : 403, token === undefined ? 'a Bearer token is required' : checks.refused);
  }
  const offer = decodeUtf8(await readBody(req, endpoint.maxBodyBytes));
  if (checks.full()) throw new HttpError(503, `too many ${endpoint.name} sessions`);
  return offer;
}

/** RFC 9725 §4.2: 201 Created with the answer, the session URL to PATCH/DELETE, and its ETag. */
export function sendAnswer(res: ServerResponse, basePath: string, session: ResourceSession & { readonly id: string }, answerSdp: string): void {
  const base = basePath.endsWith('/') ? basePath : `${basePath}/`;
  res.writeHead(201, {
    ...CORS_HEADERS,
    'content-type': SDP_TYPE,
    location: `${base}${[...session.path.split('/'), session.id].map(encodeURIComponent).join('/')}`,
    etag: session.etag,
    'accept-patch': TRICKLE_TYPE,
    'cache-control': 'no-store',
  });
  res.end(answerSdp);
}

/** A request body as text; not UTF-8 is a bad offer. */
function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new SdpError('the body is not valid UTF-8');
  }
}
