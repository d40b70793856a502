/**
 * OBJECT_DATAGRAMs from an IETF publisher (draft-16 §10.3): each carries one object, in any order.
 * Per track, the newest group gets a writer; objects are converted and appended in arrival order
 * (older or repeated objects of that group are skipped by IngestGroups). Conversion may wait for
 * the catalog, so each track queues its datagrams rather than stalling the shared reader — the
 * transport drops datagrams a slow reader leaves queued.
 */
import type { DatagramObject } from '../data/objects.ts';
import type { GroupSlot } from './groups.ts';
import type { IngestSink } from './sink.ts';

/** Datagrams held per track while its format is still unknown. */
const MAX_QUEUED = 1024;

interface TrackState {
  groupId?: number;
  slot?: GroupSlot;
  queued: number;
  chain: Promise<void>;
}

export class DatagramReceiver {
  readonly #tracks = new WeakMap<IngestSink, TrackState>();

  receive(sink: IngestSink, object: DatagramObject): void {
    let state = this.#tracks.get(sink);
    if (!state) {
      state = { queued: 0, chain: Promise.resolve() };
      this.#tracks.set(sink, state);
    }
    if (state.queued >= MAX_QUEUED) return;
    state.queued++;
    const track = state;
    track.chain = track.chain
      .then(async () => {
        const toFrame = await sink.format();
        this.#store(sink, track, object, toFrame(object));
      })
      .catch(() => undefined)
      .finally(() => {
        track.queued--;
      });
  }

  #store(sink: IngestSink, state: TrackState, object: DatagramObject, frame: Uint8Array | undefined): void {
    if (state.groupId !== object.groupId) {
      state.slot?.release(false);
      state.groupId = object.groupId;
      state.slot = sink.groups.acquire(object.groupId, object.objectId, true);
    }
    if (object.status === 'endOfTrack') sink.endOfTrack();
    if (state.slot && object.status === 'normal' && frame) {
      try {
        state.slot.write(object.objectId, frame);
      } catch {
        state.slot.release(false);
        state.slot = undefined;
      }
    }
    if (object.endOfGroup || object.status === 'endOfGroup') {
      state.slot?.release(true);
      state.slot = undefined;
    }
  }
}
