/**
 * Track Extensions (draft-16 §2.6, §11): the delta-encoded Key-Value-Pairs that end SUBSCRIBE_OK,
 * PUBLISH and FETCH_OK, running to the end of the message. Unknown extensions are kept so a relay
 * can forward them.
 */
import type { ByteReader } from '../../../wire/byte-reader.ts';
import type { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_PARAMETERS } from '../limits.ts';
import type { TrackProperties } from '../messages.ts';
import { decodeGroupOrder, encodeGroupOrder } from '../wire/filter.ts';
import { type KeyValuePair, readKeyValuePairsToEnd, varintValue, writeKeyValuePairs } from '../wire/key-value.ts';

const TrackExtension = {
  deliveryTimeout: 0x02n,
  maxCacheDuration: 0x04n,
  defaultPublisherPriority: 0x0en,
  defaultPublisherGroupOrder: 0x22n,
} as const;

/** `zeroTimeoutAllowed`: draft-18+ reads a DELIVERY_TIMEOUT of 0 as "no timeout" (draft-18 §11.1). */
export function readTrackExtensions(reader: ByteReader, zeroTimeoutAllowed = false): TrackProperties {
  const properties: TrackProperties = { other: [] };
  for (const pair of readKeyValuePairsToEnd(reader, 'delta', MAX_PARAMETERS)) {
    switch (pair.type) {
      case TrackExtension.deliveryTimeout: {
        const value = varintValue(pair, 'DELIVERY_TIMEOUT extension');
        if (value === 0 && !zeroTimeoutAllowed) throw violation('DELIVERY_TIMEOUT extension must be greater than 0');
        properties.deliveryTimeoutMs = value;
        break;
      }
      case TrackExtension.maxCacheDuration:
        properties.maxCacheDurationMs = varintValue(pair, 'MAX_CACHE_DURATION extension');
        break;
      case TrackExtension.defaultPublisherPriority: {
        const value = varintValue(pair, 'DEFAULT_PUBLISHER_PRIORITY');
        if (value > 255) throw violation(`DEFAULT_PUBLISHER_PRIORITY ${value} exceeds 255`);
        properties.publisherPriority = value;
        break;
      }
      case TrackExtension.defaultPublisherGroupOrder:
        properties.groupOrder = decodeGroupOrder(varintValue(pair, 'DEFAULT_PUBLISHER_GROUP_ORDER'));
        break;
      default:
        properties.other.push(pair);
    }
  }
  return properties;
}

export function writeTrackExtensions(writer: ByteWriter, properties: TrackProperties): void {
  const pairs: KeyValuePair[] = [...properties.other];
  if (properties.deliveryTimeoutMs !== undefined) pairs.push({ type: TrackExtension.deliveryTimeout, value: BigInt(properties.deliveryTimeoutMs) });
  if (properties.maxCacheDurationMs !== undefined) pairs.push({ type: TrackExtension.maxCacheDuration, value: BigInt(properties.maxCacheDurationMs) });
  if (properties.publisherPriority !== undefined) {
    pairs.push({ type: TrackExtension.defaultPublisherPriority, value: BigInt(properties.publisherPriority) });
  }
  if (properties.groupOrder !== undefined) {
    pairs.push({ type: TrackExtension.defaultPublisherGroupOrder, value: BigInt(encodeGroupOrder(properties.groupOrder)) });
  }
  writeKeyValuePairs(writer, pairs, 'delta');
}
