/**
 * Request and response field validation (RFC 9114 §4.2, §4.3; extended CONNECT RFC 9220 §3).
 * A malformed message is a stream error of type H3_MESSAGE_ERROR (§4.1.2): only that request
 * (or WebTransport session) is affected.
 */
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import type { FieldLine } from './qpack.ts';

export interface RequestHead {
  readonly method: string;
  /** RFC 9220 `:protocol` of an extended CONNECT. */
  readonly protocol: string | undefined;
  readonly scheme: string | undefined;
  readonly authority: string | undefined;
  readonly path: string | undefined;
  /** Regular fields by lowercase name; repeated fields joined with ", " (RFC 9110 §5.3). */
  readonly headers: ReadonlyMap<string, string>;
}

export interface ResponseHead {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
}

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
/** §4.2: connection-specific fields are malformed in HTTP/3. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const VALID_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const INVALID_VALUE = /[\0\r\n]|^[ \t]|[ \t]$/;

const malformed = (message: string): Http3Error => new Http3Error(H3ErrorCode.MessageError, message);

/** Splits pseudo-header and regular fields, enforcing the shared rules. */
function splitFields(fields: readonly FieldLine[], allowedPseudo: ReadonlySet<string>): { pseudo: Map<string, string>; headers: Map<string, string> } {
  const pseudo = new Map<string, string>();
  const headers = new Map<string, string>();
  for (const [name, value] of fields) {
    if (INVALID_VALUE.test(value)) throw malformed(`invalid value for ${name}`);
    if (name.startsWith(':')) {
      if (headers.size > 0) throw malformed('pseudo-header after regular field');
      if (!allowedPseudo.has(name)) throw malformed(`unexpected pseudo-header ${name}`);
      if (pseudo.has(name)) throw malformed(`duplicate ${name}`);
      pseudo.set(name, value);
      continue;
    }
    if (!VALID_NAME.test(name)) throw malformed(`invalid field name ${JSON.stringify(name)}`);
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value !== 'trailers')) throw malformed(`connection-specific field ${name}`);
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { pseudo, headers };
}

export function parseRequestHead(fields: readonly FieldLine[]): RequestHead {
  const { pseudo, headers } = splitFields(fields, REQUEST_PSEUDO);
  const method = pseudo.get(':method');
  if (!method) throw malformed('missing :method');
  const head: RequestHead = {
    method,
    protocol: pseudo.get(':protocol'),
    scheme: pseudo.get(':scheme'),
    authority: pseudo.get(':authority'),
    path: pseudo.get(':path'),
    headers,
  };
  if (method === 'CONNECT' && head.protocol === undefined) {
    // §4.4 classic CONNECT: only :authority.
    if (head.scheme !== undefined || head.path !== undefined || !head.authority) throw malformed('malformed CONNECT');
  } else {
    if (head.protocol !== undefined && method !== 'CONNECT') throw malformed(':protocol outside CONNECT');
    if (!head.scheme || !head.path) throw malformed('missing :scheme or :path');
    if (head.protocol !== undefined && !head.authority) throw malformed('extended CONNECT without :authority');
  }
  return head;
}

export function parseResponseHead(fields: readonly FieldLine[]): ResponseHead {
  const { pseudo, headers } = splitFields(fields, new Set([':status']));
  const status = Number(pseudo.get(':status'));
  if (!Number.isInteger(status) || status < 100 || status > 999) throw malformed('missing or invalid :status');
  return { status, headers };
}

/** draft-ietf-webtrans-http3 §3.2 (`webtransport-h3`) and draft-02 (`webtransport`). */
export function isWebTransportConnect(head: RequestHead): boolean {
  return head.method === 'CONNECT' && (head.protocol === 'webtransport' || head.protocol === 'webtransport-h3');
}
