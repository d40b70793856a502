/**
 * One established SUBSCRIBE served from a relay track (draft-16 §5.1): each group the track
 * subscription yields opens one subgroup stream, filtered by the resolved range and sent in the
 * scheduling order of §7.2. Ends with PUBLISH_DONE once its streams are closed, or silently on
 * UNSUBSCRIBE (§5.1.1).
 *
 * A subscriber that falls behind (too many group streams still open, or groups dropped from the
 * relay's queue): with Descending group order its oldest groups are dropped whole — the oldest
 * stream is reset and nextGroup({newestFirst}) skips to the newest waiting group; with Ascending
 * order it cannot be given every group in order any more, so the subscription ends with
 * TOO_FAR_BEHIND (§9.2.1.2).
 */
import type { Group } from '../../../relay/group.ts';
import { RelayError, RelayErrorCode } from '../../../relay/errors.ts';
import type { TrackSubscription } from '../../../relay/track.ts';
import type { ObjectFormat } from '../media-bridge.ts';
import { type PublishDoneStatus, publishDoneCode } from '../errors.ts';
import type { GroupOrder, RequestUpdate } from '../messages.ts';
import type { SessionContext } from '../session/context.ts';
import { emptyCounters, type IetfSessionCounters } from '../session/counters.ts';
import type { Location } from '../wire/location.ts';
import type { DeliveryRange } from './filter.ts';
import { sendGroupAsDatagrams } from './datagram-sender.ts';
import { GroupSender, untilAborted, type GroupSendResult } from './group-sender.ts';
import { dataSendOrder } from './send-order.ts';

export interface ServedSubscriptionInit {
  requestId: number;
  trackAlias: number;
  path: string;
  trackName: string;
  subscription: TrackSubscription;
  range: DeliveryRange;
  largestAtStart: Location | undefined;
  /** The filter was Largest Object (joining FETCH is only allowed then, §9.16.2). */
  largestObjectFilter: boolean;
  subscriberPriority: number;
  publisherPriority: number;
  groupOrder: GroupOrder;
  forward: boolean;
  deliveryTimeoutMs?: number;
  format: () => Promise<ObjectFormat>;
  /** Where groups sent and dropped are counted (the session's counters). */
  counters?: GroupCounters;
}

type GroupCounters = Pick<IetfSessionCounters, 'groupsSent' | 'groupsDropped'>;

interface OpenStream {
  group: Group;
  cancel: AbortController;
  /** The transport has opened the stream (or it is a datagram group, which needs none). */
  opened: boolean;
  /** The subgroup stream's sender (datagram groups have none). */
  sender?: GroupSender;
  done: Promise<unknown>;
}

export class ServedSubscription {
  readonly requestId: number;
  readonly trackAlias: number;
  readonly path: string;
  readonly trackName: string;
  readonly largestAtStart: Location | undefined;
  readonly largestObjectFilter: boolean;
  readonly publisherPriority: number;
  readonly groupOrder: GroupOrder;
  readonly subscription: TrackSubscription;
  #range: DeliveryRange;
  #subscriberPriority: number;
  #forward: boolean;
  #deliveryTimeoutMs: number | undefined;
  readonly #format: () => Promise<ObjectFormat>;
  readonly #counters: GroupCounters;
  readonly #streams = new Set<OpenStream>();
  readonly #cancel = new AbortController();
  #streamCount = 0;
  #finished = false;

  constructor(
    private readonly ctx: SessionContext,
    init: ServedSubscriptionInit,
    private readonly onFinished: (subscription: ServedSubscription) => void,
  ) {
    this.requestId = init.requestId;
    this.trackAlias = init.trackAlias;
    this.path = init.path;
    this.trackName = init.trackName;
    this.subscription = init.subscription;
    this.largestAtStart = init.largestAtStart;
    this.largestObjectFilter = init.largestObjectFilter;
    this.publisherPriority = init.publisherPriority;
    this.groupOrder = init.groupOrder;
    this.#range = init.range;
    this.#subscriberPriority = init.subscriberPriority;
    this.#forward = init.forward;
    this.#deliveryTimeoutMs = init.deliveryTimeoutMs;
    this.#format = init.format;
    this.#counters = init.counters ?? emptyCounters();
  }

