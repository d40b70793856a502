/**
 * Sends one relay group to an IETF subscriber on its own subgroup stream (draft-16 §10.4.2):
 * SUBGROUP_HEADER (subgroup 0, END_OF_GROUP set so FIN marks the group's end), then one object per
 * frame in order. Payloads are written as views of the relay's frames, never copied or changed.
 *
 * Push, as moq-lite's sender: after the one promise that opens the stream, every frame already in
 * the group and then each new one (from the group's listener, in the turn it arrives) is written
 * synchronously to a PushSendStream, each write charged to the session's SendBudget
 * (`--subscriber-queue-bytes`). A subscriber that stops reading therefore holds at most its
 * budget: past it the least important group stream is reset and its queued bytes dropped at once
 * (draft-16 §7.2 scheduling; a stalled live subscriber loses whole old groups).
 *
 * The stream ends with FIN when the group is complete, or RESET_STREAM when the subscriber
 * cancelled (CANCELLED), the budget dropped it (CANCELLED), an object outlived the delivery
 * timeout before the transport took it (DELIVERY_TIMEOUT, §9.2.1.2) or the group was aborted
 * upstream (INTERNAL_ERROR). A stream the peer stopped is not reopened.
 */
import type { Group, GroupListener } from '../../../relay/group.ts';
import type { PushSendStream } from '../../../transport/push-stream.ts';
import { openPushSendStream, type UnidirectionalStreamOpener } from '../../../transport/writable-push-stream.ts';
import type { BudgetedSender, SendBudget } from '../../send-budget.ts';
import type { DataCodec } from '../data/data-codec.ts';
import type { SubgroupHeader } from '../data/objects.ts';
import { encodeSubgroupHeader, encodeSubgroupObjectHead } from '../data/subgroup-stream.ts';
import { StreamResetCode } from '../errors.ts';
import type { ObjectFormat } from '../media-bridge.ts';

/** `dropped`: the session's queue was full and this was its least important group. */
export type GroupSendResult = 'complete' | 'cancelled' | 'timedOut' | 'dropped' | 'failed';

export interface GroupSend {
  transport: UnidirectionalStreamOpener;
  data: DataCodec;
  trackAlias: number;
  group: Group;
  /** Objects before this ID are outside the subscription's filter. */
  firstObject: number;
  publisherPriority: number;
  sendOrder: number;
  format: ObjectFormat;
  deliveryTimeoutMs?: number;
  cancel: AbortSignal;
  /** The session's bound on bytes queued for this subscriber. */
  budget: SendBudget;
  /** Called once the stream exists (for PUBLISH_DONE's Stream Count). */
  onOpen(stream: PushSendStream): void;
}

const seenAt = new WeakMap<Group, number>();

/** When an IETF sender first saw `group` (now, if none had): its objects' arrival time for delivery timeouts. */
export function groupSeenAt(group: Group): number {
  let at = seenAt.get(group);
  if (at === undefined) {
    at = Date.now();
    seenAt.set(group, at);
  }
  return at;
}

/** Sends `send.group`; resolves (never rejects) once it is sent, or why not. */
export function sendGroup(send: GroupSend): Promise<GroupSendResult> {
  return new GroupSender(send).run();
}

/** An object converted and encoded, waiting for room in the budget. */
interface Encoded {
  chunks: Uint8Array[];
  bytes: number;
  receivedAt: number;
}

export class GroupSender implements BudgetedSender, GroupListener {
  readonly #send: GroupSend;
  readonly #header: SubgroupHeader;
  #rank: number;
  #stream: PushSendStream | undefined;
  /** SUBGROUP_HEADER, until it goes out with the first object. */
  #pendingHeader: Uint8Array | undefined;
  /** Index of the next frame to look at. */
  #cursor = 0;
  #previousObject: number | undefined;
  #next: Encoded | undefined;
  /** Bytes written to the stream so far, and where each object not yet taken by the transport ends. */
  #written = 0;
  readonly #untaken: { end: number; deadline: number }[] = [];
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  #finished = false;
  #result: GroupSendResult | undefined;
  readonly #done: Promise<GroupSendResult>;
  #resolve!: (result: GroupSendResult) => void;

