import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';

/**
 * Where a key comes from, as written in config or on the command line:
 * - a path to a JWK or JWK Set file (JSON, or base64url-encoded JSON as moq-token writes it);
 *   `file:` forces the path reading, and a missing `*.jwk` / `*.json` is an error, not a secret;
 * - inline JWK / JWK Set JSON (starts with `{`), or the parsed object itself;
 * - `base64url:<data>` (or `base64:`): an HS256 secret given as encoded bytes;
 * - anything else: an HS256 secret taken as its UTF-8 bytes.
 */
export type KeySource = string | JWK | { keys: JWK[] };

export type KeyMaterial =
  | { kind: 'secret'; bytes: Uint8Array; origin: string }
  | { kind: 'jwk'; keys: JWK[]; origin: string };

/** A key that cannot be loaded: a configuration mistake, reported at startup rather than per request. */
export class KeyLoadError extends Error {
  override name = 'KeyLoadError';
}

export async function readKeySource(source: KeySource): Promise<KeyMaterial> {
  if (typeof source !== 'string') return { kind: 'jwk', keys: jwkList(source, 'inline JWK'), origin: 'inline JWK' };
  const encoded = /^(base64url|base64):(.*)$/s.exec(source);
  if (encoded) return { kind: 'secret', bytes: decodeBase64(encoded[2]!.trim(), `${encoded[1]} secret`), origin: `${encoded[1]} secret` };
  if (source.trimStart().startsWith('{')) return { kind: 'jwk', keys: jwkList(parseJson(source, 'inline JWK'), 'inline JWK'), origin: 'inline JWK' };
  const forcedPath = source.startsWith('file:') ? source.slice('file:'.length) : undefined;
  const path = forcedPath ?? source;
  if (forcedPath !== undefined || existsSync(path) || /\.(jwk|json)$/i.test(path)) {
    return { kind: 'jwk', keys: jwkList(await readJwkFile(path), path), origin: path };
  }
  // Secrets are never echoed into messages: `origin` names the kind, not the value.
  return { kind: 'secret', bytes: new TextEncoder().encode(source), origin: 'secret' };
}

async function readJwkFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    throw new KeyLoadError(`cannot read key file ${path}: ${(error as Error).message}`);
  }
  if (text.startsWith('{')) return parseJson(text, path);
  // moq-token stores a JWK as base64url(JSON).
  return parseJson(new TextDecoder().decode(decodeBase64(text, path)), path);
}

function jwkList(value: unknown, origin: string): JWK[] {
  if (!isObject(value)) throw new KeyLoadError(`${origin}: not a JWK or JWK Set`);
  if ('keys' in value) {
    const keys = value.keys;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every(isObject)) throw new KeyLoadError(`${origin}: "keys" must be a non-empty list of JWKs`);
    return keys as JWK[];
  }
  if (typeof value.kty !== 'string') throw new KeyLoadError(`${origin}: JWK has no "kty"`);
  return [value as JWK];
}

function parseJson(text: string, origin: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new KeyLoadError(`${origin}: not valid JSON (nor base64url-encoded JSON)`);
  }
}

/** Accepts base64url and standard base64, padded or not. */
export function decodeBase64(text: string, origin: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.length === 0) throw new KeyLoadError(`${origin}: not base64url data`);
  return new Uint8Array(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
