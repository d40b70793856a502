/**
 * Writing one incoming group stream (after its GROUP header) into a relay track: the same for
 * the server (a publishing client's groups) and the client (a node's upstream groups).
 */
import { RelayError, RelayErrorCode, type Group, type Track } from '../../relay/index.ts';
import { StreamAbortedError, StreamResetReason } from '../../wire/errors.ts';
import type { StreamReader } from '../../wire/stream-reader.ts';

export interface GroupReceiver {
  track: Track;
  maxFrameBytes: number;
  counters: { groupsReceived: number; bytesReceived: number };
  /** Readers of groups in progress, so the owner can cancel them when it stops. */
  readers: Set<StreamReader>;
  stopped(): boolean;
}

/** Resolves when the group is done; rejects only with a protocol error (session-fatal). */
export async function receiveGroup(receiver: GroupReceiver, sequence: number, reader: StreamReader): Promise<void> {
  const { track } = receiver;
  let group: Group;
  try {
    if (track.ended || receiver.stopped()) throw new RelayError('track ended', RelayErrorCode.cancelled);
    group = track.appendGroup(sequence);
  } catch (error) {
    await reader.cancel(new StreamResetReason(RelayErrorCode.cancelled, String(error)));
    return;
  }
  receiver.readers.add(reader);
  receiver.counters.groupsReceived++;
  try {
    for (;;) {
      const payload = await reader.messageOrEnd(receiver.maxFrameBytes);
      if (payload === undefined) break;
      // The payload is a view into the transport's chunk; copy small frames so the relay cache
      // does not pin a much larger receive buffer.
      group.writeFrame(payload.byteLength * 2 < payload.buffer.byteLength ? payload.slice() : payload);
      receiver.counters.bytesReceived += payload.byteLength;
    }
    group.close();
  } catch (error) {
    if (error instanceof RelayError) {
      // The group is over for the relay (too large, or the track ended): stop the sender.
      await reader.cancel(new StreamResetReason(error.code, error.message));
    } else if (error instanceof StreamAbortedError) {
      group.abort(new RelayError(`publisher reset group ${sequence}`, RelayErrorCode.publisherGone));
    } else {
      group.abort(new RelayError('publisher protocol error', RelayErrorCode.publisherGone));
      throw error;
    }
  } finally {
    receiver.readers.delete(reader);
  }
}
