/**
 * The relay's SUBSCRIBE to an IETF publisher for one track that a relay subscriber asked for
 * (draft-16 §8.4: one upstream subscription per track, shared by every subscriber).
 *
 * Subscribes with Largest Object; when SUBSCRIBE_OK reports content, a Joining FETCH (offset 0,
 * §9.16.2) fetches the head of the current group so the relay can serve it from its start.
 * Candidates are tried in order (e.g. MSF `catalog`, then `catalog.json`) until one is accepted.
 */
import { RelayError, RelayErrorCode } from '../../../relay/errors.ts';
import type { Track } from '../../../relay/track.ts';
import { ietfPriority } from '../egress/send-order.ts';
import type { ObjectToFrame, UpstreamCandidate } from '../media-bridge.ts';
import type { ControlMessage } from '../messages.ts';
import type { SessionContext } from '../session/context.ts';
import type { OutboundRequests } from '../session/outbound-requests.ts';
import { stringToBytes } from '../session/paths.ts';
import { sleep, withTimeout } from '../session/timers.ts';
import { setTrackReadiness } from '../track-readiness.ts';
import type { Location } from '../wire/location.ts';
import type { TrackNamespace } from '../wire/namespace.ts';
import type { InboundAliases } from './aliases.ts';
import type { FetchRoutes } from './fetch-routes.ts';
import { IngestGroups } from './groups.ts';
import type { IngestSink } from './sink.ts';

export interface UpstreamDeps {
  ctx: SessionContext;
  aliases: InboundAliases;
  outbound: OutboundRequests;
  fetches: FetchRoutes;
  /** How long an upstream SUBSCRIBE may go unanswered before it counts as refused. */
  responseTimeoutMs: number;
}

/** How long the head fill may take before the subscription's own objects go ahead. */
const FILL_TIMEOUT_MS = 5_000;
/** Late streams after PUBLISH_DONE (§9.12) get this long to finish. */
const DONE_GRACE_MS = 2_000;

export class UpstreamTrack implements IngestSink {
  readonly groups: IngestGroups;
  readonly label: string;
  readonly #deps: UpstreamDeps;
  readonly #candidates: readonly UpstreamCandidate[];
  #candidate = 0;
  #requestId: number | undefined;
  #alias: number | undefined;
  #stopped = false;
  #openStreams = 0;
  readonly #fills = new Map<number, Promise<void>>();
  readonly #ready: { resolve: () => void; reject: (error: RelayError) => void };

