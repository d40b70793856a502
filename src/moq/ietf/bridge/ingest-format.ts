/**
 * How objects from an IETF publisher are stored in the relay, so moq-lite/hang subscribers can read
 * them: an MSF catalog becomes `catalog.json`, LOC objects of the catalog's tracks become legacy
 * frames (timestamp varint + the payload bytes), anything else is stored as its payload.
 */
import { encodeCatalog } from '../../../media/hang/catalog.ts';
import { encodeLegacyFrame } from '../../../media/hang/container.ts';
import { locTimestampUs } from '../../../media/loc/properties.ts';
import { type MsfCatalog, parseMsfCatalog } from '../../../media/msf/catalog.ts';
import { tracksFromMsfCatalog } from '../../../media/msf/to-hang.ts';
import type { MoqObject } from '../data/objects.ts';

/** A relay frame for the object, or undefined to store nothing (e.g. an MSF delta update). */
export type ObjectToFrame = (object: MoqObject) => Uint8Array | undefined;

export const payloadOnly: ObjectToFrame = (object) => object.payload;

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
