import { UnsupportedOfferError } from '../../../src/webrtc/errors.ts';
import { DEFAULT_SDP_LIMITS, hasAttribute, attributeValues, parseSdp, type SdpDocument, type SdpLimits, type SdpMediaSection } from '../../../src/webrtc/sdp.ts';
import { bundledMids, checkTransportAttributes, isBundleOnly } from '../../../src/webrtc/sdp-transport.ts';
export { bundledMids, isBundleOnly };
import { payloadTypes, readDirection, readFmtp, readRtpMaps, type FormatParameters, type RtpMap } from '../../../src/webrtc/sdp-rtp.ts';

/**
 * Validates a WHIP offer (RFC 9725 §4.2: one SDP offer, sendonly audio and/or video) and picks
 * exactly one codec per media section, so the answer carries just the codec we ingest.
 */

export type VideoCodecName = 'H264' | 'VP8' | 'VP9' | 'AV1';
export type CodecName = VideoCodecName | 'OPUS';

/** H.264 first: the one codec every egress (HLS, MoQ players) can take without transcoding. */
export const DEFAULT_VIDEO_CODECS: readonly VideoCodecName[] = ['H264', 'VP8', 'VP9', 'AV1'];

export interface ChosenCodec {
  name: CodecName;
  payloadType: number;
  clockRate: number;
  channels: number | undefined;
  parameters: FormatParameters;
  /** RTX (RFC 4588) payload type retransmitting this codec, when offered. */
  rtxPayloadType: number | undefined;
}

export interface PlannedTrack {
  kind: 'audio' | 'video';
  /** Index of the m= section in the offer. */
  sectionIndex: number;
  mid: string | undefined;
  codec: ChosenCodec;
}

export interface WhipOfferPlan {
  offer: SdpDocument;
  tracks: PlannedTrack[];
  /** The client's ICE credentials (RFC 8839 §5.4), to tell trickle from restart in PATCH. */
  iceUfrag: string;
  icePwd: string;
}

export interface OfferPlanOptions {
  /** Accepted video codecs in order of preference. */
  videoCodecs?: readonly VideoCodecName[];
  limits?: SdpLimits;
}

const SRTP_PROFILE = /^(UDP\/TLS\/RTP\/SAVPF|RTP\/SAVPF|UDP\/TLS\/RTP\/SAVP|RTP\/SAVP)$/;

export function planWhipOffer(sdpText: string, options: OfferPlanOptions = {}): WhipOfferPlan {
  const offer = parseSdp(sdpText, options.limits ?? DEFAULT_SDP_LIMITS);
  const videoCodecs = options.videoCodecs ?? DEFAULT_VIDEO_CODECS;
  const tracks: PlannedTrack[] = [];
  let iceUfrag: string | undefined;
  let icePwd: string | undefined;

  const bundled = bundledMids(offer);
  offer.media.forEach((section, sectionIndex) => {
    if (section.port === 0 && !isBundleOnly(section, bundled)) return; // a rejected/disabled section
    if (section.kind !== 'audio' && section.kind !== 'video') {
      throw new UnsupportedOfferError(`"${section.kind}" media sections are not supported; WHIP ingest takes audio and video`);
    }
    if (!SRTP_PROFILE.test(section.protocol)) {
      throw new UnsupportedOfferError(`transport ${section.protocol} is not supported; WebRTC media uses UDP/TLS/RTP/SAVPF`);
    }
    const credentials = checkTransportAttributes(offer, section);
    iceUfrag ??= credentials.ufrag;
    icePwd ??= credentials.pwd;
    const direction = readDirection(section);
    if (direction !== 'sendonly' && direction !== 'sendrecv') {
      throw new UnsupportedOfferError(`the ${section.kind} section is ${direction}; a WHIP offer must send media`);
    }
    if (hasAttribute(section.lines, 'simulcast')) {
      throw new UnsupportedOfferError(`the ${section.kind} section offers simulcast; publish a single encoding`);
    }
    if (!hasAttribute(section.lines, 'ssrc')) {
      throw new UnsupportedOfferError(`the ${section.kind} section declares no a=ssrc; the ingest routes RTP by SSRC (RFC 5576)`);
    }
    if (tracks.some((t) => t.kind === section.kind)) {
      throw new UnsupportedOfferError(`more than one ${section.kind} section; one audio and one video track are supported`);
    }
    const codec = section.kind === 'video' ? chooseVideoCodec(section, videoCodecs) : chooseAudioCodec(section);
    const mid = attributeValues(section.lines, 'mid')[0];
    tracks.push({ kind: section.kind, sectionIndex, mid, codec });
  });

  if (tracks.length === 0 || iceUfrag === undefined || icePwd === undefined) {
    throw new UnsupportedOfferError('the offer has no audio or video section to receive');
  }
  return { offer, tracks, iceUfrag, icePwd };
}




