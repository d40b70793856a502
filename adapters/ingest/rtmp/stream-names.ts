/**
 * How RTMP URLs become broadcast names. `rtmp://host/<app>/<stream>?<query>` reaches us split
 * in two commands: `connect` carries `app` (and `tcUrl`, the URL the client dialled) and
 * `publish` carries the stream name. Query strings are credentials, never part of a name: OBS
 * and librtmp leave a server URL's query in `app`/`tcUrl`, ffmpeg leaves the URL's query on the
 * stream name. Broadcast = `<app>/<stream>`.
 */

export class StreamNameError extends Error {
  override name = 'StreamNameError';
}

const MAX_NAME_LENGTH = 256;

interface NameAndQuery {
  name: string;
  query: string;
}

function splitQuery(raw: string): NameAndQuery {
  const at = raw.indexOf('?');
  return at < 0 ? { name: raw, query: '' } : { name: raw.slice(0, at), query: raw.slice(at + 1) };
}

/** A stream or app name fit for a log line: its query (credentials) replaced by `?…`. */
export function withoutCredentials(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const { name, query } = splitQuery(raw);
  return query === '' ? name : `${name}?…`;
}

/** Trim slashes and refuse names that cannot safely become a path (empty, `..`, control chars). */
function checkedName(raw: string, what: string): string {
  const name = raw.replace(/^\/+|\/+$/g, '');
  if (name === '') throw new StreamNameError(`empty ${what}`);
  if (name.length > MAX_NAME_LENGTH) throw new StreamNameError(`${what} longer than ${MAX_NAME_LENGTH} characters`);
  if (/[\x00-\x1f\x7f\\]/.test(name)) throw new StreamNameError(`${what} contains control characters or backslashes`);
  if (name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new StreamNameError(`${what} has an empty, '.' or '..' path segment`);
  }
  return name;
}

export interface PublishTarget {
  /** `<app>/<stream>`. */
  broadcast: string;
  /** Merged query: from `app` (or `tcUrl` when `app` has none), then the stream name's, which wins. */
  query: URLSearchParams;
}

/** Throws StreamNameError for an empty or unsafe app or stream name. */
export function resolvePublishTarget(app: string, tcUrl: string | undefined, publishName: string): PublishTarget {
  const fromApp = splitQuery(app);
  const fromStream = splitQuery(publishName);
  const appName = checkedName(fromApp.name, 'application name');
  const streamName = checkedName(fromStream.name, 'stream name');
  const connectQuery = fromApp.query !== '' ? fromApp.query : tcUrl !== undefined ? splitQuery(tcUrl).query : '';
  const query = new URLSearchParams(connectQuery);
  for (const [key, value] of new URLSearchParams(fromStream.query)) query.set(key, value);
  return { broadcast: `${appName}/${streamName}`, query };
}
