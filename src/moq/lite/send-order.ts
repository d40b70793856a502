/**
 * WebTransport `sendOrder` for a group stream (higher is sent first), following moq-lite
 * §Prioritization: subscriber priority first, then publisher (track) priority, then group
 * order — newest first unless the subscriber asked for ordered delivery (lite-03+).
 * Packed into one integer below 2^53: 8 + 8 + 36 bits.
 */
const SEQUENCE_BITS = 2 ** 36;

export function groupSendOrder(subscriberPriority: number, publisherPriority: number, sequence: number, ordered: boolean): number {
  const seq = Math.min(Math.max(sequence, 0), SEQUENCE_BITS - 1);
  const within = ordered ? SEQUENCE_BITS - 1 - seq : seq;
  return clampU8(subscriberPriority) * 2 ** 44 + clampU8(publisherPriority) * SEQUENCE_BITS + within;
}

function clampU8(value: number): number {
  return Math.min(Math.max(Math.trunc(value), 0), 255);
}