  constructor(
    deps: UpstreamDeps,
    private readonly namespace: TrackNamespace,
    readonly track: Track,
    candidates: readonly UpstreamCandidate[],
  ) {
    this.#deps = deps;
    this.#candidates = candidates;
    this.groups = new IngestGroups(track);
    this.label = track.name;
    let resolve!: () => void;
    let reject!: (error: RelayError) => void;
    setTrackReadiness(
      track,
      new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      }),
    );
    this.#ready = { resolve, reject };
  }

  start(): void {
    void this.track.closed().then(() => this.#stop());
    void this.#subscribe();
  }

  format(): Promise<ObjectToFrame> {
    return this.#candidates[this.#candidate]!.format();
  }

  fillFor(groupId: number): Promise<void> | undefined {
    return this.#fills.get(groupId);
  }

  streamOpened(): void {
    this.#openStreams++;
  }

  streamClosed(): void {
    this.#openStreams--;
  }

  endOfTrack(): void {
    void this.#endAfterStreams();
  }

  async #subscribe(): Promise<void> {
    const { ctx, outbound } = this.#deps;
    const requestId = await ctx.nextRequestId();
    if (requestId === undefined || this.#stopped) return;
    this.#requestId = requestId;
    outbound.register(requestId, (message) => this.#onResponse(message));
    const candidate = this.#candidates[this.#candidate]!;
    ctx.send({
      type: 'subscribe',
      requestId,
      namespace: this.namespace,
      name: stringToBytes(candidate.ietfName),
      subscriberPriority: ietfPriority(this.track.priority),
      forward: true,
      filter: { type: 'largestObject' },
      parameters: { authorizationTokens: [] },
    });
    setTimeout(() => this.#expireUnanswered(requestId), this.#deps.responseTimeoutMs).unref();
  }

  /**
   * A publisher that never answers (@moq/net stays silent for a track it rejects) must not hold
   * the relay track open forever: withdraw the SUBSCRIBE (UNSUBSCRIBE from Pending, draft-16 §5.1)
   * and treat the silence as a refusal, which subscribers see as TIMEOUT (§9.8).
   */
  #expireUnanswered(requestId: number): void {
    if (this.#stopped || this.#requestId !== requestId || this.#alias !== undefined) return;
    this.#deps.ctx.send({ type: 'unsubscribe', requestId });
    this.#refused(`no response to SUBSCRIBE within ${this.#deps.responseTimeoutMs} ms`, RelayErrorCode.timeout);
  }

  /** The current candidate refused (or never answered): try the next publisher, else fail. */
  #refused(reason: string, code: number): void {
    this.#deps.outbound.forget(this.#requestId!);
    this.#requestId = undefined;
    if (this.#stopped) return;
    if (this.#candidate + 1 < this.#candidates.length) {
      this.#candidate++;
      void this.#subscribe();
      return;
    }
    this.#fail(new RelayError(`upstream refused ${this.label}: ${reason}`, code));
  }

  #onResponse(message: ControlMessage): void {
    const { ctx, aliases, outbound } = this.#deps;
    switch (message.type) {
      case 'subscribe_ok':
        if (this.#stopped) return;
        this.#alias = message.trackAlias;
        try {
          aliases.bind(message.trackAlias, this);
        } catch (error) {
          ctx.fail(error);
          return;
        }
        this.#candidates[this.#candidate]!.onAccepted?.();
        this.#ready.resolve();
        if (message.largest) void this.#fillHead(message.largest);
        return;
      case 'request_error':
        this.#refused(message.reason, RelayErrorCode.notFound);
        return;
      case 'publish_done':
        outbound.forget(this.#requestId!);
        this.#requestId = undefined;
        void this.#endAfterStreams();
        return;
      default:
        ctx.logger.debug({ track: this.label, message: message.type }, 'unexpected response to upstream SUBSCRIBE');
    }
  }

  /** Joining FETCH for the current group's head (§9.16.2, Relative Joining, Joining Start 0). */
  async #fillHead(largest: Location): Promise<void> {
    const { ctx, outbound, fetches } = this.#deps;
    const subscribeId = this.#requestId;
    const fetchId = await ctx.nextRequestId();
    if (fetchId === undefined || subscribeId === undefined || this.#stopped) return;
    let finish!: () => void;
    const filled = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // Ends the fill however it ends: stream finished, FETCH refused, or too slow.
    const done = (): void => {
      finish();
      outbound.forget(fetchId);
      fetches.take(fetchId);
      if (this.#fills.get(largest.group) === bounded) this.#fills.delete(largest.group);
    };
    const bounded = withTimeout(filled, FILL_TIMEOUT_MS, undefined).then(done);
    this.#fills.set(largest.group, bounded);
    fetches.add(fetchId, { sink: this, done });
    outbound.register(fetchId, (message) => {
      if (message.type === 'request_error') done();
    });
    ctx.send({
      type: 'fetch',
      requestId: fetchId,
      subscriberPriority: ietfPriority(this.track.priority),
      groupOrder: 'ascending',
      range: { type: 'relativeJoining', joiningRequestId: subscribeId, joiningStart: 0 },
      parameters: { authorizationTokens: [] },
    });
  }

  /** PUBLISH_DONE or END_OF_TRACK: let late streams land, then end the relay track. */
  async #endAfterStreams(): Promise<void> {
    const deadline = Date.now() + DONE_GRACE_MS;
    while (this.#openStreams > 0 && Date.now() < deadline) await sleep(50);
    this.groups.closeAll();
    this.track.close();
  }

  #fail(error: RelayError): void {
    this.#ready.reject(error);
    this.groups.closeAll();
    this.track.abort(error);
  }

  /** The relay no longer wants the track (no subscribers, broadcast ended): UNSUBSCRIBE. */
  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const { ctx, aliases, outbound } = this.#deps;
    this.#ready.reject(new RelayError(`${this.label} ended`, RelayErrorCode.cancelled));
    if (this.#alias !== undefined) aliases.unbind(this.#alias, this);
    if (this.#requestId !== undefined) {
      outbound.forget(this.#requestId);
      if (!ctx.isClosed()) ctx.send({ type: 'unsubscribe', requestId: this.#requestId });
      this.#requestId = undefined;
    }
    this.groups.closeAll();
  }
}
