/**
 * FETCH served from the relay's cache (draft-16 §9.16, draft-14 §9.16): Track.cachedGroups() holds
 * the current and previous groups, which is what live joiners fetch. Standalone fetches name a
 * range; joining fetches end at the Largest Object their subscription started from.
 *
 * The relay keeps no older groups and does not fetch upstream: objects outside the cache are not
 * sent (a gap in a FETCH response means "does not exist", §9.16.3).
 */
import { ByteWriter } from '../../../wire/byte-writer.ts';
import type { Group } from '../../../relay/group.ts';
import type { Track } from '../../../relay/track.ts';
import type { ObjectFormat } from '../media-bridge.ts';
import { FETCH_HEADER_TYPE } from '../data/data-codec.ts';
import type { FetchObject } from '../data/objects.ts';
import { StreamResetCode, violation, type RequestErrorReason } from '../errors.ts';
import type { Fetch, FetchCancel, GroupOrder } from '../messages.ts';
import type { SessionContext } from '../session/context.ts';
import { requestError } from '../session/replies.ts';
import { streamError } from '../session/stream-error.ts';
import { withTimeout } from '../session/timers.ts';
import { trackReady } from '../track-readiness.ts';
import { compareLocations, type Location } from '../wire/location.ts';
import { largestLocation } from './largest.ts';
import { relayTrack, resolveTrack } from './resolve-track.ts';
import { dataSendOrder, ietfPriority, relayPriority } from './send-order.ts';
import type { EgressSubscriptions } from './subscriptions.ts';

const UPSTREAM_WAIT_MS = 5_000;

interface FetchPlan {
  track: Track;
  format: ObjectFormat;
  start: Location;
  /** Inclusive; Infinity object means "to the end of the group". */
  end: Location;
  /** Fetch.end as the peer wrote it (End Location, plus one), for FETCH_OK. */
  requestedEnd?: Location;
  release(): void;
}