  constructor(send: GroupSend) {
    this.#send = send;
    this.#rank = send.sendOrder;
    this.#header = {
      trackAlias: send.trackAlias,
      groupId: send.group.sequence,
      subgroupId: 0,
      publisherPriority: send.publisherPriority,
      hasExtensions: send.format.extensions,
      endOfGroup: true,
      // draft-18+ FIRST_OBJECT (§10.4.2): the stream starts with the group's first object.
      firstObject: send.firstObject === 0,
    };
    this.#done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get rank(): number {
    return this.#rank;
  }

  get dropped(): boolean {
    return this.#result !== undefined && this.#result !== 'complete';
  }

  /** SUBSCRIBE_UPDATE changed the priority: re-rank the stream (§7.1, best effort). */
  setRank(rank: number): void {
    this.#rank = rank;
    if (this.#stream) this.#stream.sendOrder = rank;
  }

  // BudgetedSender: the budget resets us to make room for a more important group.
  drop(_reason: string): void {
    this.#stop('dropped', StreamResetCode.cancelled);
  }

  resume(): void {
    this.#pump();
  }

  // GroupListener: called synchronously by the relay.
  onFrame(): void {
    this.#pump();
  }

  onEnd(): void {
    this.#pump();
  }

  async run(): Promise<GroupSendResult> {
    const { cancel, group } = this.#send;
    groupSeenAt(group);
    if (cancel.aborted) return 'cancelled';
    const opening = openPushSendStream(this.#send.transport, this.#rank);
    const stream = await untilAborted(opening, cancel).catch(() => undefined);
    if (!stream) {
      // Cancelled while the transport was still opening it: reset it once it arrives.
      void opening.then((late) => late.reset(StreamResetCode.cancelled)).catch(() => undefined);
      return cancel.aborted ? 'cancelled' : 'failed';
    }
    if (cancel.aborted || this.#result !== undefined || stream.ended) {
      stream.reset(StreamResetCode.cancelled);
      return this.#result ?? (cancel.aborted ? 'cancelled' : 'failed');
    }
    this.#stream = stream;
    if (stream.sendOrder !== this.#rank) stream.sendOrder = this.#rank;
    this.#send.onOpen(stream);
    stream.onProgress = () => this.#progress();
    stream.onStopped = () => this.#end('failed');
    cancel.addEventListener('abort', this.#onCancel, { once: true });
    this.#pendingHeader = encodeSubgroupHeader(this.#header, this.#send.data);
    group.listen(this);
    this.#pump();
    return this.#done;
  }

  readonly #onCancel = (): void => this.#stop('cancelled', StreamResetCode.cancelled);

  /** Writes from the cursor as far as the budget allows; FIN (or a reset) at the group's end. */
  #pump(): void {
    const stream = this.#stream;
    if (!stream || this.#result !== undefined || this.#finished) return;
    const { group, budget, deliveryTimeoutMs } = this.#send;
    // The publisher reset the group (or the relay evicted it): so does the subscriber's copy.
    if (group.error) return this.#stop('failed', StreamResetCode.internalError);
    try {
      for (;;) {
        const next = this.#next ?? this.#encodeNext();
        if (!next) break;
        this.#next = next;
        if (deliveryTimeoutMs !== undefined && Date.now() - next.receivedAt > deliveryTimeoutMs) return this.#stop('timedOut', StreamResetCode.deliveryTimeout);
        if (!budget.reserve(this, next.bytes)) return this.#armDeadline();
        this.#next = undefined;
        for (const chunk of next.chunks) stream.write(chunk);
        if (this.#result !== undefined) return; // the write found the stream stopped
        this.#written += next.bytes;
        if (deliveryTimeoutMs !== undefined) this.#untaken.push({ end: this.#written, deadline: next.receivedAt + deliveryTimeoutMs });
        budget.update(this, stream.queuedBytes);
      }
    } catch {
      // A frame the object format cannot convert: this group cannot be sent.
      return this.#stop('failed', StreamResetCode.internalError);
    }
    if (!group.done) return this.#armDeadline();
    this.#finished = true;
    group.unlisten(this);
    if (this.#pendingHeader) {
      // No object of this group was inside the filter: the header alone, then FIN.
      stream.write(this.#pendingHeader);
      this.#pendingHeader = undefined;
    }
    stream.finish();
    this.#progress();
  }

  /** The next frame inside the filter as an object, or undefined when none is waiting. */
  #encodeNext(): Encoded | undefined {
    const { group, firstObject, format, data } = this.#send;
    while (this.#cursor < group.frames.length) {
      const objectId = this.#cursor++;
      if (objectId < firstObject) continue;
      const object = format.convert(group.frames[objectId]!);
      const head = encodeSubgroupObjectHead(this.#header, { objectId, status: 'normal', ...object }, this.#previousObject, data);
      this.#previousObject = objectId;
      // The header goes out with the first object, under that object's deadline.
      const chunks = this.#pendingHeader ? [this.#pendingHeader, head, object.payload] : [head, object.payload];
      this.#pendingHeader = undefined;
      let bytes = 0;
      for (const chunk of chunks) bytes += chunk.byteLength;
      return { chunks: chunks.filter((chunk) => chunk.byteLength > 0), bytes, receivedAt: this.#receivedAt(objectId) };
    }
    return undefined;
  }

  /** Frames cached before any IETF sender saw the group count from then, later ones from their arrival. */
  #receivedAt(index: number): number {
    const arrival = this.#send.group.arrivals[index];
    const arrivedAt = arrival === undefined ? Date.now() : Date.now() - (performance.now() - arrival);
    return Math.max(groupSeenAt(this.#send.group), arrivedAt);
  }

  /** The stream's queue shrank (or a deadline passed): forget delivered objects, finish when drained. */
  #progress(): void {
    const stream = this.#stream;
    if (!stream || this.#result !== undefined) return;
    this.#send.budget.update(this, stream.queuedBytes);
    const taken = this.#written - stream.queuedBytes;
    while (this.#untaken.length > 0 && this.#untaken[0]!.end <= taken) this.#untaken.shift();
    if (this.#finished && stream.queuedBytes === 0) return this.#end('complete');
    this.#armDeadline();
  }

  /** With a delivery timeout: wake at the first deadline of an object not yet taken by the transport. */
  #armDeadline(): void {
    const timeout = this.#send.deliveryTimeoutMs;
    if (timeout === undefined || this.#deadlineTimer !== undefined) return;
    const first = this.#untaken[0]?.deadline ?? (this.#next ? this.#next.receivedAt + timeout : undefined);
    if (first === undefined) return;
    this.#deadlineTimer = setTimeout(() => {
      this.#deadlineTimer = undefined;
      if (this.#result !== undefined) return;
      const now = Date.now();
      const stream = this.#stream!;
      const taken = this.#written - stream.queuedBytes;
      while (this.#untaken.length > 0 && this.#untaken[0]!.end <= taken) this.#untaken.shift();
      const head = this.#untaken[0];
      if ((head && head.deadline <= now) || (!head && this.#next && this.#next.receivedAt + timeout <= now)) {
        return this.#stop('timedOut', StreamResetCode.deliveryTimeout);
      }
      this.#armDeadline();
    }, Math.max(0, first - Date.now()) + 1);
  }

  /** Resets the stream (its queued bytes are dropped with it) and ends with `result`. */
  #stop(result: GroupSendResult, code: number): void {
    if (this.#result !== undefined) return;
    if (!this.#stream) {
      // Not open yet: run() resets the stream once it is.
      this.#result = result;
      return;
    }
    this.#stream.reset(code);
    this.#end(result);
  }

  #end(result: GroupSendResult): void {
    if (this.#result !== undefined) return;
    this.#result = result;
    const { group, budget, cancel } = this.#send;
    group.unlisten(this);
    cancel.removeEventListener('abort', this.#onCancel);
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#next = undefined;
    this.#untaken.length = 0;
    if (this.#stream) {
      this.#stream.onProgress = undefined;
      this.#stream.onStopped = undefined;
    }
    budget.release(this);
    this.#resolve(result);
  }
}

/** `promise`'s value, or undefined as soon as `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
