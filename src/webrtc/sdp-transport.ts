import { SdpError } from './errors.ts';
import { attributeValues, hasAttribute, sectionAttribute, type SdpDocument, type SdpMediaSection } from './sdp.ts';

/** Transport attributes every WebRTC offer needs (WHIP and WHEP alike): ICE, DTLS, BUNDLE. */

/** ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4); ufrag 4..256, pwd 22..256 characters. */
const ICE_UFRAG = /^[A-Za-z0-9+/]{4,256}$/;
const ICE_PWD = /^[A-Za-z0-9+/]{22,256}$/;
/** `a=fingerprint:<hash function> <hex pairs joined by ':'>`, RFC 8122 §5. */
const FINGERPRINT = /^[A-Za-z0-9-]{1,32} [0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){15,63}$/;
const SETUP = new Set(['actpass', 'active', 'passive', 'holdconn']);

/** The identification tags of every `a=group:BUNDLE` (RFC 8843 §7.1, RFC 5888 §5). */
export function bundledMids(offer: SdpDocument): Set<string> {
  const mids = new Set<string>();
  for (const group of attributeValues(offer.session, 'group')) {
    const [semantics, ...tags] = group.split(' ');
    if (semantics === 'BUNDLE') for (const tag of tags) if (tag) mids.add(tag);
  }
  return mids;
}

/**
 * A port-0 section that is live all the same: `a=bundle-only` inside a BUNDLE group (RFC 8843
 * §6: "the offerer ... assigns a zero port value" to sections it only wants used if bundled;
 * WebRTC's max-bundle policy offers every section but the first this way, RFC 8829 §4.1.1).
 * Outside a BUNDLE group such a section cannot be used and counts as disabled.
 */
export function isBundleOnly(section: SdpMediaSection, bundled: ReadonlySet<string>): boolean {
  const mid = attributeValues(section.lines, 'mid')[0];
  return section.port === 0 && hasAttribute(section.lines, 'bundle-only') && mid !== undefined && bundled.has(mid);
}

/** ICE credentials, DTLS fingerprint and setup role: required for every active section (RFC 8839, RFC 8842). */
export function checkTransportAttributes(offer: SdpDocument, section: SdpMediaSection): { ufrag: string; pwd: string } {
  const ufrag = sectionAttribute(offer, section, 'ice-ufrag');
  const pwd = sectionAttribute(offer, section, 'ice-pwd');
  if (ufrag === undefined || pwd === undefined) throw new SdpError(`the ${section.kind} section lacks a=ice-ufrag/a=ice-pwd`);
  if (!ICE_UFRAG.test(ufrag)) throw new SdpError('malformed a=ice-ufrag');
  if (!ICE_PWD.test(pwd)) throw new SdpError('malformed a=ice-pwd');
  const fingerprint = sectionAttribute(offer, section, 'fingerprint');
  if (fingerprint === undefined) throw new SdpError(`the ${section.kind} section lacks a=fingerprint`);
  if (!FINGERPRINT.test(fingerprint)) throw new SdpError('malformed a=fingerprint');
  const setup = sectionAttribute(offer, section, 'setup');
  if (setup !== undefined && !SETUP.has(setup)) throw new SdpError(`invalid a=setup:${setup}`);
  return { ufrag, pwd };
}