export class EgressFetches {
  readonly #active = new Map<number, AbortController>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly subscriptions: EgressSubscriptions,
  ) {}

  async fetch(message: Fetch): Promise<void> {
    const { ctx } = this;
    const refuse = (reason: RequestErrorReason, text: string): void => ctx.send(requestError(ctx.version, 'fetch', message.requestId, reason, text));
    const plan = await this.#plan(message);
    if ('reason' in plan) return refuse(plan.reason, plan.message);
    try {
      const largest = largestLocation(plan.track);
      if (!largest || compareLocations(plan.start, largest) > 0) return refuse('invalidRange', 'start is beyond the largest object');
      if (compareLocations(plan.end, plan.start) < 0) return refuse('invalidRange', 'end precedes start');
      const order: GroupOrder = message.groupOrder ?? 'ascending';
      const last = compareLocations(plan.end, largest) > 0 ? largest : plan.end;
      const objects = collect(plan.track.cachedGroups(), plan.start, last, order);
      const beyondLargest = compareLocations(plan.end, largest) > 0;
      const endLocation = beyondLargest ? { group: largest.group, object: largest.object + 1 } : (plan.requestedEnd ?? { group: plan.end.group, object: plan.end.object + 1 });
      const publisherPriority = ietfPriority(plan.track.priority);
      ctx.send({
        type: 'fetch_ok',
        requestId: message.requestId,
        groupOrder: order,
        endOfTrack: plan.track.ended && beyondLargest,
        endLocation,
        properties: { other: [] },
      });
      await this.#send(message, objects, plan.format, publisherPriority);
    } finally {
      plan.release();
    }
  }

  cancel(message: FetchCancel): void {
    this.#active.get(message.requestId)?.abort();
  }

  closeAll(): void {
    for (const cancel of this.#active.values()) cancel.abort();
  }

  async #plan(message: Fetch): Promise<FetchPlan | { reason: RequestErrorReason; message: string }> {
    const { ctx } = this;
    const range = message.range;
    if (range.type !== 'standalone') {
      const joined = this.subscriptions.get(range.joiningRequestId);
      if (!joined) return { reason: 'invalidJoiningRequestId', message: 'no such subscription' };
      // §9.16.2: joining is only allowed for Largest Object subscriptions.
      if (!joined.largestObjectFilter) throw violation('joining FETCH for a subscription without the Largest Object filter');
      const largest = joined.largestAtStart;
      if (!largest) return { reason: 'invalidRange', message: 'the subscription started with no content' };
      const startGroup = range.type === 'relativeJoining' ? Math.max(0, largest.group - range.joiningStart) : range.joiningStart;
      return {
        track: joined.subscription.track,
        format: await joined.format(),
        start: { group: startGroup, object: 0 },
        end: largest,
        release: () => undefined,
      };
    }
    const resolved = await resolveTrack(ctx, range.namespace, range.name, message.parameters.authorizationTokens);
    if (!resolved.ok) return { reason: resolved.reason, message: resolved.message };
    const track = relayTrack(resolved, relayPriority(message.subscriberPriority));
    if (!track) return { reason: 'doesNotExist', message: `track ${resolved.name} not found` };
    // Holding a subscription keeps an on-demand track alive while the cache is read.
    const hold = track.subscribe();
    const ready = await withTimeout(trackReady(track).then(() => true, () => false), UPSTREAM_WAIT_MS, false);
    if (!ready) {
      hold.close();
      return { reason: 'doesNotExist', message: 'track not available' };
    }
    const end = range.end.object === 0 ? { group: range.end.group, object: Number.POSITIVE_INFINITY } : { group: range.end.group, object: range.end.object - 1 };
    return { track, format: await resolved.egress.format(), start: range.start, end, requestedEnd: range.end, release: () => hold.close() };
  }

  /** One uni stream: FETCH_HEADER, then the objects in the requested group order (§10.4.4). */
  async #send(message: Fetch, objects: FetchSource[], format: ObjectFormat, publisherPriority: number): Promise<void> {
    const { ctx } = this;
    const cancel = new AbortController();
    this.#active.set(message.requestId, cancel);
    try {
      const stream = await ctx.transport.createUnidirectionalStream({
        sendOrder: dataSendOrder(message.subscriberPriority, publisherPriority, 'ascending', 0),
      });
      const writer = stream.getWriter();
      writer.closed.catch(() => undefined);
      const onCancel = (): void => void writer.abort(streamError(StreamResetCode.cancelled)).catch(() => undefined);
      cancel.signal.addEventListener('abort', onCancel, { once: true });
      try {
        await writer.write(new ByteWriter(10, ctx.data.integers).varint(FETCH_HEADER_TYPE).varint(message.requestId).finish());
        let previous: FetchObject | undefined;
        for (const source of objects) {
          if (cancel.signal.aborted) return;
          const shape = format.convert(source.frame);
          const object: FetchObject = {
            groupId: source.groupId,
            subgroupId: 0,
            objectId: source.objectId,
            publisherPriority,
            status: 'normal',
            extensions: shape.extensions,
            payload: shape.payload,
          };
          const out = new ByteWriter(shape.payload.byteLength + 32, ctx.data.integers);
          ctx.data.writeFetchObject(out, object, previous);
          previous = object;
          await writer.write(out.finish());
        }
        await writer.close();
      } catch {
        if (!cancel.signal.aborted) void writer.abort(streamError(StreamResetCode.internalError)).catch(() => undefined);
      } finally {
        cancel.signal.removeEventListener('abort', onCancel);
      }
    } catch (error) {
      ctx.logger.debug({ requestId: message.requestId, error: String(error) }, 'fetch stream failed');
    } finally {
      this.#active.delete(message.requestId);
    }
  }
}

interface FetchSource {
  groupId: number;
  objectId: number;
  frame: Uint8Array;
}

/** Cached objects in [start, end], snapshotting each group's frames, groups in `order`. */
function collect(groups: readonly Group[], start: Location, end: Location, order: GroupOrder): FetchSource[] {
  const selected = groups.filter((group) => group.sequence >= start.group && group.sequence <= end.group);
  if (order === 'descending') selected.reverse();
  const objects: FetchSource[] = [];
  for (const group of selected) {
    const frames = group.frames.slice();
    const from = group.sequence === start.group ? start.object : 0;
    const to = group.sequence === end.group ? Math.min(frames.length - 1, end.object) : frames.length - 1;
    for (let objectId = from; objectId <= to; objectId++) objects.push({ groupId: group.sequence, objectId, frame: frames[objectId]! });
  }
  return objects;
}
