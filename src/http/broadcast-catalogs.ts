import { CATALOG_TRACK, type CatalogTrackSummary, summarizeCatalog, TRACK_PRIORITY } from '../media/hang/catalog.ts';
import type { Broadcast, TrackSubscription } from '../relay/index.ts';

/** A catalog subscription the API no longer looks at is dropped after this long. */
const IDLE_MS = 30_000;
/** The first look at a broadcast waits this long for its catalog (a worker answers the others within 1 s). */
const FIRST_WAIT_MS = 500;
/** A catalog track that ended while its broadcast lives is asked for again after this long. */
const RETRY_MS = 5000;

interface Entry {
  subscription: TrackSubscription;
  tracks: CatalogTrackSummary[];
  lastLook: number;
  /** Settles at the first catalog, or when the catalog track ends without one. */
  first: Promise<void>;
  settle: () => void;
  /** When the catalog subscription ended by itself (track gone upstream), if it has. */
  endedAt: number | undefined;
}

/**
 * The catalogs of broadcasts whose publisher the gateway does not hold itself (MoQ publishers,
 * broadcasts of other nodes or workers), for /api/broadcasts: their relay tracks exist only while
 * someone subscribes, so only the catalog (`catalog.json`, hang §Catalog; an IETF publisher's MSF
 * catalog is stored as one) names them. One catalog subscription per such broadcast, held while
 * the API keeps looking at it: dropped 30 s after the last look or when the broadcast ends.
 * These subscriptions are the API's, not viewers: they are made for `owner`.
 */
export class BroadcastCatalogs {
  readonly owner = {};
  readonly #entries = new Map<Broadcast, Entry>();
  #sweep: NodeJS.Timeout | undefined;

  /** The tracks the broadcast's latest catalog lists; the first look waits up to half a second for it. */
  async tracks(broadcast: Broadcast): Promise<CatalogTrackSummary[]> {
    let entry = this.#entries.get(broadcast);
    if (entry?.endedAt !== undefined && Date.now() - entry.endedAt > RETRY_MS) {
      this.#entries.delete(broadcast);
      entry = undefined;
    }
    if (!entry) {
      entry = this.#watch(broadcast);
      if (!entry) return [];
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([entry.first, new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_WAIT_MS)))]);
      clearTimeout(timer);
    }
    entry.lastLook = Date.now();
    return entry.tracks;
  }

  /** Drop every subscription (shutdown). */
  close(): void {
    for (const entry of this.#entries.values()) entry.subscription.close();
    this.#entries.clear();
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #watch(broadcast: Broadcast): Entry | undefined {
    const subscription = broadcast.subscribe(CATALOG_TRACK, TRACK_PRIORITY.catalog, this.owner);
    if (!subscription) return undefined;
    let settle!: () => void;
    const first = new Promise<void>((resolve) => (settle = resolve));
    const entry: Entry = { subscription, tracks: [], lastLook: Date.now(), first, settle, endedAt: undefined };
    this.#entries.set(broadcast, entry);
    void follow(entry).finally(() => {
      entry.endedAt = Date.now();
      settle();
    });
    this.#sweep ??= setInterval(() => this.#dropIdle(), IDLE_MS / 3).unref();
    return entry;
  }

  #dropIdle(): void {
    const now = Date.now();
    for (const [broadcast, entry] of this.#entries) {
      if (!broadcast.ended && now - entry.lastLook < IDLE_MS) continue;
      entry.subscription.close();
      this.#entries.delete(broadcast);
    }
    if (this.#entries.size === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }
}

/** Reads the catalog group by group until the subscription ends; keeps the last good one. */
async function follow(entry: Entry): Promise<void> {
  try {
    for (;;) {
      const group = await entry.subscription.nextGroup();
      if (!group) return;
      const frame = await group.reader().readFrame();
      if (!frame) continue;
      try {
        entry.tracks = summarizeCatalog(frame);
      } catch {
        continue; // not a catalog: keep what the last good one said
      }
      entry.settle();
    }
  } catch {
    // The catalog track was aborted or does not exist: nothing to list.
  }
}
