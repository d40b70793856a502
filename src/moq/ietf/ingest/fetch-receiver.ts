/**
 * Reads a FETCH response stream (draft-16 §10.4.4) for a joining FETCH the relay sent upstream:
 * the head of the group a subscription joined in the middle of, written ahead of the
 * subscription's own objects for that group.
 */
import { RelayError } from '../../../relay/errors.ts';
import type { StreamReader } from '../../../wire/stream-reader.ts';
import type { DataCodec } from '../data/data-codec.ts';
import type { FetchObject } from '../data/objects.ts';
import type { GroupSlot } from './groups.ts';
import type { IngestSink } from './sink.ts';

export async function receiveFetch(reader: StreamReader, sink: IngestSink, data: DataCodec, maxObjectBytes: number): Promise<void> {
  const toFrame = await sink.format();
  let previous: FetchObject | undefined;
  let slot: GroupSlot | undefined;
  try {
    for (;;) {
      const next = await data.readFetchObject(reader, previous, maxObjectBytes);
      if (!next) break;
      if ('endOfRange' in next) continue;
      previous = next;
      if (slot && slot.groupId !== next.groupId) {
        slot.release(false);
        slot = undefined;
      }
      slot ??= sink.groups.acquire(next.groupId, next.objectId);
      if (!slot || next.status !== 'normal') continue;
      const frame = toFrame(next);
      if (frame) slot.write(next.objectId, frame);
    }
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
  } finally {
    slot?.release(false);
  }
}
