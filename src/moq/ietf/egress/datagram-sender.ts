/**
 * Sends a relay group whose objects reached the relay as datagrams the same way: one
 * OBJECT_DATAGRAM per frame (draft-16 §10.3; "in a subscription, an Object MUST be sent
 * according to its Object Forwarding Preference", §10.2.1). END_OF_GROUP is set on a frame that
 * is known to be the last when it is sent. Nothing waits on a datagram: one the transport cannot
 * take now is dropped, as the network may drop any datagram, and an object already older than
 * the delivery timeout (§9.2.1.2) is not sent at all.
 */
import type { Group } from '../../../relay/group.ts';
import type { ObjectFormat } from '../media-bridge.ts';
import type { DataCodec } from '../data/data-codec.ts';
import { groupSeenAt, untilAborted, type GroupSendResult } from './group-sender.ts';

export interface DatagramGroupSend {
  /** Hands one datagram to the transport without waiting; false when it was dropped. */
  sendDatagram(datagram: Uint8Array): boolean;
  data: DataCodec;
  trackAlias: number;
  group: Group;
  /** Objects before this ID are outside the subscription's filter. */
  firstObject: number;
  publisherPriority: number;
  format: ObjectFormat;
  deliveryTimeoutMs?: number;
  cancel: AbortSignal;
}

export interface DatagramGroupResult {
  result: GroupSendResult;
  /** Objects not handed to the transport (queue full, or past the delivery timeout). */
  dropped: number;
}

export async function sendGroupAsDatagrams(send: DatagramGroupSend): Promise<DatagramGroupResult> {
  const { group } = send;
  const reader = group.reader();
  let dropped = 0;
  for (let objectId = 0; ; objectId++) {
    let frame = reader.tryReadFrame();
    let receivedAt = groupSeenAt(group);
    if (!frame) {
      frame = await untilAborted(reader.readFrame(), send.cancel).catch(() => undefined);
      receivedAt = Date.now();
    }
    if (send.cancel.aborted) return { result: 'cancelled', dropped };
    if (!frame) return { result: group.error ? 'failed' : 'complete', dropped };
    if (objectId < send.firstObject) continue;
    if (send.deliveryTimeoutMs !== undefined && Date.now() - receivedAt > send.deliveryTimeoutMs) {
      dropped++;
      continue;
    }
    const object = send.format.convert(frame);
    const datagram = send.data.encodeDatagram({
      trackAlias: send.trackAlias,
      groupId: group.sequence,
      objectId,
      publisherPriority: send.publisherPriority,
      endOfGroup: group.done && reader.position === group.frames.length,
      status: 'normal',
      extensions: object.extensions,
      payload: object.payload,
    });
    if (!send.sendDatagram(datagram)) dropped++;
  }
}
