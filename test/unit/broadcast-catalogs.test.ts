import { describe, expect, it } from 'vitest';
import { BroadcastCatalogs } from '../../src/http/broadcast-catalogs.ts';
import { encodeCatalog } from '../../src/media/hang/catalog.ts';
import type { TrackInfo } from '../../src/media/frame.ts';
import { Broadcast, Track } from '../../src/relay/index.ts';

const CATALOG = encodeCatalog(new Map<string, TrackInfo>([['video', { kind: 'video', codec: 'avc1.64001f', codedWidth: 64, codedHeight: 64 }]]));

/** A broadcast like a MoQ publisher's: its tracks exist only when asked for. */
function onDemand(serve: (track: Track) => void): { broadcast: Broadcast; requests: string[] } {
  const requests: string[] = [];
  const broadcast = new Broadcast('live/moq', {
    onTrackRequest: (name) => {
      requests.push(name);
      const track = new Track(name);
      serve(track);
      return track;
    },
  });
  return { broadcast, requests };
}

describe('BroadcastCatalogs (the API view of a MoQ-published broadcast)', () => {
  it('lists the catalog, follows its updates, and its subscription is not a viewer', async () => {
    let catalogTrack: Track | undefined;
    const { broadcast, requests } = onDemand((track) => {
      catalogTrack = track;
      setTimeout(() => {
        const group = track.appendGroup();
        group.writeFrame(CATALOG);
        group.close();
      }, 50);
    });
    const catalogs = new BroadcastCatalogs();
    expect(await catalogs.tracks(broadcast)).toEqual([{ name: 'video', kind: 'video', codec: 'avc1.64001f' }]);
    expect(requests).toEqual(['catalog.json']);
    expect([...broadcast.subscriberOwners()]).toEqual([catalogs.owner]);
    // A new catalog replaces the listing; a malformed one is ignored.
    const next = catalogTrack!.appendGroup();
    next.writeFrame(new TextEncoder().encode('{"audio":{"renditions":{"mic":{"codec":"opus","container":{"kind":"cmaf"}}}}}'));
    next.close();
    const bad = catalogTrack!.appendGroup();
    bad.writeFrame(new TextEncoder().encode('not json'));
    bad.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await catalogs.tracks(broadcast)).toEqual([{ name: 'mic', kind: 'audio', codec: 'opus' }]);
    expect(requests).toHaveLength(1); // one subscription, held
    catalogs.close();
    expect(broadcast.subscriberOwners().size).toBe(0);
  });

  it('a broadcast whose catalog never comes is listed empty after half a second, and not asked again at once', async () => {
    const { broadcast, requests } = onDemand(() => undefined);
    const catalogs = new BroadcastCatalogs();
    const started = Date.now();
    expect(await catalogs.tracks(broadcast)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    const again = Date.now();
    expect(await catalogs.tracks(broadcast)).toEqual([]);
    expect(Date.now() - again).toBeLessThan(100);
    expect(requests).toEqual(['catalog.json']);
    catalogs.close();
  });
});
