import { SdpError } from './errors.ts';
import { DEFAULT_SDP_LIMITS, parseSdpLines, toAttribute, type SdpLimits } from './sdp.ts';

/**
 * An `application/trickle-ice-sdpfrag` body (RFC 8840 §9, used by WHIP PATCH, RFC 9725 §4.3):
 * ICE credentials, then per media section its mid and candidates.
 */
export interface TrickleFragment {
  iceUfrag: string | undefined;
  icePwd: string | undefined;
  candidates: { candidate: string; mid: string | undefined }[];
  endOfCandidates: boolean;
}

/** `<foundation> <component> <transport> <priority> <address> <port> typ <type> [...]`, RFC 8839 §5.1. */
const CANDIDATE = /^[A-Za-z0-9+/]{1,32} \d{1,3} [A-Za-z]{1,16} \d{1,10} [0-9A-Za-z.:%_-]{1,255} \d{1,5} typ (host|srflx|prflx|relay)( [\x21-\x7e]+)*$/;

const MAX_TRICKLE_CANDIDATES = 64;

export function parseTrickleFragment(text: string, limits: SdpLimits = DEFAULT_SDP_LIMITS): TrickleFragment {
  const fragment: TrickleFragment = { iceUfrag: undefined, icePwd: undefined, candidates: [], endOfCandidates: false };
  let mid: string | undefined;
  for (const line of parseSdpLines(text, limits)) {
    if (line.type === 'm') {
      mid = undefined;
      continue;
    }
    const attr = toAttribute(line);
    if (!attr) continue;
    switch (attr.name) {
      case 'ice-ufrag':
        fragment.iceUfrag = attr.value;
        break;
      case 'ice-pwd':
        fragment.icePwd = attr.value;
        break;
      case 'mid':
        mid = attr.value;
        break;
      case 'end-of-candidates':
        fragment.endOfCandidates = true;
        break;
      case 'candidate':
        if (attr.value === undefined || !CANDIDATE.test(attr.value)) throw new SdpError(`malformed a=candidate:${attr.value ?? ''}`);
        if (fragment.candidates.length >= MAX_TRICKLE_CANDIDATES) throw new SdpError(`more than ${MAX_TRICKLE_CANDIDATES} candidates in one fragment`);
        fragment.candidates.push({ candidate: `candidate:${attr.value}`, mid });
        break;
    }
  }
  return fragment;
}
