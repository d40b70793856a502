/**
 * Whether a relay track that an IETF publisher serves on demand has its upstream subscription
 * established yet. draft-16 §8.4: a relay answers a SUBSCRIBE only once it has an Established
 * upstream subscription, so egress waits on this; tracks nobody registered are ready at once.
 */
import type { Track } from '../../relay/track.ts';

const readiness = new WeakMap<Track, Promise<void>>();

export function setTrackReadiness(track: Track, ready: Promise<void>): void {
  ready.catch(() => undefined);
  readiness.set(track, ready);
}

/** Resolves when upstream accepted the track; rejects (RelayError) when it refused. */
export function trackReady(track: Track): Promise<void> {
  return readiness.get(track) ?? Promise.resolve();
}
