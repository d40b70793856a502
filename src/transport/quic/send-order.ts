/**
 * Maps a WebTransport `sendOrder` (W3C WebTransport: higher is sent first; MoQ relays use the
 * track/group priority, 0..255) onto quiche's RFC 9218 urgency (0 first .. 7 last).
 * 256 sendOrder values fold into 8 urgency buckets of 32; values outside 0..255 clamp.
 * Streams without a sendOrder keep RFC 9218's default urgency 3.
 */
const DEFAULT_URGENCY = 3;

export function urgencyForSendOrder(sendOrder: number | null | undefined): number {
  if (sendOrder === null || sendOrder === undefined || Number.isNaN(sendOrder)) return DEFAULT_URGENCY;
  const clamped = Math.min(255, Math.max(0, Math.trunc(sendOrder)));
  return 7 - (clamped >> 5);
}
