/**
 * A relay broadcast fed by an IETF publisher, announced with PUBLISH_NAMESPACE (tracks are then
 * subscribed upstream on demand, §8.4) and/or pushed track by track with PUBLISH.
 *
 * Which relay tracks its IETF tracks become and how their objects are stored is the injected
 * media bridge's call (media-bridge.ts IngestTranslator).
 */
import { Broadcast } from '../../../relay/broadcast.ts';
import { RelayError, RelayErrorCode } from '../../../relay/errors.ts';
import { Track } from '../../../relay/track.ts';
import { relayPriority } from '../egress/send-order.ts';
import type { IngestTranslator, ObjectToFrame } from '../media-bridge.ts';
import { DEFAULT_PRIORITY, type Publish } from '../messages.ts';
import { countingReceived } from '../session/counters.ts';
import type { TrackNamespace } from '../wire/namespace.ts';
import { PublishedTrack } from './published-track.ts';
import { type UpstreamDeps, UpstreamTrack } from './upstream-track.ts';

export interface IngestDeps extends UpstreamDeps {
  /** A translator per broadcast: which relay tracks its IETF tracks become, and how objects are stored. */
  translator: () => IngestTranslator;
}

export class IngestBroadcast {
  readonly broadcast: Broadcast;
  readonly #translator: IngestTranslator;
  /** Set while a PUBLISH_NAMESPACE for this path is in force. */
  announceRequestId: number | undefined;
  readonly #pushed = new Map<string, PublishedTrack>();

  constructor(
    private readonly deps: IngestDeps,
    readonly path: string,
    readonly namespace: TrackNamespace,
    info: Record<string, string>,
  ) {
    this.#translator = deps.translator();
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
    const candidates = this.#translator.upstream(name)?.map((candidate) => ({ ...candidate, format: this.#counted(candidate.format) }));
    if (!candidates) return undefined;
    const track = new Track(name, { priority });
    void track.closed().then((error) => {
      if (error?.code === RelayErrorCode.notFound) this.#translator.refused(name);
    });
    new UpstreamTrack(this.deps, this.namespace, track, candidates).start();
    const companion = this.#translator.companion(name);
    if (companion) this.broadcast.getTrack(companion.name, companion.priority);
    return track;
  }

  /** PUBLISH: a track pushed by the publisher. Throws RelayError when the name is taken. */
  pushTrack(message: Publish, ietfName: string): PublishedTrack {
    const { relayName, format } = this.#translator.pushed(ietfName);
    const priority = relayPriority(message.properties.publisherPriority ?? DEFAULT_PRIORITY);
    const track = this.broadcast.createTrack(relayName, { priority });
    const pushed = new PublishedTrack(message.requestId, message.trackAlias, track, this.#counted(format));
    this.#pushed.set(relayName, pushed);
    void track.closed().then(() => {
      if (this.#pushed.get(relayName) === pushed) this.#pushed.delete(relayName);
      if (!this.announced && this.#pushed.size === 0) this.broadcast.close();
    });
    return pushed;
  }

  #counted(format: () => Promise<ObjectToFrame>): () => Promise<ObjectToFrame> {
    return () => format().then((toFrame) => countingReceived(toFrame, this.deps.ctx.counters));
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
