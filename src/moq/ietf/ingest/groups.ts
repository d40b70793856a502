/**
 * Writes an IETF publisher's objects into relay groups. A relay group is an ordered run of frames
 * that a subscriber joins at its start, so:
 *
 * - a group is opened only by its first object (ID 0) — a stream that starts mid-group, e.g. from
 *   a Largest Object subscription, is dropped unless a joining FETCH filled the head first;
 * - objects are appended in increasing Object ID order; repeats (a FETCH and a subscription both
 *   carrying the head) are skipped;
 * - a group closes when its END_OF_GROUP stream finishes, when a newer group opens, or after a
 *   quiet spell; groups older than the newest one opened are not reopened.
 */
import type { Group } from '../../../relay/group.ts';
import type { Track } from '../../../relay/track.ts';

/** A group with no writers closes after this long without a newer group appearing. */
const IDLE_CLOSE_MS = 5_000;

interface OpenGroup {
  group: Group;
  lastObject: number;
  writers: number;
  idle?: ReturnType<typeof setTimeout>;
}

export interface GroupSlot {
  readonly groupId: number;
  /** Appends object `objectId`; false when it is not after the last one written (skipped). Throws RelayError when the group overflows. */
  write(objectId: number, frame: Uint8Array): boolean;
  /** The writer is done; `endOfGroup` when its stream proved the group complete. */
  release(endOfGroup: boolean): void;
}

export class IngestGroups {
  readonly #open = new Map<number, OpenGroup>();
  #highest = -1;

  constructor(private readonly track: Track) {}

  /**
   * A writer for group `groupId` starting at `firstObjectId`, or undefined when it cannot be
   * stored. `viaDatagrams`: the group's first object came as an OBJECT_DATAGRAM.
   */
  acquire(groupId: number, firstObjectId: number, viaDatagrams = false): GroupSlot | undefined {
    if (this.track.ended) return undefined;
    let entry = this.#open.get(groupId);
    if (!entry) {
      if (groupId <= this.#highest || firstObjectId !== 0) return undefined;
      entry = { group: this.track.appendGroup(groupId, viaDatagrams), lastObject: -1, writers: 0 };
      this.#open.set(groupId, entry);
      this.#highest = groupId;
      this.#closeOlderIdle(groupId);
    }
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = undefined;
    entry.writers++;
    const open = entry;
    let released = false;
    return {
      groupId,
      write: (objectId, frame) => {
        if (objectId <= open.lastObject || open.group.done) return false;
        open.lastObject = objectId;
        open.group.writeFrame(frame);
        return true;
      },
      release: (endOfGroup) => {
        if (released) return;
        released = true;
        open.writers--;
        if (open.writers > 0) return;
        if (endOfGroup || groupId < this.#highest || open.group.done) this.#close(groupId);
        else this.#armIdle(groupId, open);
      },
    };
  }

  /** Closes every open group (the track is ending). */
  closeAll(): void {
    for (const groupId of [...this.#open.keys()]) this.#close(groupId);
  }

  #closeOlderIdle(newest: number): void {
    for (const [groupId, entry] of this.#open) if (groupId < newest && entry.writers === 0) this.#close(groupId);
  }

  #armIdle(groupId: number, entry: OpenGroup): void {
    entry.idle = setTimeout(() => this.#close(groupId), IDLE_CLOSE_MS);
    (entry.idle as { unref?: () => void }).unref?.();
  }

  #close(groupId: number): void {
    const entry = this.#open.get(groupId);
    if (!entry) return;
    if (entry.idle) clearTimeout(entry.idle);
    this.#open.delete(groupId);
    entry.group.close();
  }
}
