/**
 * SUBSCRIBE, UNSUBSCRIBE and subscription updates from an IETF subscriber, served from the relay
 * (draft-16 §5.1, §9.7–9.11; draft-14 §9.7–9.11).
 */
import { RelayError, RelayErrorCode } from '../../../relay/errors.ts';
import type { ObjectFormat } from '../media-bridge.ts';
import { type GroupOrder, DEFAULT_PRIORITY, type RequestUpdate, type Subscribe, type Unsubscribe } from '../messages.ts';
import type { SessionContext } from '../session/context.ts';
import { requestError } from '../session/replies.ts';
import { withTimeout } from '../session/timers.ts';
import { trackReady } from '../track-readiness.ts';
import { resolveFilter } from './filter.ts';
import { largestLocation } from './largest.ts';
import { relayTrack, resolveTrack } from './resolve-track.ts';
import { ietfPriority, relayPriority } from './send-order.ts';
import { ServedSubscription } from './served-subscription.ts';

/** Our preference when the subscriber leaves group order to us: live media, newest first. */
export const PUBLISHER_GROUP_ORDER: GroupOrder = 'descending';

/** How long a SUBSCRIBE may wait for the relay's upstream to accept the track. */
const UPSTREAM_WAIT_MS = 10_000;

export class EgressSubscriptions {
  readonly #active = new Map<number, ServedSubscription>();
  /** Requests still being looked up; UNSUBSCRIBE may arrive before SUBSCRIBE_OK. */
  readonly #pending = new Set<number>();
  readonly #cancelledPending = new Set<number>();

  constructor(private readonly ctx: SessionContext) {}

  get(requestId: number): ServedSubscription | undefined {
    return this.#active.get(requestId);
  }

  async subscribe(message: Subscribe): Promise<void> {
    const { ctx } = this;
    const refuse = (reason: Parameters<typeof requestError>[3], text: string): void =>
      ctx.send(requestError(ctx.version, 'subscribe', message.requestId, reason, text));
    this.#pending.add(message.requestId);
    try {
      const resolved = await resolveTrack(ctx, message.namespace, message.name, message.parameters.authorizationTokens);
      if (!resolved.ok) return refuse(resolved.reason, resolved.message);
      for (const active of this.#active.values()) {
        if (active.path === resolved.path && active.trackName === resolved.name) {
          return refuse('duplicateSubscription', 'already subscribed to this track');
        }
      }
      const track = relayTrack(resolved, relayPriority(message.subscriberPriority));
      if (!track) return refuse('doesNotExist', `track ${resolved.name} not found`);
      // Subscribing at once keeps an on-demand upstream alive while it gets established.
      const subscription = track.subscribe(ctx);
      const ready = await withTimeout(
        trackReady(track).then(
          () => 'ready' as const,
          (error: unknown) => error,
        ),
        UPSTREAM_WAIT_MS,
        'timeout' as const,
      );
      if (ready !== 'ready') {
        subscription.close();
        if (ready === 'timeout' || (ready instanceof RelayError && ready.code === RelayErrorCode.timeout)) {
          return refuse('timeout', ready instanceof RelayError ? ready.message : 'upstream did not answer');
        }
        return refuse('doesNotExist', ready instanceof RelayError ? ready.message : 'track not available');
      }
      if (ctx.isClosed()) return subscription.close();
      if (this.#cancelledPending.has(message.requestId)) return subscription.close();

      const largest = largestLocation(track);
      const resolution = resolveFilter(message.filter, largest, ctx.tuning.largestObjectJoinsGroup);
      if (!resolution.ok) {
        subscription.close();
        return refuse('invalidRange', resolution.reason);
      }
      const groupOrder = message.groupOrder ?? (ctx.quirks.dropsTrackExtensions ? 'ascending' : PUBLISHER_GROUP_ORDER);
      const publisherPriority = ietfPriority(track.priority);
      const served = new ServedSubscription(
        ctx,
        {
          requestId: message.requestId,
          // Aliases are ours to choose (§10.1); request IDs are already unique per session.
          trackAlias: message.requestId,
          path: resolved.path,
          trackName: resolved.name,
          subscription,
          range: resolution.range,
          largestAtStart: largest,
          largestObjectFilter: message.filter?.type === 'largestObject',
          subscriberPriority: message.subscriberPriority,
          publisherPriority,
          groupOrder,
          forward: message.forward,
          deliveryTimeoutMs: message.parameters.deliveryTimeoutMs,
          format: (): Promise<ObjectFormat> => resolved.egress.format(),
          counters: ctx.counters,
        },
        (finished) => {
          if (this.#active.get(finished.requestId) === finished) this.#active.delete(finished.requestId);
        },
      );
      this.#active.set(message.requestId, served);
      ctx.send({
        type: 'subscribe_ok',
        requestId: message.requestId,
        trackAlias: served.trackAlias,
        expiresMs: 0,
        groupOrder,
        largest,
        properties: ctx.quirks.dropsTrackExtensions
          ? { other: [] }
          : { other: [], publisherPriority: publisherPriority === DEFAULT_PRIORITY ? undefined : publisherPriority, groupOrder },
      });
      void served.run().catch((error: unknown) => ctx.fail(error));
    } finally {
      this.#pending.delete(message.requestId);
      this.#cancelledPending.delete(message.requestId);
    }
  }

  unsubscribe(message: Unsubscribe): void {
    const active = this.#active.get(message.requestId);
    if (active) active.cancel();
    else if (this.#pending.has(message.requestId)) this.#cancelledPending.add(message.requestId);
  }

  /** Returns false when `update` does not name one of our subscriptions. */
  update(update: RequestUpdate): boolean {
    const active = this.#active.get(update.existingRequestId);
    if (!active) return false;
    active.update(update);
    return true;
  }

  closeAll(): void {
    for (const active of [...this.#active.values()]) active.cancel();
  }
}
