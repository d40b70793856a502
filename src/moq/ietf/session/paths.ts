/**
 * Namespace tuples ↔ relay paths: ('live','demo') ↔ `live/demo`, under the session's root. A field
 * must be non-empty UTF-8 without '/', or it has no relay path (the request is refused, the session
 * goes on).
 */
import { joinPath, normalizePath, stripPrefix, hasPrefix } from '../../../relay/path.ts';
import type { TrackNamespace } from '../wire/namespace.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export function namespaceToPath(root: string, namespace: TrackNamespace): string | undefined {
  const segments: string[] = [];
  for (const field of namespace) {
    const segment = decode(field);
    if (segment === undefined || segment === '' || segment.includes('/')) return undefined;
    segments.push(segment);
  }
  return joinPath(normalizePath(root), segments.join('/'));
}

/** The namespace for a relay path, or undefined when the path is not under the root. */
export function pathToNamespace(root: string, path: string): TrackNamespace | undefined {
  const base = normalizePath(root);
  const full = normalizePath(path);
  if (!hasPrefix(full, base)) return undefined;
  const relative = stripPrefix(full, base);
  return relative === '' ? [] : relative.split('/').map((segment) => encoder.encode(segment));
}

/** Relay track names are strings; a name that is not UTF-8 cannot exist in the relay. */
export function trackNameToString(name: Uint8Array): string | undefined {
  return decode(name);
}

export function stringToBytes(value: string): Uint8Array {
  return encoder.encode(value);
}

function decode(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
