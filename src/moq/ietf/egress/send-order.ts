/**
 * WebTransport sendOrder (higher is sent first) for a data stream, following the draft-16 §7.2
 * scheduling order: subscriber priority, then publisher priority (both: lower number wins), then
 * the subscription's group order. Each request uses one subgroup per group, so subgroup order
 * never has to break a tie. Stays below 2^49, well inside a safe integer.
 */
import type { GroupOrder } from '../messages.ts';

const GROUP_SPAN = 2 ** 32;

export function dataSendOrder(subscriberPriority: number, publisherPriority: number, order: GroupOrder, groupId: number): number {
  const priorities = (255 - clampPriority(subscriberPriority)) * 256 + (255 - clampPriority(publisherPriority));
  const position = groupId % GROUP_SPAN;
  return priorities * GROUP_SPAN + (order === 'descending' ? position : GROUP_SPAN - 1 - position);
}

/** The control stream goes before all data (§7.2). */
export const CONTROL_SEND_ORDER = Number.MAX_SAFE_INTEGER;

/** Relay / moq-lite priority (higher first; hang: catalog 100, audio 80, video 60) → IETF priority (lower first). */
export function ietfPriority(relayPriority: number): number {
  return 255 - clampPriority(relayPriority);
}

/** IETF priority (lower first) → relay priority (higher first). */
export function relayPriority(ietfPriorityValue: number): number {
  return 255 - clampPriority(ietfPriorityValue);
}

function clampPriority(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}
