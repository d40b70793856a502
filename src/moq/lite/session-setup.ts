/**
 * The native lite-01/02 session stream (bidi type 0): SESSION_CLIENT lists versions and
 * extensions, SESSION_SERVER picks one, then SESSION_INFO messages (bitrate) may follow on the
 * same stream. lite-03 removed all of it (Appendix A). The reference client reaches 01/02 through
 * the `moql` compat stream instead, but after that handshake it still reads SESSION_INFO from it.
 */
import type { ByteReader } from '../../wire/byte-reader.ts';
import type { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError } from '../../wire/errors.ts';
import { decodeMessage, encodeMessage } from './message.ts';

const MAX_VERSIONS = 128;
const MAX_EXTENSIONS = 64;

/** Extension id → opaque value (every value is length-prefixed). */
export type SessionExtensions = Map<bigint, Uint8Array>;

export interface SessionClient {
  versions: number[];
  extensions: SessionExtensions;
}

export interface SessionServer {
  version: number;
  extensions: SessionExtensions;
}

export interface SessionInfo {
  /** Estimated bitrate in bits per second. */
  bitrate: number;
}

export function encodeSessionClient(message: SessionClient): Uint8Array {
  return encodeMessage((w) => {
    w.varint(message.versions.length);
    for (const version of message.versions) w.varint(version);
    writeExtensions(w, message.extensions);
  });
}

export function decodeSessionClient(body: Uint8Array): SessionClient {
  return decodeMessage(body, 'SESSION_CLIENT', (r) => {
    const count = r.count('version count', MAX_VERSIONS);
    const versions: number[] = [];
    for (let i = 0; i < count; i++) versions.push(r.varint());
    return { versions, extensions: readExtensions(r) };
  });
}

export function encodeSessionServer(message: SessionServer): Uint8Array {
  return encodeMessage((w) => {
    w.varint(message.version);
    writeExtensions(w, message.extensions);
  });
}

export function decodeSessionServer(body: Uint8Array): SessionServer {
  return decodeMessage(body, 'SESSION_SERVER', (r) => ({ version: r.varint(), extensions: readExtensions(r) }));
}

export function encodeSessionInfo(message: SessionInfo): Uint8Array {
  return encodeMessage((w) => w.varint(message.bitrate));
}

export function decodeSessionInfo(body: Uint8Array): SessionInfo {
  return decodeMessage(body, 'SESSION_INFO', (r) => ({ bitrate: r.varint() }));
}

function writeExtensions(writer: ByteWriter, extensions: SessionExtensions): void {
  writer.varint(extensions.size);
  for (const [id, value] of extensions) writer.varint(id).lengthPrefixedBytes(value);
}

function readExtensions(reader: ByteReader): SessionExtensions {
  const count = reader.count('extension count', MAX_EXTENSIONS, 2);
  const extensions: SessionExtensions = new Map();
  for (let i = 0; i < count; i++) {
    const id = reader.varintBig();
    if (extensions.has(id)) throw new ProtocolError('invalid-value', `duplicate extension 0x${id.toString(16)}`);
    extensions.set(id, reader.lengthPrefixedBytes());
  }
  return extensions;
}
