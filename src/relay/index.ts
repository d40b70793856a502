/**
 * The MoQ relay core: origin → broadcast → track → group → frame, as producer/consumer objects.
 * It knows nothing of codecs or wire formats; frames are opaque bytes.
 *
 * - Origin: live broadcasts by path; `publish(broadcast)`, `get(path)`, `watch(prefix)` for
 *   announcements, `addResolver()` for broadcasts held elsewhere (cluster).
 * - Broadcast: tracks created by the publisher (`createTrack`) or on demand through
 *   `onTrackRequest` (one upstream per track, ended when the last subscriber leaves);
 *   `subscribe(name)` for subscribers; `close()`/`abort(err)` end every track.
 * - Track: `appendGroup(seq?)` for the producer; a cache of the latest and previous groups
 *   bounded in bytes; `subscribe()` starts at the latest group with a bounded queue.
 * - TrackSubscription: `nextGroup({newestFirst})` — undefined at a clean end, throws RelayError
 *   when the track was aborted; `droppedGroups` counts groups a slow subscriber lost.
 * - Group: `writeFrame(bytes)`, `close()`, `abort(err)`; `reader().readFrame()` from the start, or
 *   `listen()` for a synchronous call on every change (push fan-out).
 */
export { Origin, AnnouncementWatcher, type Announcement, type BroadcastResolver, type OriginLimits } from './origin.ts';
export { Broadcast, type BroadcastOptions, type TrackRequestHandler } from './broadcast.ts';
export {
  Track,
  TrackSubscription,
  type TrackOptions,
} from './track.ts';
export { Group, GroupReader, type GroupListener } from './group.ts';
export { RelayError, RelayErrorCode } from './errors.ts';
export type { RelayAccess } from './access.ts';
export { normalizePath, hasPrefix, stripPrefix, joinPath } from './path.ts';
