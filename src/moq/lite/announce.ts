/**
 * Announce stream messages (bidi type 1). The subscriber opens the stream with ANNOUNCE_PLEASE
 * (a path prefix); the publisher answers with the matching active broadcasts and then changes,
 * each as a path *suffix* relative to that prefix:
 * - lite-01/02: one ANNOUNCE_INIT (all active suffixes), then ANNOUNCE messages.
 * - lite-03: ANNOUNCE messages only (initial state included); ANNOUNCE carries a hop count.
 * - lite-04: ANNOUNCE carries the hop id list; ANNOUNCE_PLEASE an `exclude hop` id.
 */
import { ProtocolError } from '../../wire/errors.ts';
import { decodeMessage, encodeMessage } from './message.ts';
import { hasAnnounceInit, LiteVersion } from './version.ts';

/** Same bound as the reference implementation. */
const MAX_HOPS = 256;
/** Bounds the suffix list of one ANNOUNCE_INIT (also bounded by the message size). */
const MAX_INIT_SUFFIXES = 65536;

export interface AnnouncePlease {
  prefix: string;
  /** lite-04: hop id whose announcements the subscriber does not want back (0 = none). */
  excludeHop: number;
}

export interface Announce {
  /** True: the broadcast is now available; false: it ended. */
  active: boolean;
  /** Path relative to the ANNOUNCE_PLEASE prefix. */
  suffix: string;
  /**
   * Relay hops the announcement crossed. lite-03 only carries the count (decoded as zeros);
   * lite-01/02 carry nothing (decoded as []).
   */
  hops: number[];
}

export interface AnnounceInit {
  suffixes: string[];
}

export function encodeAnnouncePlease(message: AnnouncePlease, version: LiteVersion): Uint8Array {
  return encodeMessage((w) => {
    w.string(message.prefix);
    if (version >= LiteVersion.Draft04) w.varint(message.excludeHop);
  });
}

export function decodeAnnouncePlease(body: Uint8Array, version: LiteVersion): AnnouncePlease {
  return decodeMessage(body, 'ANNOUNCE_PLEASE', (r) => {
    const prefix = r.string();
    const excludeHop = version >= LiteVersion.Draft04 ? r.varint() : 0;
    return { prefix, excludeHop };
  });
}

export function encodeAnnounce(message: Announce, version: LiteVersion): Uint8Array {
  return encodeMessage((w) => {
    w.bool(message.active);
    w.string(message.suffix);
    if (version === LiteVersion.Draft03) {
      w.varint(message.hops.length);
    } else if (version >= LiteVersion.Draft04) {
      w.varint(message.hops.length);
      for (const hop of message.hops) w.varint(hop);
    }
  });
}

export function decodeAnnounce(body: Uint8Array, version: LiteVersion): Announce {
  return decodeMessage(body, 'ANNOUNCE', (r) => {
    const active = r.bool();
    const suffix = r.string();
    let hops: number[] = [];
    if (version === LiteVersion.Draft03) {
      hops = new Array<number>(r.varintAtMost(MAX_HOPS, 'hop count')).fill(0);
    } else if (version >= LiteVersion.Draft04) {
      const count = r.count('hop count', MAX_HOPS);
      for (let i = 0; i < count; i++) hops.push(r.varint());
    }
    return { active, suffix, hops };
  });
}

export function encodeAnnounceInit(message: AnnounceInit, version: LiteVersion): Uint8Array {
  if (!hasAnnounceInit(version)) throw new RangeError('ANNOUNCE_INIT exists only in lite-01/02');
  return encodeMessage((w) => {
    w.varint(message.suffixes.length);
    for (const suffix of message.suffixes) w.string(suffix);
  });
}

export function decodeAnnounceInit(body: Uint8Array, version: LiteVersion): AnnounceInit {
  if (!hasAnnounceInit(version)) throw new ProtocolError('unsupported-version', 'ANNOUNCE_INIT exists only in lite-01/02');
  return decodeMessage(body, 'ANNOUNCE_INIT', (r) => {
    const count = r.count('suffix count', MAX_INIT_SUFFIXES);
    const suffixes: string[] = [];
    for (let i = 0; i < count; i++) suffixes.push(r.string());
    return { suffixes };
  });
}
