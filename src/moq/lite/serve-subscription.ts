/**
 * A client SUBSCRIBE (bidi type 2): serve one relay track to the client.
 *
 * The subscription starts at the track's latest group. Each group goes out on its own uni stream
 * (GroupSender) with a send order from the priorities; SUBSCRIBE_UPDATE changes them in flight.
 * A lagging newest-first subscriber skips to the newest waiting group and, past
 * `maxGroupsInFlight`, resets its oldest group stream; an ordered one (lite-03+) waits instead
 * and lets the relay's bounded queue drop. When the track ends cleanly the subscribe stream is
 * FINed after the in-flight groups finish (lite-03 "closed when all groups accounted for");
 * when it ends abnormally the stream is reset with the relay error code.
 */
import { joinPath, normalizePath, RelayError, RelayErrorCode, type Group, type TrackSubscription } from '../../relay/index.ts';
import { Notify } from '../../relay/notify.ts';
import { StreamAbortedError } from '../../wire/errors.ts';
import type { SessionContext, Stoppable } from './context.ts';
import { GroupSender } from './group-sender.ts';
import { refuse, type RequestStream } from './request-stream.ts';
import { groupSendOrder } from './send-order.ts';
import { decodeSubscribeUpdate, encodeSubscribeResponse, type Subscribe } from './subscribe.ts';
import { hasSubscribeRanges } from './version.ts';

/** Serves the subscription until it ends; rejects only with a ProtocolError (session-fatal). */
export async function serveSubscription(ctx: SessionContext, stream: RequestStream, request: Subscribe): Promise<void> {
  const path = joinPath(ctx.root, normalizePath(request.broadcast));
  if (!ctx.allowSubscribe(path)) return refuse(stream, RelayErrorCode.unauthorized, `not allowed to subscribe to ${path}`);
  if (ctx.counters.subscriptions >= ctx.limits.maxSubscriptions) {
    return refuse(stream, RelayErrorCode.tooLarge, `more than ${ctx.limits.maxSubscriptions} subscriptions`);
  }
  const subscription = ctx.origin.get(path)?.subscribe(request.track, request.priority, ctx);
  if (!subscription) return refuse(stream, RelayErrorCode.notFound, `no track ${request.track} in ${path}`);
  ctx.logger.debug({ path, track: request.track, id: request.id }, 'subscribe');
  await new ServedSubscription(ctx, stream, request, subscription).run();
}

/** How long a cleanly ended track waits for its in-flight groups before the FIN. */
const FINISH_GRACE_MS = 10_000;

