/**
 * Reads a broadcast's current hang catalog (`catalog.json`, draft-lcurley-moq-hang §Catalog) to
 * decide how its tracks look to IETF subscribers. A broadcast without one (a raw IETF publisher)
 * yields undefined and its tracks pass through untouched.
 */
import type { Broadcast } from '../../../src/relay/broadcast.ts';
import type { Group } from '../../../src/relay/group.ts';
import { CATALOG_TRACK, parseCatalog } from '../../../src/media/hang/catalog.ts';
import type { TrackInfo } from '../../../src/media/frame.ts';
import { withTimeout } from '../../../src/moq/ietf/session/timers.ts';

export type HangCatalog = Map<string, TrackInfo>;

/** Latest catalog of the broadcast, waiting up to `timeoutMs` for one to arrive. */
export async function probeHangCatalog(broadcast: Broadcast, timeoutMs: number): Promise<HangCatalog | undefined> {
  const existing = broadcast.tracks().find((track) => track.name === CATALOG_TRACK && !track.ended);
  const ready = existing && firstFrame(existing.latest);
  if (ready) return parse(ready);

  const track = existing ?? broadcast.getTrack(CATALOG_TRACK, 100);
  if (!track) return undefined;
  const subscription = track.subscribe();
  try {
    const frame = await withTimeout(
      (async () => {
        const group = await subscription.nextGroup();
        return group ? await group.reader().readFrame() : undefined;
      })(),
      timeoutMs,
      undefined,
    );
    return frame ? parse(frame) : undefined;
  } catch {
    // The catalog track failed (no such track upstream): nothing to convert.
    return undefined;
  } finally {
    subscription.close();
  }
}

/** The broadcast's current catalog.json frame, if one is cached (no waiting). */
export function latestHangCatalogFrame(broadcast: Broadcast): Uint8Array | undefined {
  const track = broadcast.tracks().find((t) => t.name === CATALOG_TRACK && !t.ended);
  return track && firstFrame(track.latest);
}

export function parse(frame: Uint8Array): HangCatalog | undefined {
  try {
    return parseCatalog(frame);
  } catch {
    return undefined;
  }
}

function firstFrame(group: Group | undefined): Uint8Array | undefined {
  return group?.frames[0];
}
