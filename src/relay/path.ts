/**
 * Broadcast paths are `/`-separated names without leading or trailing slashes (`live/demo`).
 * Prefix matching is by whole segments: `live` matches `live/demo` but not `lively/x`
 * (moq-lite §Announce: paths are compared segment-wise).
 */
export function normalizePath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment.length > 0)
    .join('/');
}

export function hasPrefix(path: string, prefix: string): boolean {
  if (prefix === '') return true;
  return path === prefix || path.startsWith(prefix + '/');
}

/** `path` relative to `prefix` (which it must have), e.g. (`live/demo`, `live`) → `demo`. */
export function stripPrefix(path: string, prefix: string): string {
  if (prefix === '') return path;
  if (path === prefix) return '';
  if (!path.startsWith(prefix + '/')) throw new Error(`${path} is not under ${prefix}`);
  return path.slice(prefix.length + 1);
}

export function joinPath(prefix: string, suffix: string): string {
  return normalizePath(prefix === '' ? suffix : `${prefix}/${suffix}`);
}