class ServedSubscription implements Stoppable {
  readonly #senders = new Set<GroupSender>();
  readonly #running = new Set<Promise<void>>();
  readonly #senderDone = new Notify();
  #priority: number;
  #ordered: boolean;
  /** The client FINed its side: a graceful unsubscribe, answered with our FIN. */
  #clientFinished = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly stream: RequestStream,
    private readonly request: Subscribe,
    private readonly subscription: TrackSubscription,
  ) {
    this.#priority = request.priority;
    // lite-01/02 have no `ordered`; live delivery is newest first.
    this.#ordered = hasSubscribeRanges(ctx.version) && request.ordered;
  }

  async run(): Promise<void> {
    const { ctx, stream, subscription } = this;
    ctx.counters.subscriptions++;
    ctx.tasks.add(this);
    let updateError: unknown;
    try {
      const latest = subscription.track.latestSequence;
      await stream.writer.write(
        encodeSubscribeResponse(
          {
            kind: 'ok',
            ok: {
              priority: this.#priority,
              ordered: this.#ordered,
              maxLatency: this.request.maxLatency,
              ...(latest >= 0 ? { startGroup: latest } : {}),
            },
          },
          ctx.version,
        ),
      );
      // The client ending its side (FIN or reset) is the unsubscribe.
      const updates = this.#readUpdates()
        .catch((error: unknown) => {
          updateError = error;
        })
        .finally(() => subscription.close());
      await this.#sendGroups();
      await stream.reader.cancel();
      await updates;
    } catch (error) {
      if (!(error instanceof StreamAbortedError)) throw error;
    } finally {
      ctx.counters.groupsSkipped += subscription.droppedGroups;
      subscription.close();
      for (const sender of this.#senders) sender.cancel('unsubscribed');
      ctx.counters.subscriptions--;
      ctx.tasks.delete(this);
    }
    if (updateError !== undefined && !(updateError instanceof StreamAbortedError)) throw updateError;
  }

  /** The session is closing. */
  stop(): void {
    this.subscription.close();
    void this.stream.reader.cancel();
  }

  async #readUpdates(): Promise<void> {
    for (;;) {
      const body = await this.stream.reader.messageOrEnd(this.ctx.limits.maxMessageBytes);
      if (body === undefined) {
        this.#clientFinished = true;
        return;
      }
      const update = decodeSubscribeUpdate(body, this.ctx.version);
      this.#priority = update.priority;
      if (hasSubscribeRanges(this.ctx.version)) this.#ordered = update.ordered;
      for (const sender of this.#senders) sender.setRank(this.#rankFor(sender.sequence));
    }
  }

  async #sendGroups(): Promise<void> {
    const { subscription, stream } = this;
    for (;;) {
      let group: Group | undefined;
      try {
        group = await subscription.nextGroup({ newestFirst: !this.#ordered });
      } catch (error) {
        if (!(error instanceof RelayError)) throw error;
        stream.writer.reset(error.code, error.message);
        return;
      }
      if (!group || this.ctx.closing) break;
      await this.#makeRoom();
      if (subscription.closed) break;
      this.#start(group);
    }
    if (subscription.closed || this.ctx.closing) {
      // Unsubscribed (or the session is closing): nothing more to account for.
      if (this.#clientFinished && !this.ctx.closing) await stream.writer.close();
      else stream.writer.reset(RelayErrorCode.cancelled, 'unsubscribed');
      return;
    }
    // The track ended cleanly: FIN once every started group is done (or after a grace period,
    // for a group its publisher never finished).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FINISH_GRACE_MS);
    });
    await Promise.race([Promise.allSettled([...this.#running]), grace]);
    clearTimeout(timer);
    for (const sender of this.#senders) sender.cancel('track ended');
    await stream.writer.close();
  }

  /** Keeps at most `maxGroupsInFlight` group streams open for this subscription. */
  async #makeRoom(): Promise<void> {
    const max = this.ctx.limits.maxGroupsInFlight;
    if (!this.#ordered) {
      // Newest first: an older group still waiting for a stream (the peer grants no stream
      // credit, e.g. it stopped reading) would only be sent after this one; drop it rather than
      // hold its bytes outside the session's budget.
      for (const sender of [...this.#senders]) {
        if (sender.opened) continue;
        this.#senders.delete(sender);
        this.ctx.counters.groupsDropped++;
        sender.drop('newer group while waiting for a stream');
      }
    }
    while (this.#senders.size >= max && !this.subscription.closed) {
      if (this.#ordered) {
        await this.#senderDone.wait();
        continue;
      }
      let oldest: GroupSender | undefined;
      for (const sender of this.#senders) if (!oldest || sender.sequence < oldest.sequence) oldest = sender;
      if (!oldest) break;
      this.#senders.delete(oldest);
      this.ctx.counters.groupsDropped++;
      oldest.drop('too many groups in flight');
    }
  }

  #start(group: Group): void {
    const sender = new GroupSender(this.ctx, this.request.id, group, this.#rankFor(group.sequence));
    this.#senders.add(sender);
    const running: Promise<void> = sender
      .run()
      .catch((error: unknown) => this.ctx.logger.error({ err: error }, 'group sender failed'))
      .finally(() => {
        this.#senders.delete(sender);
        this.#running.delete(running);
        this.#senderDone.notify();
      });
    this.#running.add(running);
  }

  #rankFor(sequence: number): number {
    return groupSendOrder(this.#priority, this.subscription.track.priority, sequence, this.#ordered);
  }
}
