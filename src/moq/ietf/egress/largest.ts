/** Largest Object of a relay track (draft-16 §5.1.2): the last frame of the newest non-empty group. */
import type { Track } from '../../../relay/track.ts';
import type { Location } from '../wire/location.ts';

export function largestLocation(track: Track): Location | undefined {
  const groups = track.cachedGroups();
  for (let i = groups.length - 1; i >= 0; i--) {
    const group = groups[i]!;
    if (group.frames.length > 0) return { group: group.sequence, object: group.frames.length - 1 };
  }
  return undefined;
}
