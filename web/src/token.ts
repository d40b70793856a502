/**
 * The token the pages use with --auth-key: `?jwt=` on the page's own URL, or the one entered on
 * the dashboard, kept in sessionStorage (this tab only, never put into a URL the page shares).
 */
import type { AccessAnswer } from '../../src/http/api-types.ts';

const STORAGE_KEY = 'moq-gateway.token';

export function pageToken(): string | undefined {
  const fromUrl = new URLSearchParams(location.search).get('jwt');
  if (fromUrl) return fromUrl;
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled
  }
}

export function rememberToken(token: string | undefined): void {
  try {
    if (token) sessionStorage.setItem(STORAGE_KEY, token);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the token lasts as long as the page
  }
}

/** `url` with `?jwt=<token>` added (unchanged without a token). */
export function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  const parsed = new URL(url, location.href);
  parsed.searchParams.set('jwt', token);
  return parsed.toString();
}

/** The answer of GET /access/<broadcast>, as src/http/access-check.ts serves it. */
export type Access = AccessAnswer;

/** What the token allows for `broadcast` (GET /access/<broadcast>). */
export async function checkAccess(broadcast: string, token: string | undefined): Promise<Access> {
  const path = `/access/${broadcast.split('/').map(encodeURIComponent).join('/')}`;
  const response = await fetch(withToken(path, token), { cache: 'no-store', signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as Access;
}

/** A sentence for a person: why this token cannot watch `broadcast`, or undefined when it can. */
export function watchProblem(access: Access, broadcast: string, token: string | undefined): string | undefined {
  if (access.subscribe) return undefined;
  switch (access.refused) {
    case 'missing':
      return `Watching ${broadcast} needs a token: open this page with ?jwt=<token> (mint one with: npx moq-gateway token --key <key> --get ${broadcast}).`;
    case 'expired':
      return `The token has expired. Ask for a new one and open this page with ?jwt=<token>.`;
    case 'not-yet-valid':
      return 'The token is not valid yet (its nbf is in the future; check the clocks).';
    case 'bad-signature':
    case 'unknown-key':
      return 'The token was not signed by this gateway’s key.';
    case 'malformed':
      return 'The ?jwt= value is not a token.';
    default:
      return token ? `The token does not allow watching ${broadcast}.` : `Watching ${broadcast} needs a token: open this page with ?jwt=<token>.`;
  }
}
