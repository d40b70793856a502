/**
 * A relay broadcast fed by an IETF publisher, announced with PUBLISH_NAMESPACE (tracks are then
 * subscribed upstream on demand, §8.4) and/or pushed track by track with PUBLISH.
 *
 * To moq-lite subscribers it looks like a hang broadcast: an MSF `catalog` becomes `catalog.json`
 * and LOC objects become legacy frames; a publisher that already speaks hang (`catalog.json`) or
 * has no catalog at all is stored as it is.
 */
import { Broadcast } from '../../../relay/broadcast.ts';
import { RelayError, RelayErrorCode } from '../../../relay/errors.ts';
import { Track } from '../../../relay/track.ts';
import { CATALOG_TRACK, TRACK_PRIORITY } from '../../../media/hang/catalog.ts';
import { MSF_CATALOG_TRACK } from '../../../media/msf/catalog.ts';
import { msfToHangCatalog, type ObjectToFrame, payloadOnly } from '../bridge/ingest-format.ts';
import { relayPriority } from '../egress/send-order.ts';
import { DEFAULT_PRIORITY, type Publish } from '../messages.ts';
import type { TrackNamespace } from '../wire/namespace.ts';
import { CatalogModeState, formatFor } from './catalog-mode.ts';
import { PublishedTrack } from './published-track.ts';
import { type UpstreamDeps, UpstreamTrack } from './upstream-track.ts';

export interface IngestDeps extends UpstreamDeps {
  /** How long media tracks wait for the catalog to say how to convert them. */
  catalogWaitMs: number;
}

export class IngestBroadcast {
  readonly broadcast: Broadcast;
  readonly mode = new CatalogModeState();
  /** Set while a PUBLISH_NAMESPACE for this path is in force. */
  announceRequestId: number | undefined;
  readonly #pushed = new Map<string, PublishedTrack>();
  #catalogRequested = false;
  #catalogRefused = false;

  constructor(
    private readonly deps: IngestDeps,
    readonly path: string,
    readonly namespace: TrackNamespace,
    info: Record<string, string>,
  ) {
    this.broadcast = new Broadcast(path, { onTrackRequest: (name, priority) => this.#requestTrack(name, priority), info });
  }

  get announced(): boolean {
    return this.announceRequestId !== undefined;
  }

  get pushedTracks(): number {
    return this.#pushed.size;
  }

  /** A relay subscriber wants a track the publisher has not pushed: subscribe upstream. */
  #requestTrack(name: string, priority: number): Track | undefined {
    if (!this.announced) return undefined;
    const track = new Track(name, { priority });
    if (name === CATALOG_TRACK) {
      if (this.#catalogRefused) return undefined;
      this.#catalogRequested = true;
      void track.closed().then((error) => {
        if (error?.code === RelayErrorCode.notFound) {
          this.#catalogRefused = true;
          this.mode.settle({ kind: 'none' });
        }
      });
      new UpstreamTrack(this.deps, this.namespace, track, [
        { ietfName: MSF_CATALOG_TRACK, format: async () => msfToHangCatalog((catalog) => this.mode.settle({ kind: 'msf', catalog })) },
        { ietfName: CATALOG_TRACK, format: async () => payloadOnly, onAccepted: () => this.mode.settle({ kind: 'hang' }) },
      ]).start();
      return track;
    }
    new UpstreamTrack(this.deps, this.namespace, track, [{ ietfName: name, format: () => this.#mediaFormat(name) }]).start();
    if (name !== MSF_CATALOG_TRACK) this.#discoverCatalog();
    return track;
  }

  /** Media needs the catalog to know its format; ask for it if no one has yet. */
  #discoverCatalog(): void {
    if (this.#catalogRequested || this.mode.current) return;
    this.#catalogRequested = true;
    this.broadcast.getTrack(CATALOG_TRACK, TRACK_PRIORITY.catalog);
  }

  #mediaFormat(ietfName: string): Promise<ObjectToFrame> {
    return this.mode.wait(this.deps.catalogWaitMs).then((mode) => formatFor(mode, ietfName));
  }

  /** PUBLISH: a track pushed by the publisher. Throws RelayError when the name is taken. */
  pushTrack(message: Publish, ietfName: string): PublishedTrack {
    let relayName = ietfName;
    let format: () => Promise<ObjectToFrame>;
    if (ietfName === MSF_CATALOG_TRACK) {
      relayName = CATALOG_TRACK;
      const convert = msfToHangCatalog((catalog) => this.mode.settle({ kind: 'msf', catalog }));
      format = async () => convert;
    } else if (ietfName === CATALOG_TRACK) {
      this.mode.settle({ kind: 'hang' });
      format = async () => payloadOnly;
    } else {
      format = () => this.#mediaFormat(ietfName);
    }
    const priority = relayPriority(message.properties.publisherPriority ?? DEFAULT_PRIORITY);
    const track = this.broadcast.createTrack(relayName, { priority });
    const pushed = new PublishedTrack(message.requestId, message.trackAlias, track, format);
    this.#pushed.set(relayName, pushed);
    void track.closed().then(() => {
      if (this.#pushed.get(relayName) === pushed) this.#pushed.delete(relayName);
      if (!this.announced && this.#pushed.size === 0) this.broadcast.close();
    });
    return pushed;
  }

  /** PUBLISH_NAMESPACE_DONE: no new subscriptions; the broadcast ends unless tracks are still pushed. */
  unannounce(): void {
    this.announceRequestId = undefined;
    if (this.#pushed.size === 0) this.broadcast.close();
  }

  /** The session ended under the broadcast. */
  abort(reason: string): void {
    this.broadcast.abort(new RelayError(reason, RelayErrorCode.publisherGone));
  }
}
