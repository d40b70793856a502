/**
 * Reads one subgroup stream from an IETF publisher into the relay (draft-16 §10.4.2): objects are
 * converted to relay frames and appended to the group, in order, until FIN.
 */
import { RelayError } from '../../../relay/errors.ts';
import type { StreamReader } from '../../../wire/stream-reader.ts';
import type { DataCodec } from '../data/data-codec.ts';
import type { SubgroupHeader } from '../data/objects.ts';
import { readSubgroupObject } from '../data/subgroup-stream.ts';
import { StreamResetCode } from '../errors.ts';
import { streamError } from '../session/stream-error.ts';
import { withTimeout } from '../session/timers.ts';
import type { GroupSlot } from './groups.ts';
import type { IngestSink } from './sink.ts';

/** How long a stream that starts mid-group waits for a joining FETCH to deliver the head. */
const FILL_WAIT_MS = 3_000;

export async function receiveSubgroup(reader: StreamReader, header: SubgroupHeader, sink: IngestSink, data: DataCodec, maxObjectBytes: number): Promise<void> {
  sink.streamOpened();
  let slot: GroupSlot | undefined;
  let endOfGroup = false;
  try {
    const toFrame = await sink.format();
    let previous: number | undefined;
    for (;;) {
      const object = await readSubgroupObject(reader, header, previous, data, maxObjectBytes);
      if (!object) {
        // FIN: with END_OF_GROUP set, nothing follows the last object in this group (§10.4.2).
        endOfGroup = header.endOfGroup;
        break;
      }
      previous = object.objectId;
      if (!slot) {
        slot = sink.groups.acquire(header.groupId, object.objectId);
        const fill = slot ? undefined : sink.fillFor(header.groupId);
        if (!slot && fill) {
          await withTimeout(fill, FILL_WAIT_MS, undefined);
          slot = sink.groups.acquire(header.groupId, object.objectId);
        }
        if (!slot) {
          // Late, or missing its head: a relay group must start at a join point.
          await reader.cancel(streamError(StreamResetCode.cancelled, 'group cannot be joined here'));
          return;
        }
      }
      if (object.status === 'endOfTrack') {
        sink.endOfTrack();
        endOfGroup = true;
        break;
      }
      if (object.status === 'endOfGroup') {
        endOfGroup = true;
        break;
      }
      if (object.status !== 'normal') continue;
      const frame = toFrame(object);
      if (frame) slot.write(object.objectId, frame);
    }
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    // The group outgrew the relay's bound: stop reading this stream.
    await reader.cancel(streamError(StreamResetCode.internalError, error.message));
  } finally {
    slot?.release(endOfGroup);
    sink.streamClosed();
  }
}
