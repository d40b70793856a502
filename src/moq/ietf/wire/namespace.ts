/**
 * Track Namespace tuples and Track Names (draft-16 §2.4.1, draft-14 §2.4.1): a count of
 * length-prefixed byte fields, then (for full track names) a length-prefixed name. Fields are
 * kept as bytes; mapping them to relay paths is the session's business.
 */
import type { ByteReader } from '../../../wire/byte-reader.ts';
import type { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_FULL_TRACK_NAME_BYTES, MAX_NAMESPACE_FIELDS } from '../limits.ts';

export type TrackNamespace = readonly Uint8Array[];

export interface NamespaceRules {
  /** SUBSCRIBE_NAMESPACE prefixes may be empty (draft-16 §9.28); track namespaces may not. */
  allowEmpty: boolean;
}

export function readNamespace(reader: ByteReader, rules: NamespaceRules = { allowEmpty: false }): TrackNamespace {
  // Each field takes at least its one-byte length.
  const count = reader.count('namespace field count', MAX_NAMESPACE_FIELDS, 1);
  if (count === 0 && !rules.allowEmpty) throw violation('track namespace has no fields');
  const fields: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const field = reader.lengthPrefixedBytes();
    if (field.byteLength === 0) throw violation('track namespace field is empty');
    total += field.byteLength;
    if (total > MAX_FULL_TRACK_NAME_BYTES) throw violation(`track namespace exceeds ${MAX_FULL_TRACK_NAME_BYTES} bytes`, 'message-too-large');
    fields.push(field);
  }
  return fields;
}

export function writeNamespace(writer: ByteWriter, namespace: TrackNamespace): void {
  writer.varint(namespace.length);
  for (const field of namespace) writer.lengthPrefixedBytes(field);
}

/** A Track Name following `namespace`; the two together stay within the Full Track Name limit. */
export function readTrackName(reader: ByteReader, namespace: TrackNamespace): Uint8Array {
  const name = reader.lengthPrefixedBytes();
  if (namespaceBytes(namespace) + name.byteLength > MAX_FULL_TRACK_NAME_BYTES) {
    throw violation(`full track name exceeds ${MAX_FULL_TRACK_NAME_BYTES} bytes`, 'message-too-large');
  }
  return name;
}

function namespaceBytes(namespace: TrackNamespace): number {
  let total = 0;
  for (const field of namespace) total += field.byteLength;
  return total;
}

export function namespacesEqual(a: TrackNamespace, b: TrackNamespace): boolean {
  return a.length === b.length && a.every((field, i) => bytesEqual(field, b[i]!));
}

/** Whether `prefix` is a whole-field prefix of `namespace` (draft-16 §8.5 prefix matching). */
export function isNamespacePrefix(prefix: TrackNamespace, namespace: TrackNamespace): boolean {
  return prefix.length <= namespace.length && prefix.every((field, i) => bytesEqual(field, namespace[i]!));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
