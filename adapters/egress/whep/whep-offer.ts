import { SdpError, UnsupportedOfferError } from '../../../src/webrtc/errors.ts';
import { attributeValues, DEFAULT_SDP_LIMITS, parseSdp, type SdpDocument, type SdpLimits, type SdpMediaSection } from '../../../src/webrtc/sdp.ts';
import { payloadTypes, readDirection, readFmtp, readRtpMaps, type FormatParameters, type RtpMap } from '../../../src/webrtc/sdp-rtp.ts';
import { bundledMids, checkTransportAttributes, isBundleOnly } from '../../../src/webrtc/sdp-transport.ts';

/**
 * Validates a WHEP offer (draft-ietf-wish-whep §3: the player's SDP offer, receiving audio
 * and/or video) and picks what this slice sends: H.264 in packetization mode 1 (RFC 6184 §6.3,
 * FU-A for frames larger than a packet) and Opus (RFC 7587).
 */

export interface WhepCodec {
  payloadType: number;
  clockRate: number;
  channels: number | undefined;
  /** The offer's `a=fmtp` parameters for this payload type, echoed in the answer. */
  parameters: FormatParameters;
}

export interface WhepSection {
  kind: 'audio' | 'video';
  sectionIndex: number;
  mid: string | undefined;
  codec: WhepCodec;
}

export interface WhepOfferPlan {
  offer: SdpDocument;
  video: WhepSection | undefined;
  audio: WhepSection | undefined;
  iceUfrag: string;
  icePwd: string;
}

const SRTP_PROFILE = /^(UDP\/TLS\/RTP\/SAVPF|RTP\/SAVPF)$/;

export function planWhepOffer(sdpText: string, limits: SdpLimits = DEFAULT_SDP_LIMITS): WhepOfferPlan {
  const offer = parseSdp(sdpText, limits);
  const bundled = bundledMids(offer);
  let video: WhepSection | undefined;
  let audio: WhepSection | undefined;
  let ice: { ufrag: string; pwd: string } | undefined;
  offer.media.forEach((section, sectionIndex) => {
    if (section.port === 0 && !isBundleOnly(section, bundled)) return;
    if (section.kind !== 'audio' && section.kind !== 'video') return; // data channels: rejected in the answer
    if (!SRTP_PROFILE.test(section.protocol)) throw new UnsupportedOfferError(`transport ${section.protocol} is not supported; WebRTC media uses UDP/TLS/RTP/SAVPF`);
    const credentials = checkTransportAttributes(offer, section);
    ice ??= credentials;
    const direction = readDirection(section);
    if (direction !== 'recvonly' && direction !== 'sendrecv') {
      throw new UnsupportedOfferError(`the ${section.kind} section is ${direction}; a WHEP offer must receive media`);
    }
    if ((section.kind === 'video' ? video : audio) !== undefined) {
      throw new UnsupportedOfferError(`more than one ${section.kind} section; one audio and one video track are served`);
    }
    const mid = attributeValues(section.lines, 'mid')[0];
    const codec = section.kind === 'video' ? chooseH264(section) : chooseOpus(section);
    const planned: WhepSection = { kind: section.kind, sectionIndex, mid, codec };
    if (section.kind === 'video') video = planned;
    else audio = planned;
  });
  if (!ice || (!video && !audio)) throw new UnsupportedOfferError('the offer has no audio or video section to receive');
  const { ufrag, pwd } = ice;
  return { offer, video, audio, iceUfrag: ufrag, icePwd: pwd };
}

function listedMaps(section: SdpMediaSection): RtpMap[] {
  const maps = readRtpMaps(section);
  return payloadTypes(section).flatMap((pt) => {
    const map = maps.get(pt);
    return map ? [map] : [];
  });
}

function chooseH264(section: SdpMediaSection): WhepCodec {
  const maps = listedMaps(section);
  const fmtp = readFmtp(section);
  const h264 = maps.filter((m) => m.encoding.toUpperCase() === 'H264' && m.clockRate === 90000);
  const mode1 = h264.filter((m) => fmtp.get(m.payloadType)?.get('packetization-mode') === '1');
  for (const m of mode1) {
    const profile = fmtp.get(m.payloadType)?.get('profile-level-id');
    if (profile !== undefined && !/^[0-9A-Fa-f]{6}$/.test(profile)) throw new SdpError(`malformed profile-level-id ${profile}`);
  }
  // Prefer the High-profile entry: RTMP encoders send High, and browsers decode any profile they list.
  const chosen = mode1.find((m) => fmtp.get(m.payloadType)?.get('profile-level-id')?.toLowerCase().startsWith('64')) ?? mode1[0];
  if (!chosen) {
    const offered = [...new Set(maps.map((m) => m.encoding))].join(', ') || 'none';
    throw new UnsupportedOfferError(`no H264 with packetization-mode=1 offered (offered: ${offered}); this gateway sends H.264 without re-encoding`);
  }
  return { payloadType: chosen.payloadType, clockRate: 90000, channels: undefined, parameters: fmtp.get(chosen.payloadType) ?? new Map() };
}

function chooseOpus(section: SdpMediaSection): WhepCodec {
  const maps = listedMaps(section);
  const opus = maps.find((m) => m.encoding.toLowerCase() === 'opus' && m.clockRate === 48000);
  if (!opus) {
    const offered = [...new Set(maps.map((m) => m.encoding))].join(', ') || 'none';
    throw new UnsupportedOfferError(`no opus/48000 offered (offered: ${offered})`);
  }
  return { payloadType: opus.payloadType, clockRate: 48000, channels: opus.channels ?? 2, parameters: readFmtp(section).get(opus.payloadType) ?? new Map() };
}
