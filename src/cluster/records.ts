/**
 * What the cluster keeps in Redis, and how it is spelled:
 * - `<prefix>broadcast:<path>` → `{"node","url"}`: the node that originates the broadcast and the
 *   MoQ URL other nodes subscribe at. Written with a TTL and refreshed by the owner's heartbeat, so
 *   a crashed node's broadcasts expire on their own.
 * - channel `<prefix>announce` ← `{"node","url","path","active"}`: a broadcast started or ended,
 *   so other nodes learn it at once instead of at their next scan.
 * Values are read from a shared store: a malformed one is reported as undefined, never thrown.
 */
import { normalizePath } from '../relay/index.ts';

export interface NodeAddress {
  node: string;
  /** The node's MoQ endpoint, e.g. `http://10.0.0.5:4443/`. */
  url: string;
}

export interface Registration extends NodeAddress {
  path: string;
}

export interface AnnounceMessage extends Registration {
  active: boolean;
}

/** Longest node id, URL or path accepted from Redis (a bound on what one record can cost). */
const MAX_FIELD_CHARS = 4096;

export class ClusterKeys {
  readonly broadcastPrefix: string;
  readonly channel: string;

  constructor(readonly prefix: string) {
    this.broadcastPrefix = `${prefix}broadcast:`;
    this.channel = `${prefix}announce`;
  }

  broadcast(path: string): string {
    return this.broadcastPrefix + path;
  }

  /** SCAN pattern for every broadcast key (glob characters in the prefix escaped). */
  broadcastPattern(): string {
    return `${this.broadcastPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  }

  /** The broadcast path a key names, or undefined if it is not a broadcast key. */
  pathOf(key: string): string | undefined {
    if (!key.startsWith(this.broadcastPrefix)) return undefined;
    const path = normalizePath(key.slice(this.broadcastPrefix.length));
    return path === '' ? undefined : path;
  }
}

export function encodeAddress(address: NodeAddress): string {
  return JSON.stringify({ node: address.node, url: address.url });
}

export function decodeAddress(raw: string): NodeAddress | undefined {
  const value = parseObject(raw);
  if (!value) return undefined;
  const { node, url } = value;
  if (!isField(node) || !isField(url)) return undefined;
  return { node, url };
}

export function encodeAnnounce(message: AnnounceMessage): string {
  return JSON.stringify({ node: message.node, url: message.url, path: message.path, active: message.active });
}

export function decodeAnnounce(raw: string): AnnounceMessage | undefined {
  const value = parseObject(raw);
  if (!value) return undefined;
  const { node, url, path, active } = value;
  if (!isField(node) || !isField(url) || !isField(path) || typeof active !== 'boolean') return undefined;
  const normalized = normalizePath(path);
  if (normalized === '') return undefined;
  return { node, url, path: normalized, active };
}

function parseObject(raw: string): Record<string, unknown> | undefined {
  if (raw.length > 4 * MAX_FIELD_CHARS) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isField(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD_CHARS;
}
