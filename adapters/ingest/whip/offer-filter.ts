import { bundledMids, isBundleOnly, type WhipOfferPlan } from './offer-plan.ts';
import { serializeSdp, toAttribute, type SdpLine, type SdpMediaSection } from '../../../src/webrtc/sdp.ts';
import { attributePayloadType } from '../../../src/webrtc/sdp-rtp.ts';

/**
 * The offer as the WebRTC stack should see it: each planned section lists only the chosen
 * codec and its RTX, so the answer names exactly what we depacketize (RFC 3264 §6.1: an answer
 * may accept a subset of the offered formats).
 *
 * A planned bundle-only section (RFC 8843 §6: port 0 + `a=bundle-only` inside the BUNDLE group,
 * what max-bundle offerers such as GStreamer's webrtcbin send) is shown with the discard port 9
 * and without `a=bundle-only`, as a bundled section of an ordinary offer: the WebRTC stack takes
 * port 0 for "rejected", and its answer then keeps the section in the BUNDLE group with a real
 * direction and port 9, as a JSEP answer does for every bundled section (RFC 8829 §5.3.1).
 */
export function filteredOfferSdp(plan: WhipOfferPlan): string {
  const bundled = bundledMids(plan.offer);
  const media = plan.offer.media.map((section, index): SdpMediaSection => {
    const track = plan.tracks.find((t) => t.sectionIndex === index);
    if (!track) return section;
    const keep = new Set([String(track.codec.payloadType)]);
    if (track.codec.rtxPayloadType !== undefined) keep.add(String(track.codec.rtxPayloadType));
    const bundleOnly = isBundleOnly(section, bundled);
    const lines = section.lines.filter((l) => keepLine(l, keep) && !(bundleOnly && l.type === 'a' && l.value === 'bundle-only'));
    return { ...section, port: bundleOnly ? DISCARD_PORT : section.port, formats: section.formats.filter((f) => keep.has(f)), lines };
  });
  return serializeSdp({ session: plan.offer.session, media });
}

/** RFC 8829 §5.2.1: the port of a bundled m= section whose transport ICE negotiates. */
const DISCARD_PORT = 9;

const PER_FORMAT = new Set(['rtpmap', 'fmtp', 'rtcp-fb']);

function keepLine(line: SdpLine, formats: ReadonlySet<string>): boolean {
  const attr = toAttribute(line);
  if (!attr) return true;
  if (!PER_FORMAT.has(attr.name) || attr.value === undefined) return true;
  const pt = attributePayloadType(attr.value);
  return pt === '*' || formats.has(pt);
}
