/**
 * WHEP egress (adapters/egress/whep): the player's SDP offer (throws SdpError /
 * UnsupportedOfferError) and the RFC 6184 packetizer over AVCC frames from the relay (throws
 * MediaParseError), whose FU-A fragments must reassemble to the NAL units they came from.
 */
import fc from 'fast-check';
import { MediaParseError } from '../../../src/media/errors.ts';
import { SdpError, UnsupportedOfferError } from '../../../src/webrtc/errors.ts';
import { isSendable, packetizeNalus, splitAvcc } from '../../../adapters/egress/whep/h264-packetizer.ts';
import { planWhepOffer } from '../../../adapters/egress/whep/whep-offer.ts';
import { text, utf8 } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';
import { editedLines } from '../line-edits.ts';

/** A Chromium-like recvonly offer (what `addTransceiver(kind, { direction: 'recvonly' })` gives). */
export const WHEP_OFFER_LINES = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:jrb5',
  'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 58:23:27:47:66:7E:00:94:E1:DB:9F:2F:9E:D8:DB:14:D3:1D:66:8D:F6:67:3E:A9:A7:48:73:D7:6A:44:24:24',
  'a=setup:actpass',
  'a=mid:0',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 H264/90000',
  'a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640032',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:jrb5',
  'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x',
  'a=fingerprint:sha-256 58:23:27:47:66:7E:00:94:E1:DB:9F:2F:9E:D8:DB:14:D3:1D:66:8D:F6:67:3E:A9:A7:48:73:D7:6A:44:24:24',
  'a=setup:actpass',
  'a=mid:1',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:0 PCMU/8000',
];

export const WHEP_OFFER = `${WHEP_OFFER_LINES.join('\r\n')}\r\n`;

const EDITED_OFFER = editedLines(WHEP_OFFER_LINES, fc.constantFrom('a=sendonly', 'a=inactive', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=fmtp:102 packetization-mode=0', 'a=rtpmap:102 H264/0', 'a=mid:0', 'a=bundle-only')).map(text);

/** A packet-size byte, then an AVCC frame of NAL units of up to 300 bytes. */
const AVCC_FRAME = fc.tuple(fc.nat(255), fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 4 })).map(([size, nalus]) => {
  const parts: number[] = [size];
  for (const nalu of nalus) parts.push(0, 0, nalu.byteLength >> 8, nalu.byteLength & 0xff, ...nalu);
  return Uint8Array.from(parts);
});

/** Check FU-A fragments of each NAL unit reassemble to it (RFC 6184 §5.8). */
function checkPacketization(frame: Uint8Array, maxPayload: number): void {
  const nalus = splitAvcc(frame).filter(isSendable);
  const packets = packetizeNalus(nalus, maxPayload);
  const rebuilt: Uint8Array[] = [];
  let fragments: number[] | undefined;
  for (const { payload } of packets) {
    if (payload.byteLength > maxPayload) throw new Error(`packet of ${payload.byteLength} bytes over ${maxPayload}`);
    if ((payload[0]! & 0x1f) !== 28) {
      rebuilt.push(payload);
      continue;
    }
    const start = (payload[1]! & 0x80) !== 0;
    const end = (payload[1]! & 0x40) !== 0;
    if (start) fragments = [(payload[0]! & 0xe0) | (payload[1]! & 0x1f)];
    fragments!.push(...payload.subarray(2));
    if (end) {
      rebuilt.push(Uint8Array.from(fragments!));
      fragments = undefined;
    }
  }
  if (rebuilt.length !== nalus.length || rebuilt.some((n, i) => Buffer.compare(n, nalus[i]!) !== 0)) throw new Error('FU-A fragments do not reassemble');
  if (packets.length > 0 && !packets.at(-1)!.marker) throw new Error('no marker on the last packet');
}

export const whepTargets: FuzzTarget[] = [
  {
    name: 'whep.sdp-offer',
    seeds: [text(WHEP_OFFER)],
    generators: [EDITED_OFFER],
    allowed: (error) => error instanceof SdpError || error instanceof UnsupportedOfferError,
    run(bytes) {
      planWhepOffer(utf8(bytes));
    },
  },
  {
    name: 'whep.h264-packetizer',
    generators: [AVCC_FRAME],
    seeds: [Uint8Array.from([10, 0, 0, 0, 5, 0x65, 1, 2, 3, 4, 0, 0, 0, 2, 0x41, 9])],
    allowed: (error) => error instanceof MediaParseError,
    run(bytes) {
      // The first byte picks a small packet size so that inputs of a few hundred bytes fragment.
      checkPacketization(bytes.subarray(1), 3 + (bytes[0] ?? 0) % 64);
    },
  },
];