  get subscriberPriority(): number {
    return this.#subscriberPriority;
  }

  /** How this subscription's objects are shaped (joining FETCH uses the same). */
  format(): Promise<ObjectFormat> {
    return this.#format();
  }

  /** Serves groups until the track, the range or the subscription ends. */
  async run(): Promise<void> {
    let status: PublishDoneStatus = 'trackEnded';
    let reason = 'track ended';
    try {
      const format = await this.#format();
      for (;;) {
        const group = await untilAborted(this.subscription.nextGroup({ newestFirst: this.groupOrder === 'descending' }), this.#cancel.signal);
        if (this.#cancel.signal.aborted) return;
        if (!group) break;
        if (this.groupOrder === 'ascending' && this.subscription.droppedGroups > 0) {
          status = 'tooFarBehind';
          reason = `${this.subscription.droppedGroups} groups dropped`;
          this.#resetStreams();
          break;
        }
        if (group.sequence < this.#range.start.group) continue;
        const endGroup = this.#range.endGroup;
        if (endGroup !== undefined && group.sequence > endGroup) {
          status = 'subscriptionEnded';
          reason = 'end of range';
          break;
        }
        if (this.#forward) {
          // Ascending order promises every group in order: one we would have to skip ends it.
          if (this.groupOrder === 'ascending' && this.#streams.size >= this.ctx.tuning.maxGroupStreams) {
            status = 'tooFarBehind';
            reason = `${this.#streams.size} groups still in flight`;
            this.#resetStreams();
            break;
          }
          this.#open(group, format);
        }
        if (endGroup !== undefined && group.sequence === endGroup) {
          status = 'subscriptionEnded';
          reason = 'end of range';
          break;
        }
      }
    } catch (error) {
      if (this.#cancel.signal.aborted) return;
      [status, reason] = endOfTrack(error);
      this.#resetStreams();
    }
    await this.#finish(status, reason);
  }

  /** UNSUBSCRIBE: reset every stream and forget the subscription, no PUBLISH_DONE (§5.1.1). */
  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#cancel.abort();
    this.subscription.close();
    this.onFinished(this);
  }

  /** SUBSCRIBE_UPDATE / REQUEST_UPDATE (draft-14 §9.10, draft-16 §9.10). */
  update(update: RequestUpdate): void {
    if (update.forward !== undefined) this.#forward = update.forward;
    if (update.parameters.deliveryTimeoutMs !== undefined) this.#deliveryTimeoutMs = update.parameters.deliveryTimeoutMs;
    if (update.filter && (update.filter.type === 'absoluteStart' || update.filter.type === 'absoluteRange')) {
      this.#range = { start: update.filter.start, endGroup: update.filter.type === 'absoluteRange' ? update.filter.endGroup : undefined };
    }
    if (update.subscriberPriority !== undefined && update.subscriberPriority !== this.#subscriberPriority) {
      this.#subscriberPriority = update.subscriberPriority;
      // Best effort for objects not yet scheduled (§7.1): re-rank the open streams.
      for (const stream of this.#streams) stream.sender?.setRank(this.#sendOrder(stream.group));
    }
  }

  #sendOrder(group: Group): number {
    return dataSendOrder(this.#subscriberPriority, this.publisherPriority, this.groupOrder, group.sequence);
  }

  #open(group: Group, format: ObjectFormat): void {
    if (this.groupOrder === 'descending') {
      // An older group still waiting for a stream (no stream credit from the peer) would go out
      // after this one anyway: drop it rather than hold its bytes outside the session's budget.
      for (const waiting of this.#streams) {
        if (waiting.opened || waiting.cancel.signal.aborted) continue;
        waiting.cancel.abort();
        this.#counters.groupsDropped++;
      }
    }
    // Too many groups in flight (Descending): the oldest is the least useful to a live subscriber.
    if (this.#streams.size >= this.ctx.tuning.maxGroupStreams) {
      const oldest = [...this.#streams].sort((a, b) => a.group.sequence - b.group.sequence)[0]!;
      oldest.cancel.abort();
      this.#counters.groupsDropped++;
    }
    const cancel = new AbortController();
    const onParentAbort = (): void => cancel.abort();
    this.#cancel.signal.addEventListener('abort', onParentAbort, { once: true });
    const entry: OpenStream = { group, cancel, opened: group.viaDatagrams, done: Promise.resolve() };
    const start = this.#range.start;
    const firstObject = group.sequence === start.group ? start.object : 0;
    if (!group.viaDatagrams) {
      entry.sender = new GroupSender({
        transport: this.ctx.transport,
        data: this.ctx.data,
        trackAlias: this.trackAlias,
        group,
        firstObject,
        publisherPriority: this.publisherPriority,
        sendOrder: this.#sendOrder(group),
        format,
        deliveryTimeoutMs: this.#deliveryTimeoutMs,
        cancel: cancel.signal,
        budget: this.ctx.budget,
        onOpen: () => {
          entry.opened = true;
          this.#streamCount++;
        },
      });
    }
    const sending = entry.sender ? entry.sender.run() : this.#sendDatagrams(group, firstObject, format, cancel.signal);
    entry.done = sending
      .then((result) => {
        if (result === 'complete') this.#counters.groupsSent++;
        else if (result === 'timedOut' || result === 'dropped') this.#counters.groupsDropped++;
        return result;
      })
      .catch(() => 'failed' as const)
      .finally(() => {
        this.#cancel.signal.removeEventListener('abort', onParentAbort);
        this.#streams.delete(entry);
      });
    this.#streams.add(entry);
  }

  /** A group that came as datagrams goes out as datagrams (no stream, so no Stream Count). */
  async #sendDatagrams(group: Group, firstObject: number, format: ObjectFormat, cancel: AbortSignal): Promise<GroupSendResult> {
    const { result, dropped } = await sendGroupAsDatagrams({
      // Datagrams never queue in the session; while its streams' queue is full they are dropped too.
      sendDatagram: (datagram) => this.ctx.budget.hasRoom(datagram.byteLength) && this.ctx.sendDatagram(datagram),
      data: this.ctx.data,
      trackAlias: this.trackAlias,
      group,
      firstObject,
      publisherPriority: this.publisherPriority,
      format,
      deliveryTimeoutMs: this.#deliveryTimeoutMs,
      cancel,
    });
    if (dropped > 0) this.ctx.logger.debug({ track: this.trackName, group: group.sequence, dropped }, 'datagrams dropped');
    return result;
  }

  #resetStreams(): void {
    for (const stream of this.#streams) stream.cancel.abort();
  }

  /** §9.12: PUBLISH_DONE only after every stream of the subscription is closed. */
  async #finish(status: PublishDoneStatus, reason: string): Promise<void> {
    this.subscription.close();
    await Promise.allSettled([...this.#streams].map((stream) => stream.done));
    if (this.#finished) return;
    this.#finished = true;
    this.onFinished(this);
    if (this.ctx.isClosed()) return;
    this.ctx.send({
      type: 'publish_done',
      requestId: this.requestId,
      statusCode: publishDoneCode(this.ctx.version, status),
      streamCount: BigInt(this.#streamCount),
      reason,
    });
  }
}

function endOfTrack(error: unknown): [PublishDoneStatus, string] {
  if (error instanceof RelayError) {
    if (error.code === RelayErrorCode.tooFarBehind) return ['tooFarBehind', error.message];
    if (error.code === RelayErrorCode.publisherGone || error.code === RelayErrorCode.cancelled) return ['trackEnded', error.message];
    return ['internal', error.message];
  }
  return ['internal', error instanceof Error ? error.message : String(error)];
}
