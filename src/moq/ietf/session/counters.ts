/**
 * What one IETF session has moved, for the gateway's /metrics (the same four counters every MoQ
 * session keeps). Bytes are object payloads: counted where objects are converted, once per
 * object per subscriber (egress) or per stored object (ingest), so no send path needs a hook.
 */
import type { ObjectFormat, ObjectToFrame } from '../media-bridge.ts';

export interface IetfSessionCounters {
  /** Payload bytes of objects converted for this session's subscribers (subgroups, datagrams, FETCH). */
  bytesSent: number;
  /** Subgroup streams that ended with FIN: the whole group reached the transport. */
  groupsSent: number;
  /** Subgroup streams reset because the subscriber fell behind (too many open, or past its delivery timeout). */
  groupsDropped: number;
  /** Payload bytes of objects this session's publishers sent. */
  bytesReceived: number;
}

export function emptyCounters(): IetfSessionCounters {
  return { bytesSent: 0, groupsSent: 0, groupsDropped: 0, bytesReceived: 0 };
}

/** `format`, counting each converted object's payload as sent. */
export function countingSent(format: ObjectFormat, counters: IetfSessionCounters): ObjectFormat {
  return {
    extensions: format.extensions,
    convert: (frame) => {
      const object = format.convert(frame);
      counters.bytesSent += object.payload.byteLength;
      return object;
    },
  };
}

/** `toFrame`, counting each object's payload as received. */
export function countingReceived(toFrame: ObjectToFrame, counters: IetfSessionCounters): ObjectToFrame {
  return (object) => {
    counters.bytesReceived += object.payload.byteLength;
    return toFrame(object);
  };
}
