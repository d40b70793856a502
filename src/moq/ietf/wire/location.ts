/** Location {Group, Object} (draft-16 §1.4.1) and its ordering. */
import type { ByteReader } from '../../../wire/byte-reader.ts';
import type { ByteWriter } from '../../../wire/byte-writer.ts';

export interface Location {
  group: number;
  object: number;
}

export function readLocation(reader: ByteReader): Location {
  const group = reader.varint();
  return { group, object: reader.varint() };
}

export function writeLocation(writer: ByteWriter, location: Location): void {
  writer.varint(location.group).varint(location.object);
}

export function compareLocations(a: Location, b: Location): number {
  return a.group !== b.group ? a.group - b.group : a.object - b.object;
}
