/**
 * PROBE (bidi type 4, lite-03+): the subscriber opens the stream; the publisher reports its
 * estimated send bitrate (bits/s), and from lite-04 the RTT in ms, 0 meaning unknown on the wire.
 */
import { ProtocolError } from '../../wire/errors.ts';
import { decodeMessage, encodeMessage } from './message.ts';
import { hasProbe, hasProbeRtt, type LiteVersion } from './version.ts';

export interface Probe {
  bitrate: number;
  /** lite-04: round-trip time in ms; undefined = unknown. */
  rtt?: number;
}

export function encodeProbe(message: Probe, version: LiteVersion): Uint8Array {
  if (!hasProbe(version)) throw new RangeError('PROBE exists only in lite-03+');
  return encodeMessage((w) => {
    w.varint(message.bitrate);
    // A known RTT of 0 would read as "unknown", so it goes out as 1 (as the reference does).
    if (hasProbeRtt(version)) w.varint(message.rtt === undefined ? 0 : Math.max(message.rtt, 1));
  });
}

export function decodeProbe(body: Uint8Array, version: LiteVersion): Probe {
  if (!hasProbe(version)) throw new ProtocolError('unsupported-version', 'PROBE exists only in lite-03+');
  return decodeMessage(body, 'PROBE', (r) => {
    const bitrate = r.varint();
    if (!hasProbeRtt(version)) return { bitrate };
    const rtt = r.varint();
    return rtt === 0 ? { bitrate } : { bitrate, rtt };
  });
}
