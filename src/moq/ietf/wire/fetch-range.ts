/**
 * FETCH's range: standalone (namespace, name, start, end) or joining (request id, start).
 * The same layout in draft-14 §9.16 and draft-16 (FETCH message), so both codecs share it.
 */
import type { ByteReader } from '../../../wire/byte-reader.ts';
import type { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import type { FetchRange } from '../messages.ts';
import { readLocation, writeLocation } from './location.ts';
import { readNamespace, readTrackName, writeNamespace } from './namespace.ts';

const FetchType = { standalone: 0x1, relativeJoining: 0x2, absoluteJoining: 0x3 } as const;

export function readFetchRange(r: ByteReader): FetchRange {
  const fetchType = r.varint();
  switch (fetchType) {
    case FetchType.standalone: {
      const namespace = readNamespace(r);
      const name = readTrackName(r, namespace);
      const start = readLocation(r);
      return { type: 'standalone', namespace, name, start, end: readLocation(r) };
    }
    case FetchType.relativeJoining:
    case FetchType.absoluteJoining: {
      const joiningRequestId = r.varint();
      const joiningStart = r.varint();
      return { type: fetchType === FetchType.relativeJoining ? 'relativeJoining' : 'absoluteJoining', joiningRequestId, joiningStart };
    }
    default:
      throw violation(`unknown fetch type ${fetchType}`);
  }
}

export function writeFetchRange(w: ByteWriter, range: FetchRange): void {
  if (range.type === 'standalone') {
    w.varint(FetchType.standalone);
    writeNamespace(w, range.namespace);
    w.lengthPrefixedBytes(range.name);
    writeLocation(w, range.start);
    writeLocation(w, range.end);
    return;
  }
  w.varint(FetchType[range.type]).varint(range.joiningRequestId).varint(range.joiningStart);
}
