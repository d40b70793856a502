/**
 * How a relay track looks to an IETF subscriber. The relay holds hang broadcasts; IETF peers speak
 * MSF + LOC (draft-ietf-moq-msf, draft-ietf-moq-loc):
 *
 * - IETF track `catalog` is `catalog.json` re-expressed as an MSF catalog, group for group.
 * - A legacy-container rendition named in the catalog becomes LOC: the varint timestamp moves into
 *   Timescale/Timestamp properties and the payload bytes are sent as they are (a view, no copy),
 *   except that H.264/H.265 key frames get the description's parameter sets in front
 *   (src/media/loc/in-band.ts), from the catalog current when the key frame goes out.
 * - Anything else (no catalog, unknown track, other containers) passes through as opaque objects.
 *
 * Shaka Player (MOQT IMPLEMENTATION `ShakaPlayer/...`) gets its LOC timestamps under LOC draft-03's
 * id, the only one it reads, in the object's properties and in a LOC Private Properties block in
 * front of the payload, which it would otherwise guess at (src/media/loc/properties.ts).
 */
import type { Broadcast } from '../../../src/relay/broadcast.ts';
import { CATALOG_TRACK } from '../../../src/media/hang/catalog.ts';
import { decodeLegacyFrame } from '../../../src/media/hang/container.ts';
import type { TrackInfo } from '../../../src/media/frame.ts';
import { estimateFramerate } from '../../../src/media/frame-rate.ts';
import { inBandParameterSets, type InBandParameterSets } from '../../../src/media/loc/in-band.ts';
import { type LocProperty, locDraft03TimestampProperties, locTimestampProperties, withLocDraft03PrivateTimestamp } from '../../../src/media/loc/properties.ts';
import { encodeMsfCatalog, MSF_CATALOG_TRACK } from '../../../src/media/msf/catalog.ts';
import { msfCatalogFromTracks } from '../../../src/media/msf/from-hang.ts';
import { type EgressTrack, type IetfPeer, type ObjectFormat, passthrough } from '../../../src/moq/ietf/media-bridge.ts';
import { type HangCatalog, latestHangCatalogFrame, parse, probeHangCatalog } from './catalog-probe.ts';

/** Maps an IETF track name on `broadcast` to the relay track and conversion that serve it. */
export async function resolveEgressTrack(broadcast: Broadcast, ietfName: string, probeMs: number, peer?: IetfPeer): Promise<EgressTrack> {
  if (ietfName === MSF_CATALOG_TRACK) {
    const catalog = await probeHangCatalog(broadcast, probeMs);
    if (catalog) return { relayName: CATALOG_TRACK, format: async () => msfFromHangFrames(broadcast) };
    return { relayName: ietfName, format: async () => passthrough };
  }
  if (ietfName === CATALOG_TRACK) return { relayName: ietfName, format: async () => passthrough };
  let format: Promise<ObjectFormat> | undefined;
  return {
    relayName: ietfName,
    format: () => (format ??= probeHangCatalog(broadcast, probeMs).then((catalog) => mediaFormat(broadcast, catalog, ietfName, peer))),
  };
}

function mediaFormat(broadcast: Broadcast, catalog: HangCatalog | undefined, name: string, peer: IetfPeer | undefined): ObjectFormat {
  const info = catalog?.get(name);
  if (!info) return passthrough;
  const parameterSets = currentParameterSets(broadcast, name, info);
  if (!isShaka(peer)) return legacyToLocFormat(locTimestampProperties, parameterSets);
  return legacyToLocFormat(locDraft03TimestampProperties, parameterSets, withLocDraft03PrivateTimestamp);
}

/**
 * Shaka Player 5.2.12 reads LOC Timestamp 0x06 only, and strips a LOC Private Properties block
 * from each payload, guessing when there is none (src/media/loc/properties.ts).
 */
function isShaka(peer: IetfPeer | undefined): boolean {
  return /^ShakaPlayer\//.test(peer?.implementation ?? '');
}

/**
 * The in-band parameter sets for `name` as the broadcast's latest catalog describes it (a new SPS
 * comes with a new catalog and a new group), or undefined when the track needs none.
 */
function currentParameterSets(broadcast: Broadcast, name: string, initial: TrackInfo): (() => InBandParameterSets | undefined) | undefined {
  let sets = inBandParameterSets(initial);
  if (!sets) return undefined;
  let catalogFrame: Uint8Array | undefined;
  return () => {
    const latest = latestHangCatalogFrame(broadcast);
    if (latest && latest !== catalogFrame) {
      catalogFrame = latest;
      const info = parse(latest)?.get(name);
      sets = info ? inBandParameterSets(info) : undefined;
    }
    return sets;
  };
}

/** hang legacy frame → LOC object; a frame that is not legacy goes through without properties. */
function legacyToLocFormat(
  timestamps: (us: number) => LocProperty[],
  parameterSets: (() => InBandParameterSets | undefined) | undefined,
  privateProperties?: (payload: Uint8Array, us: number) => Uint8Array,
): ObjectFormat {
  // Key frames are told apart by their NAL headers with the track's first description; its NAL
  // length size does not change within a track.
  const first = parameterSets?.();
  return {
    extensions: true,
    convert(frame) {
      try {
        const legacy = decodeLegacyFrame(frame);
        let payload = legacy.payload;
        if (first?.needsParameterSets(payload)) payload = parameterSets?.()?.withParameterSets(payload) ?? payload;
        if (privateProperties) payload = privateProperties(payload, legacy.timestamp);
        return { extensions: timestamps(legacy.timestamp), payload };
      } catch {
        return { extensions: [], payload: frame };
      }
    },
  };
}

/** hang legacy frame → LOC object with standard properties and the payload untouched. */
export const legacyToLoc: ObjectFormat = legacyToLocFormat(locTimestampProperties, undefined);

/**
 * One catalog.json frame → one independent MSF catalog object (§5: every group starts complete).
 * A video track without a frame rate gets the one its cached frames show.
 */
function msfFromHangFrames(broadcast: Broadcast): ObjectFormat {
  return {
    extensions: false,
    convert(frame) {
      const catalog: HangCatalog = parse(frame) ?? new Map();
      return { extensions: [], payload: encodeMsfCatalog(msfCatalogFromTracks(catalog, { measuredFramerate: (name) => cachedFramerate(broadcast, name) })) };
    },
  };
}

/** Frame rate of the relay track's latest cached group (or the one before, when it has just begun). */
function cachedFramerate(broadcast: Broadcast, name: string): number | undefined {
  const track = broadcast.tracks().find((t) => t.name === name && !t.ended);
  const groups = track ? [track.latest, ...track.cachedGroups().slice(-2, -1)] : [];
  for (const group of groups) {
    const timestamps: number[] = [];
    for (const frame of group?.frames.slice(-60) ?? []) {
      try {
        timestamps.push(decodeLegacyFrame(frame).timestamp);
      } catch {
        return undefined;
      }
    }
    const fps = estimateFramerate(timestamps);
    if (fps) return fps;
  }
  return undefined;
}
