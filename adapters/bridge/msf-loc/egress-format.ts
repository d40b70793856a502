/**
 * How a relay track looks to an IETF subscriber. The relay holds hang broadcasts; IETF peers speak
 * MSF + LOC (draft-ietf-moq-msf, draft-ietf-moq-loc):
 *
 * - IETF track `catalog` is `catalog.json` re-expressed as an MSF catalog, group for group.
 * - A legacy-container rendition named in the catalog becomes LOC: the varint timestamp moves into
 *   Timescale/Timestamp properties and the payload bytes are sent as they are (a view, no copy).
 * - Anything else (no catalog, unknown track, other containers) passes through as opaque objects.
 */
import type { Broadcast } from '../../../src/relay/broadcast.ts';
import { CATALOG_TRACK } from '../../../src/media/hang/catalog.ts';
import { decodeLegacyFrame } from '../../../src/media/hang/container.ts';
import { locTimestampProperties } from '../../../src/media/loc/properties.ts';
import { encodeMsfCatalog, MSF_CATALOG_TRACK } from '../../../src/media/msf/catalog.ts';
import { msfCatalogFromTracks } from '../../../src/media/msf/from-hang.ts';
import { type EgressTrack, type ObjectFormat, passthrough } from '../../../src/moq/ietf/media-bridge.ts';
import { type HangCatalog, parse, probeHangCatalog } from './catalog-probe.ts';

/** Maps an IETF track name on `broadcast` to the relay track and conversion that serve it. */
export async function resolveEgressTrack(broadcast: Broadcast, ietfName: string, probeMs: number): Promise<EgressTrack> {
  if (ietfName === MSF_CATALOG_TRACK) {
    const catalog = await probeHangCatalog(broadcast, probeMs);
    if (catalog) return { relayName: CATALOG_TRACK, format: async () => msfFromHangFrame };
    return { relayName: ietfName, format: async () => passthrough };
  }
  if (ietfName === CATALOG_TRACK) return { relayName: ietfName, format: async () => passthrough };
  let format: Promise<ObjectFormat> | undefined;
  return {
    relayName: ietfName,
    format: () => (format ??= probeHangCatalog(broadcast, probeMs).then((catalog) => mediaFormat(catalog, ietfName))),
  };
}

function mediaFormat(catalog: HangCatalog | undefined, name: string): ObjectFormat {
  return catalog?.has(name) ? legacyToLoc : passthrough;
}

/** hang legacy frame → LOC object; a frame that is not legacy goes through without properties. */
export const legacyToLoc: ObjectFormat = {
  extensions: true,
  convert(frame) {
    try {
      const legacy = decodeLegacyFrame(frame);
      return { extensions: locTimestampProperties(legacy.timestamp), payload: legacy.payload };
    } catch {
      return { extensions: [], payload: frame };
    }
  },
};

/** One catalog.json frame → one independent MSF catalog object (§5: every group starts complete). */
const msfFromHangFrame: ObjectFormat = {
  extensions: false,
  convert(frame) {
    const catalog: HangCatalog = parse(frame) ?? new Map();
    return { extensions: [], payload: encodeMsfCatalog(msfCatalogFromTracks(catalog)) };
  },
};
