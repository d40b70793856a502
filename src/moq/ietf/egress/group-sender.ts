/**
 * Sends one relay group to an IETF subscriber on its own subgroup stream (draft-16 §10.4.2):
 * SUBGROUP_HEADER (subgroup 0, END_OF_GROUP set so FIN marks the group's end), then one object per
 * frame in order. Payloads are written as views of the relay's frames, never copied or changed.
 *
 * The stream ends with FIN when the group is complete, or RESET_STREAM when the subscriber
 * cancelled (CANCELLED), an object outlived the delivery timeout (DELIVERY_TIMEOUT, §9.2.1.2) or
 * the group was aborted upstream (INTERNAL_ERROR). A stream the peer stopped is not reopened.
 */
import type { Group } from '../../../relay/group.ts';
import type { DataCodec } from '../data/data-codec.ts';
import type { SubgroupHeader } from '../data/objects.ts';
import { encodeSubgroupHeader, encodeSubgroupObjectHead } from '../data/subgroup-stream.ts';
import { StreamResetCode } from '../errors.ts';
import type { ObjectFormat } from '../media-bridge.ts';
import { streamError } from '../session/stream-error.ts';
import { withTimeout } from '../session/timers.ts';

export type GroupSendResult = 'complete' | 'cancelled' | 'timedOut' | 'failed';

export interface GroupSend {
  transport: WebTransport;
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
  /** Called once the stream exists (for PUBLISH_DONE's Stream Count). */
  onOpen(stream: WritableStream<Uint8Array>): void;
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

const TIMED_OUT = Symbol('timed out');

export async function sendGroup(send: GroupSend): Promise<GroupSendResult> {
  groupSeenAt(send.group);
  if (send.cancel.aborted) return 'cancelled';
  const opening = send.transport.createUnidirectionalStream({ sendOrder: send.sendOrder });
  const stream = await untilAborted(opening, send.cancel).catch(() => undefined);
  if (!stream) {
    // Cancelled while the transport was still opening it: reset it once it arrives.
    void opening.then((late) => late.abort(streamError(StreamResetCode.cancelled))).catch(() => undefined);
    return send.cancel.aborted ? 'cancelled' : 'failed';
  }
  send.onOpen(stream);
  const writer = stream.getWriter();
  writer.closed.catch(() => undefined);
  const reset = (code: number): void => void writer.abort(streamError(code)).catch(() => undefined);
  const onCancel = (): void => reset(StreamResetCode.cancelled);
  send.cancel.addEventListener('abort', onCancel, { once: true });

  const header: SubgroupHeader = {
    trackAlias: send.trackAlias,
    groupId: send.group.sequence,
    subgroupId: 0,
    publisherPriority: send.publisherPriority,
    hasExtensions: send.format.extensions,
    endOfGroup: true,
    // draft-18+ FIRST_OBJECT (§10.4.2): the stream starts with the group's first object.
    firstObject: send.firstObject === 0,
  };
  /** Writes `chunks`, giving up (reset) once the object's delivery deadline passes. */
  const deliver = async (chunks: Uint8Array[], receivedAt: number): Promise<boolean> => {
    const write = (async () => {
      for (const chunk of chunks) if (chunk.byteLength > 0) await writer.write(chunk);
    })();
    if (send.deliveryTimeoutMs === undefined) {
      await write;
      return true;
    }
    const remaining = send.deliveryTimeoutMs - (Date.now() - receivedAt);
    if (remaining > 0 && (await withTimeout(write, remaining, TIMED_OUT)) !== TIMED_OUT) return true;
    write.catch(() => undefined);
    reset(StreamResetCode.deliveryTimeout);
    return false;
  };
  try {
    const reader = send.group.reader();
    let pendingHeader: Uint8Array | undefined = encodeSubgroupHeader(header, send.data);
    let previous: number | undefined;
    for (let objectId = 0; ; objectId++) {
      let frame = reader.tryReadFrame();
      let receivedAt = groupSeenAt(send.group);
      if (!frame) {
        frame = await untilAborted(reader.readFrame(), send.cancel);
        receivedAt = Date.now();
      }
      if (send.cancel.aborted) return 'cancelled';
      if (!frame) break;
      if (objectId < send.firstObject) continue;
      const object = send.format.convert(frame);
      const head = encodeSubgroupObjectHead(header, { objectId, status: 'normal', ...object }, previous, send.data);
      previous = objectId;
      // The header goes out with the first object, under that object's deadline.
      const chunks = pendingHeader ? [pendingHeader, head, object.payload] : [head, object.payload];
      pendingHeader = undefined;
      if (!(await deliver(chunks, receivedAt))) return 'timedOut';
    }
    if (pendingHeader) await writer.write(pendingHeader);
    await writer.close();
    return 'complete';
  } catch {
    if (send.cancel.aborted) return 'cancelled';
    // The group was aborted upstream, or the peer stopped the stream: either way it is over.
    reset(StreamResetCode.internalError);
    return 'failed';
  } finally {
    send.cancel.removeEventListener('abort', onCancel);
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
