/**
 * Resolves a subscription filter against the track's Largest Object (draft-16 §5.1.2) into the
 * range of objects the subscription delivers.
 */
import type { SubscriptionFilter } from '../messages.ts';
import type { Location } from '../wire/location.ts';

export interface DeliveryRange {
  start: Location;
  /** Inclusive last group; undefined for open-ended subscriptions. */
  endGroup?: number;
}

export type FilterResolution = { ok: true; range: DeliveryRange } | { ok: false; reason: string };

/**
 * `joinGroup` starts Largest Object subscriptions at the head of the current group (the moq-rs
 * reading) instead of the object after Largest.
 */
export function resolveFilter(filter: SubscriptionFilter | undefined, largest: Location | undefined, joinGroup = false): FilterResolution {
  const origin = { group: 0, object: 0 };
  switch (filter?.type) {
    case undefined:
      return { ok: true, range: { start: origin } };
    case 'nextGroupStart':
      return { ok: true, range: { start: largest ? { group: largest.group + 1, object: 0 } : origin } };
    case 'largestObject':
      if (!largest) return { ok: true, range: { start: origin } };
      return { ok: true, range: { start: joinGroup ? { group: largest.group, object: 0 } : { group: largest.group, object: largest.object + 1 } } };
    case 'absoluteStart':
      return { ok: true, range: { start: filter.start } };
    case 'absoluteRange':
      if (filter.endGroup < filter.start.group) return { ok: false, reason: 'end group precedes the start' };
      // §9.7: a range whose end group is already fully published cannot be satisfied.
      if (largest && filter.endGroup < largest.group) return { ok: false, reason: 'end group already published' };
      return { ok: true, range: { start: filter.start, endGroup: filter.endGroup } };
  }
}
