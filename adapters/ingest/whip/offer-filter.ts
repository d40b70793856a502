import type { WhipOfferPlan } from './offer-plan.ts';
import { serializeSdp, toAttribute, type SdpLine, type SdpMediaSection } from './sdp.ts';
import { attributePayloadType } from './sdp-rtp.ts';

/**
 * The offer as the WebRTC stack should see it: each planned section lists only the chosen
 * codec and its RTX, so the answer names exactly what we depacketize (RFC 3264 §6.1: an answer
 * may accept a subset of the offered formats).
 */
export function filteredOfferSdp(plan: WhipOfferPlan): string {
  const media = plan.offer.media.map((section, index): SdpMediaSection => {
    const track = plan.tracks.find((t) => t.sectionIndex === index);
    if (!track) return section;
    const keep = new Set([String(track.codec.payloadType)]);
    if (track.codec.rtxPayloadType !== undefined) keep.add(String(track.codec.rtxPayloadType));
    return { ...section, formats: section.formats.filter((f) => keep.has(f)), lines: section.lines.filter((l) => keepLine(l, keep)) };
  });
  return serializeSdp({ session: plan.offer.session, media });
}

const PER_FORMAT = new Set(['rtpmap', 'fmtp', 'rtcp-fb']);

function keepLine(line: SdpLine, formats: ReadonlySet<string>): boolean {
  const attr = toAttribute(line);
  if (!attr) return true;
  if (!PER_FORMAT.has(attr.name) || attr.value === undefined) return true;
  const pt = attributePayloadType(attr.value);
  return pt === '*' || formats.has(pt);
}
