/**
 * The seam between IETF sessions and media formats. The relay holds broadcasts in whatever form
 * their publishers sent; how an IETF peer sees them (e.g. hang ⇄ MSF/LOC) is media knowledge the
 * composition root injects here, so this protocol code imports no codec or catalog format.
 * Without a bridge every track passes through by name, objects stored and sent as their payload.
 */
import type { Broadcast } from '../../relay/broadcast.ts';
import type { MoqObject } from './data/objects.ts';
import type { IetfVersion } from './version.ts';
import type { KeyValuePair } from './wire/key-value.ts';

/** The IETF peer a conversion is for: its draft and its MOQT IMPLEMENTATION string, when it sent one. */
export interface IetfPeer {
  version: IetfVersion;
  implementation: string | undefined;
}

// --- egress: relay frames → IETF objects ---

export interface ObjectShape {
  extensions: KeyValuePair[];
  payload: Uint8Array;
}

/** Turns relay frames into the objects an IETF subscriber receives. */
export interface ObjectFormat {
  /** Objects carry extension headers (decides the subgroup header's EXTENSIONS bit). */
  extensions: boolean;
  convert(frame: Uint8Array): ObjectShape;
}

export const passthrough: ObjectFormat = { extensions: false, convert: (frame) => ({ extensions: [], payload: frame }) };

export interface EgressTrack {
  /** The relay track to read. */
  relayName: string;
  /** Resolves to the per-frame conversion (may wait for the broadcast's catalog). */
  format: () => Promise<ObjectFormat>;
}

// --- ingest: IETF objects → relay frames ---

/** A relay frame for the object, or undefined to store nothing (e.g. an MSF delta update). */
export type ObjectToFrame = (object: MoqObject) => Uint8Array | undefined;

export const payloadOnly: ObjectToFrame = (object) => object.payload;

/** One IETF track to subscribe upstream for a relay track, and how its objects are stored. */
export interface UpstreamCandidate {
  ietfName: string;
  format: () => Promise<ObjectToFrame>;
  /** The publisher accepted this candidate. */
  onAccepted?: () => void;
}

/**
 * How one IETF publisher's broadcast is stored in the relay. One per broadcast: it may learn the
 * broadcast's format from its catalog as tracks arrive.
 */
export interface IngestTranslator {
  /**
   * IETF tracks to subscribe upstream, in order until the publisher accepts one, when a relay
   * subscriber asks for `relayName`; undefined refuses the request.
   */
  upstream(relayName: string): UpstreamCandidate[] | undefined;
  /** The upstream request for `relayName` ended with not-found: every candidate was refused. */
  refused(relayName: string): void;
  /** A relay track to request as well once `relayName` was (the catalog that says how to convert it). */
  companion(relayName: string): { name: string; priority: number } | undefined;
  /** PUBLISH of `ietfName`: the relay track it is stored as, and the conversion of its objects. */
  pushed(ietfName: string): { relayName: string; format: () => Promise<ObjectToFrame> };
}

/** Media knowledge for IETF sessions, both directions. */
export interface IetfMediaBridge {
  /**
   * The relay track and conversion that serve IETF track `ietfName` of `broadcast` to `peer`; waits
   * at most `probeMs` for a catalog.
   */
  egressTrack(broadcast: Broadcast, ietfName: string, probeMs: number, peer: IetfPeer): Promise<EgressTrack>;
  /** A translator for a new IETF-published broadcast; media tracks wait at most `catalogWaitMs` for its catalog. */
  ingestTranslator(catalogWaitMs: number): IngestTranslator;
}

/** Tracks pass through under their own names, objects stored and sent as their payload. */
export const passthroughBridge: IetfMediaBridge = {
  egressTrack: async (_broadcast, ietfName) => ({ relayName: ietfName, format: async () => passthrough }),
  ingestTranslator: () => ({
    upstream: (relayName) => [{ ietfName: relayName, format: async () => payloadOnly }],
    refused: () => undefined,
    companion: () => undefined,
    pushed: (ietfName) => ({ relayName: ietfName, format: async () => payloadOnly }),
  }),
};
