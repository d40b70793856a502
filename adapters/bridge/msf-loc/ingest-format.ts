/**
 * How objects from an IETF publisher are stored in the relay, so moq-lite/hang subscribers can read
 * them: an MSF catalog becomes `catalog.json`, LOC objects of the catalog's tracks become legacy
 * frames (timestamp varint + the payload bytes), anything else is stored as its payload.
 */
import { encodeCatalog } from '../../../src/media/hang/catalog.ts';
import { encodeLegacyFrame } from '../../../src/media/hang/container.ts';
import { locTimestampUs } from '../../../src/media/loc/properties.ts';
import { type MsfCatalog, parseMsfCatalog } from '../../../src/media/msf/catalog.ts';
import { tracksFromMsfCatalog } from '../../../src/media/msf/to-hang.ts';
import type { ObjectToFrame } from '../../../src/moq/ietf/media-bridge.ts';

/** MSF catalog object → hang catalog.json frame. Delta updates (§5.3) are not applied. */
export function msfToHangCatalog(onCatalog?: (catalog: MsfCatalog) => void): ObjectToFrame {
  return (object) => {
    let catalog: MsfCatalog;
    try {
      catalog = parseMsfCatalog(object.payload);
    } catch {
      return undefined;
    }
    if (catalog.deltaUpdate) return undefined;
    onCatalog?.(catalog);
    return encodeCatalog(tracksFromMsfCatalog(catalog));
  };
}

/** LOC object → legacy frame; `timescale` is the track's MSF timescale, if the catalog gave one. */
export function locToLegacy(timescale?: number): ObjectToFrame {
  return (object) => encodeLegacyFrame(locTimestampUs(object.extensions, timescale) ?? 0, object.payload);
}
