/**
 * Subscribe stream messages (bidi type 2). The subscriber opens the stream with SUBSCRIBE and may
 * follow with SUBSCRIBE_UPDATE; the publisher answers SUBSCRIBE_OK (lite-03+: each answer is
 * prefixed with a response type, 0 = SUBSCRIBE_OK, 1 = SUBSCRIBE_DROP). Groups then flow on uni
 * streams tagged with the subscribe id.
 *
 * Per version (lite Appendix A, and what @moq/lite 0.2.2 encodes):
 * - lite-01/02: SUBSCRIBE = id, broadcast, track, priority; SUBSCRIBE_UPDATE = priority;
 *   SUBSCRIBE_OK = priority (01) or empty (02).
 * - lite-03/04: SUBSCRIBE, SUBSCRIBE_UPDATE and SUBSCRIBE_OK add ordered (bool), max latency (ms),
 *   start group and end group, both encoded as sequence + 1 with 0 meaning "latest"/"unbounded".
 */
import type { ByteReader } from '../../wire/byte-reader.ts';
import type { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError } from '../../wire/errors.ts';
import type { StreamReader } from '../../wire/stream-reader.ts';
import { decodeMessage, encodeMessage } from './message.ts';
import { hasSubscribeRanges, LiteVersion } from './version.ts';

/** Delivery preferences shared by SUBSCRIBE, SUBSCRIBE_UPDATE and SUBSCRIBE_OK. */
export interface SubscriptionParameters {
  /** u8; higher is sent first. */
  priority: number;
  /** lite-03+: deliver groups oldest first (true) or newest first (false). */
  ordered: boolean;
  /** lite-03+: milliseconds; 0 = no limit. */
  maxLatency: number;
  /** lite-03+: first group to deliver; undefined = the latest. */
  startGroup?: number;
  /** lite-03+: last group to deliver (inclusive); undefined = unbounded. */
  endGroup?: number;
}

export interface Subscribe extends SubscriptionParameters {
  id: number;
  broadcast: string;
  track: string;
}

export type SubscribeUpdate = SubscriptionParameters;
export type SubscribeOk = SubscriptionParameters;

/** lite-03+: groups [start, end] will not be delivered. */
export interface SubscribeDrop {
  start: number;
  end: number;
  error: number;
}

export type SubscribeResponse = { kind: 'ok'; ok: SubscribeOk } | { kind: 'drop'; drop: SubscribeDrop };

const SubscribeResponseType = { Ok: 0x0, Drop: 0x1 } as const;

export function encodeSubscribe(message: Subscribe, version: LiteVersion): Uint8Array {
  return encodeMessage((w) => {
    w.varint(message.id).string(message.broadcast).string(message.track).u8(message.priority);
    if (hasSubscribeRanges(version)) writeRangeFields(w, message);
  });
}

export function decodeSubscribe(body: Uint8Array, version: LiteVersion): Subscribe {
  return decodeMessage(body, 'SUBSCRIBE', (r) => {
    const id = r.varint();
    const broadcast = r.string();
    const track = r.string();
    const priority = r.u8();
    // @moq/lite's default for an old-version SUBSCRIBE is unordered.
    if (!hasSubscribeRanges(version)) return { id, broadcast, track, priority, ordered: false, maxLatency: 0 };
    return { id, broadcast, track, priority, ...readRangeFields(r) };
  });
}

export function encodeSubscribeUpdate(message: SubscribeUpdate, version: LiteVersion): Uint8Array {
  return encodeMessage((w) => {
    w.u8(message.priority);
    if (hasSubscribeRanges(version)) writeRangeFields(w, message);
  });
}

export function decodeSubscribeUpdate(body: Uint8Array, version: LiteVersion): SubscribeUpdate {
  return decodeMessage(body, 'SUBSCRIBE_UPDATE', (r) => {
    const priority = r.u8();
    if (!hasSubscribeRanges(version)) return { priority, ordered: true, maxLatency: 0 };
    return { priority, ...readRangeFields(r) };
  });
}

/** SUBSCRIBE_OK alone (lite-01/02 send only this; lite-03+ wrap it in a response). */
export function encodeSubscribeOk(message: SubscribeOk, version: LiteVersion): Uint8Array {
  return encodeMessage((w) => {
    if (version === LiteVersion.Draft01) w.u8(message.priority);
    else if (hasSubscribeRanges(version)) {
      w.u8(message.priority);
      writeRangeFields(w, message);
    }
  });
}

export function decodeSubscribeOk(body: Uint8Array, version: LiteVersion): SubscribeOk {
  return decodeMessage(body, 'SUBSCRIBE_OK', (r) => {
    if (version === LiteVersion.Draft01) return { priority: r.u8(), ordered: true, maxLatency: 0 };
    if (!hasSubscribeRanges(version)) return { priority: 0, ordered: true, maxLatency: 0 };
    const priority = r.u8();
    return { priority, ...readRangeFields(r) };
  });
}

export function encodeSubscribeDrop(message: SubscribeDrop): Uint8Array {
  return encodeMessage((w) => w.varint(message.start).varint(message.end).varint(message.error));
}

export function decodeSubscribeDrop(body: Uint8Array): SubscribeDrop {
  return decodeMessage(body, 'SUBSCRIBE_DROP', (r) => ({ start: r.varint(), end: r.varint(), error: r.varint() }));
}

/** What the publisher writes on the subscribe stream for one answer. */
export function encodeSubscribeResponse(response: SubscribeResponse, version: LiteVersion): Uint8Array {
  if (!hasSubscribeRanges(version)) {
    if (response.kind !== 'ok') throw new RangeError('SUBSCRIBE_DROP exists only in lite-03+');
    return encodeSubscribeOk(response.ok, version);
  }
  const body = response.kind === 'ok' ? encodeSubscribeOk(response.ok, version) : encodeSubscribeDrop(response.drop);
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = response.kind === 'ok' ? SubscribeResponseType.Ok : SubscribeResponseType.Drop;
  out.set(body, 1);
  return out;
}

/** Reads one publisher answer from the subscribe stream. */
export async function readSubscribeResponse(
  reader: StreamReader,
  version: LiteVersion,
  maxBytes: number,
): Promise<SubscribeResponse> {
  if (!hasSubscribeRanges(version)) {
    return { kind: 'ok', ok: decodeSubscribeOk(await reader.message(maxBytes), version) };
  }
  const type = await reader.varint();
  switch (type) {
    case SubscribeResponseType.Ok:
      return { kind: 'ok', ok: decodeSubscribeOk(await reader.message(maxBytes), version) };
    case SubscribeResponseType.Drop:
      return { kind: 'drop', drop: decodeSubscribeDrop(await reader.message(maxBytes)) };
    default:
      throw new ProtocolError('invalid-value', `unknown subscribe response type ${type}`);
  }
}

function writeRangeFields(writer: ByteWriter, fields: SubscriptionParameters): void {
  writer
    .bool(fields.ordered)
    .varint(fields.maxLatency)
    .varint(fields.startGroup === undefined ? 0 : fields.startGroup + 1)
    .varint(fields.endGroup === undefined ? 0 : fields.endGroup + 1);
}

function readRangeFields(reader: ByteReader): Omit<SubscriptionParameters, 'priority'> {
  const ordered = reader.bool();
  const maxLatency = reader.varint();
  const start = reader.varint();
  const end = reader.varint();
  const fields: Omit<SubscriptionParameters, 'priority'> = { ordered, maxLatency };
  if (start > 0) fields.startGroup = start - 1;
  if (end > 0) fields.endGroup = end - 1;
  return fields;
}
