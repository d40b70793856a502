/**
 * Subscription Filter (draft-16 §5.1.2; inline in draft-14 SUBSCRIBE and PUBLISH_OK): a filter type,
 * then a start Location for the absolute filters and an end Group for AbsoluteRange.
 */
import type { ByteReader } from '../../../wire/byte-reader.ts';
import type { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import type { GroupOrder, SubscriptionFilter } from '../messages.ts';
import { readLocation, writeLocation } from './location.ts';

const FilterType = { nextGroupStart: 0x1, largestObject: 0x2, absoluteStart: 0x3, absoluteRange: 0x4 } as const;

/**
 * A subscription filter. `endGroupDelta`: AbsoluteRange's end is written as a delta from its
 * start group (draft-18 §5.1.2), not as a group number (drafts 14 and 16).
 */
export function readFilter(reader: ByteReader, endGroupDelta = false): SubscriptionFilter {
  const type = reader.varint();
  switch (type) {
    case FilterType.nextGroupStart:
      return { type: 'nextGroupStart' };
    case FilterType.largestObject:
      return { type: 'largestObject' };
    case FilterType.absoluteStart:
      return { type: 'absoluteStart', start: readLocation(reader) };
    case FilterType.absoluteRange: {
      const start = readLocation(reader);
      const end = reader.varint();
      const endGroup = endGroupDelta ? start.group + end : end;
      if (!Number.isSafeInteger(endGroup)) throw violation('AbsoluteRange end group overflows');
      return { type: 'absoluteRange', start, endGroup };
    }
    default:
      throw violation(`unknown subscription filter type ${type}`);
  }
}

export function writeFilter(writer: ByteWriter, filter: SubscriptionFilter, endGroupDelta = false): void {
  writer.varint(FilterType[filter.type]);
  if (filter.type === 'absoluteStart' || filter.type === 'absoluteRange') writeLocation(writer, filter.start);
  if (filter.type === 'absoluteRange') {
    if (endGroupDelta && filter.endGroup < filter.start.group) throw new RangeError('AbsoluteRange end group before its start');
    writer.varint(endGroupDelta ? filter.endGroup - filter.start.group : filter.endGroup);
  }
}

/**
 * Group Order byte/varint: 1 ascending, 2 descending, and 0 read as "no order stated" (undefined)
 * in every message of every draft: the requester's "publisher's preference" (draft-14 SUBSCRIBE
 * and FETCH, draft-16 §7.1 "Priorities"), and where a draft lists only 1 and 2 (draft-14
 * SUBSCRIBE_OK, PUBLISH, PUBLISH_OK, FETCH_OK; draft-16 GROUP_ORDER and
 * DEFAULT_PUBLISHER_GROUP_ORDER) the same "nothing said" the message's default covers. Shaka
 * Player's MSF client sends 0 on every SUBSCRIBE of both drafts; being liberal costs nothing here.
 * Larger values stay a protocol violation.
 */
export function decodeGroupOrder(value: number | bigint): GroupOrder | undefined {
  if (value === 1 || value === 1n) return 'ascending';
  if (value === 2 || value === 2n) return 'descending';
  if (value === 0 || value === 0n) return undefined;
  throw violation(`invalid group order ${value}`);
}

export function encodeGroupOrder(order: GroupOrder | undefined): number {
  return order === 'ascending' ? 1 : order === 'descending' ? 2 : 0;
}

/** A u8 that must be 0 or 1 (Forward, Content Exists, End Of Track). */
export function readFlag(reader: ByteReader, what: string): boolean {
  const value = reader.u8();
  if (value > 1) throw violation(`${what} must be 0 or 1, got ${value}`);
  return value === 1;
}