/** The rtpmaps of the payload types the m= line lists (others are ignored, RFC 8866 §6.6). */
function offeredMaps(section: SdpMediaSection): RtpMap[] {
  const maps = readRtpMaps(section);
  const listed: RtpMap[] = [];
  for (const pt of payloadTypes(section)) {
    const map = maps.get(pt);
    if (map) listed.push(map);
  }
  return listed;
}

function chooseVideoCodec(section: SdpMediaSection, preference: readonly VideoCodecName[]): ChosenCodec {
  const maps = offeredMaps(section);
  const fmtp = readFmtp(section);
  const params = (pt: number): FormatParameters => fmtp.get(pt) ?? new Map();
  for (const name of preference) {
    const candidates = maps.filter((m) => videoCodecName(m.encoding) === name && m.clockRate === 90000 && acceptsParameters(name, params(m.payloadType)));
    if (name === 'H264') {
      // RFC 6184 §8.1: packetization-mode 1 (FU-A/STAP-A) carries any frame size; prefer it to 0.
      candidates.sort((a, b) => packetizationMode(params(b.payloadType)) - packetizationMode(params(a.payloadType)));
    }
    const chosen = candidates[0];
    if (chosen) {
      return {
        name,
        payloadType: chosen.payloadType,
        clockRate: chosen.clockRate,
        channels: undefined,
        parameters: params(chosen.payloadType),
        rtxPayloadType: findRtx(maps, fmtp, chosen.payloadType),
      };
    }
  }
  const offered = [...new Set(maps.map((m) => m.encoding))].join(', ') || 'none';
  throw new UnsupportedOfferError(`no supported video codec offered (offered: ${offered}; supported: ${preference.join(', ')})`);
}

function chooseAudioCodec(section: SdpMediaSection): ChosenCodec {
  const maps = offeredMaps(section);
  // RFC 7587 §7: Opus is always opus/48000/2 in SDP, whatever the channel count sent.
  const opus = maps.find((m) => m.encoding.toLowerCase() === 'opus' && m.clockRate === 48000);
  if (!opus) {
    const offered = [...new Set(maps.map((m) => m.encoding))].join(', ') || 'none';
    throw new UnsupportedOfferError(`no supported audio codec offered (offered: ${offered}; supported: opus)`);
  }
  return {
    name: 'OPUS',
    payloadType: opus.payloadType,
    clockRate: 48000,
    channels: opus.channels ?? 2,
    parameters: readFmtp(section).get(opus.payloadType) ?? new Map(),
    rtxPayloadType: undefined,
  };
}

function videoCodecName(encoding: string): VideoCodecName | undefined {
  const upper = encoding.toUpperCase();
  if (upper === 'H264' || upper === 'VP8' || upper === 'VP9' || upper === 'AV1') return upper;
  return upper === 'AV1X' ? 'AV1' : undefined;
}

function packetizationMode(params: FormatParameters): number {
  return Number(params.get('packetization-mode') ?? '0');
}

function acceptsParameters(name: VideoCodecName, params: FormatParameters): boolean {
  if (name === 'H264') {
    // Mode 2 (interleaved) needs DON reordering we do not do; profile-level-id is 3 hex bytes.
    const mode = params.get('packetization-mode') ?? '0';
    const profile = params.get('profile-level-id');
    return (mode === '0' || mode === '1') && (profile === undefined || /^[0-9A-Fa-f]{6}$/.test(profile));
  }
  if (name === 'VP9') return /^[0-3]$/.test(params.get('profile-id') ?? '0');
  if (name === 'AV1') return /^[0-2]$/.test(params.get('profile') ?? '0');
  return true;
}

/** `a=rtpmap:<pt> rtx/<clock>` with `a=fmtp:<pt> apt=<primary>`, RFC 4588 §8.6. */
function findRtx(maps: readonly RtpMap[], fmtp: Map<number, FormatParameters>, primary: number): number | undefined {
  const rtx = maps.find((m) => m.encoding.toLowerCase() === 'rtx' && fmtp.get(m.payloadType)?.get('apt') === String(primary));
  return rtx?.payloadType;
}
