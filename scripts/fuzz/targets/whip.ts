/**
 * WHIP ingest (adapters/ingest/whip): SDP offer validation and filtering, trickle-ICE
 * fragments, codec payload headers (VP8/VP9/AV1/Opus), the per-codec frame normalizers, and
 * RTP packets through the jitter buffer, depacketizer and normalizer into frames. The
 * SDP/trickle parsers throw SdpError / UnsupportedOfferError; payload parsers MediaParseError;
 * TrackIngest contains every error of a frame itself.
 */
import fc from 'fast-check';
import { RtpHeader, RtpPacket } from 'werift';
import { splitObus } from '../../../adapters/ingest/whip/av1-obu.ts';
import { parseAv1SequenceHeader } from '../../../adapters/ingest/whip/av1-sequence-header.ts';
import { SdpError, UnsupportedOfferError } from '../../../src/webrtc/errors.ts';
import { KeyframeRequester } from '../../../adapters/ingest/whip/keyframe-requester.ts';
import { RecurringLog, silentLogger } from '../../../adapters/ingest/whip/logger.ts';
import { SessionTimeline, TrackClock } from '../../../adapters/ingest/whip/media-clock.ts';
import { codecPipeline } from '../../../adapters/ingest/whip/normalizer-for-codec.ts';
import { filteredOfferSdp } from '../../../adapters/ingest/whip/offer-filter.ts';
import { planWhipOffer, type CodecName } from '../../../adapters/ingest/whip/offer-plan.ts';
import { opusPacketChannels } from '../../../adapters/ingest/whip/opus-normalizer.ts';
import { DEFAULT_ASSEMBLER_OPTIONS, RtpFrameAssembler } from '../../../adapters/ingest/whip/rtp-frame-assembler.ts';
import { parseSdp } from '../../../src/webrtc/sdp.ts';
import { TrackIngest } from '../../../adapters/ingest/whip/track-ingest.ts';
import { parseTrickleFragment } from '../../../src/webrtc/trickle-fragment.ts';
import { parseVp8FrameHeader } from '../../../adapters/ingest/whip/vp8-frame-header.ts';
import { parseVp9FrameHeader } from '../../../adapters/ingest/whip/vp9-frame-header.ts';
import { bindingRequestUfrag } from '../../../adapters/ingest/whip/stun-username.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import type { MediaSink } from '../../../src/media/frame.ts';
import { cat, fromHex, framed, messages, text, utf8 } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';
import { editedLines } from '../line-edits.ts';

const FINGERPRINT = 'a=fingerprint:sha-256 58:23:27:47:66:7E:00:94:E1:DB:9F:2F:9E:D8:DB:14:D3:1D:66:8D:F6:67:3E:A9:A7:48:73:D7:6A:44:24:24';

/** A Chrome-like offer: bundled Opus + video with H.264/VP8/VP9/AV1 and RTX. */
const OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS stream',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 0',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2122194687 192.168.1.2 50000 typ host generation 0',
  'a=ice-ufrag:jrb5',
  'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x',
  'a=ice-options:trickle',
  FINGERPRINT,
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendonly',
  'a=msid:stream audio',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:0 PCMU/8000',
  'a=ssrc:1 cname:x',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 98 99 45 46',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:jrb5',
  'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x',
  FINGERPRINT,
  'a=setup:actpass',
  'a=mid:1',
  'a=sendonly',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:98 VP9/90000',
  'a=fmtp:98 profile-id=0',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=rtpmap:45 AV1/90000',
  'a=fmtp:45 level-idx=5;profile=0;tier=0',
  'a=rtpmap:46 rtx/90000',
  'a=fmtp:46 apt=45',
  'a=ssrc-group:FID 2 3',
  'a=ssrc:2 cname:x',
  'a=ssrc:3 cname:x',
];
const OFFER_SEEDS = [
  text(`${OFFER.join('\r\n')}\r\n`),
  text(`${OFFER.filter((l) => !l.includes('H264') && !l.includes('apt=102')).join('\n')}\n`),
  text(`${OFFER.slice(0, 28).join('\r\n')}\r\n`),
];

/** Line-level edits of the offer, with SDP lines among the inserted ones. */
const EDITED_OFFER = editedLines(
  OFFER,
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 packetization-mode=0', 'a=mid:', 'a=group:BUNDLE', 'a=setup:active', 'a=inactive', 'a=rtpmap:300 VP8/90000', 'a=fmtp:97 apt=', 'c=IN IP6 ::1'),
  ),
).map(text);

const TRICKLE_LINES = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 80, unit: 'binary' }),
      fc.string({ maxLength: 60 }).map((s) => `a=candidate:${s}`),
      fc.constantFrom('a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdefghijkl', 'a=mid:0', 'm=video 9 UDP/TLS/RTP/SAVPF 0', 'a=end-of-candidates', 'a=candidate:1 1 udp 1 10.0.0.1 5000 typ host', 'a=candidate:1 1 UDP 1 ::1 65536 typ srflx raddr x rport -1'),
    ),
    { maxLength: 20 },
  )
  .map((lines) => text(lines.join('\r\n')));

const TRICKLE_SEEDS = [
  text('a=ice-ufrag:jrb5\r\na=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2122194687 192.168.1.2 50000 typ host\r\na=end-of-candidates\r\n'),
  text('a=candidate:2 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active\r\na=candidate:3 1 udp 41885439 203.0.113.5 3478 typ relay raddr 0.0.0.0 rport 0\r\n'),
];

// Codec payloads: VP8 key frame header, VP9 key frame, AV1 sequence header OBU, Opus TOC bytes.
const VP8_KEY = fromHex('9017019d012a4001f0000000');
const VP9_KEY = fromHex('82498342001f001f0000');
const AV1_SEQUENCE = fromHex('0a0b0000000424ffbcdaf900401206000000000000');
const OPUS_PACKETS = [Uint8Array.of(0xfc, 0xff, 0xfe), Uint8Array.of(0x78, 0x01), Uint8Array.of(0x0b, 0x41, 0x02, 0x03)];
const H264_IDR_AU = cat(0, 0, 0, 1, fromHex('6742c01f8c8d40501ed3506060607844235001'), 0, 0, 0, 1, fromHex('68ce3c80'), 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x21);

const CODECS: CodecName[] = ['H264', 'VP8', 'VP9', 'AV1', 'OPUS'];
const PAYLOAD_PARSERS: ((data: Uint8Array) => unknown)[] = [parseVp8FrameHeader, parseVp9FrameHeader, splitObus, parseAv1SequenceHeader, opusPacketChannels];

const nullSink: MediaSink = { setTrack() {}, writeFrame() {}, removeTrack() {}, close() {} };

/** RTP payloads per codec (RFC 6184 STAP-A/FU-A, RFC 7741 VP8, VP9, AV1 RTP, Opus). */
const STAP_A = cat(0x78, 0x00, 0x13, fromHex('6742c01f8c8d40501ed3506060607844235001'), 0x00, 0x04, fromHex('68ce3c80'));
const RTP_SEEDS = [
  // byte 0: codec; then messages: [flags, payload…] (flags: seq step, timestamp step, marker)
  cat(0, framed([cat(0x40, STAP_A), cat(0x01, 0x7c, 0x85, 0x88, 0x84, 0x00), cat(0x01, 0x7c, 0x05, 0x21, 0x22), cat(0x49, 0x7c, 0x45, 0x23), cat(0x49, 0x41, 0x9a, 0x02)])),
  cat(1, framed([cat(0x40, 0x90, 0x80, 0x01, VP8_KEY), cat(0x09, 0x90, 0x80, 0x02, 0x31, 0x00, 0x00)])),
  cat(2, framed([cat(0x40, 0x8e, 0x00, 0x01, VP9_KEY), cat(0x49, 0x8c, 0x00, 0x02, 0x86, 0x00)])),
  cat(3, framed([cat(0x40, 0x18, AV1_SEQUENCE, 0x32, 0x02, 0x10, 0x00), cat(0x49, 0x10, 0x32, 0x01, 0x00)])),
  cat(4, framed(OPUS_PACKETS.map((p, i) => cat(0x40 | (i ? 0x09 : 0), p)))),
];

function rtpIngest(codec: CodecName): { push(packet: RtpPacket): void } {
  const pipeline = codecPipeline(codec);
  const clockRate = codec === 'OPUS' ? 48000 : 90000;
  const video = codec !== 'OPUS';
  const ingest = new TrackIngest({
    name: video ? 'video' : 'audio',
    assembler: new RtpFrameAssembler(pipeline.depacketizer, clockRate, { ...DEFAULT_ASSEMBLER_OPTIONS, maxPacketsPerFrame: pipeline.maxPacketsPerFrame }),
    normalizer: pipeline.normalizer,
    clock: new TrackClock(new SessionTimeline(), clockRate),
    sink: nullSink,
    keyframes: video ? new KeyframeRequester(() => {}) : undefined,
    problems: new RecurringLog(silentLogger),
  });
  return { push: (packet) => ingest.onRtp(packet) };
}

const SEQ_STEPS = [1, 1, 1, 2, 0, -1, 5, 300];
const TS_STEPS = [0, 3000, 0, 90000, -3000, 2 ** 31, 960, 1];

/** A Chrome-like ICE Binding request: USERNAME `abcd:efgh`, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT. */
const STUN_BINDING = fromHex(
  [
    '0001', '0048', '2112a442', '0102030405060708090a0b0c', // Binding request, 72 bytes of attributes
    '0006', '0009', '616263643a65666768000000', // USERNAME (9 bytes + 3 padding)
    '0024', '0004', '6e7f1eff', // PRIORITY
    '802a', '0008', '0123456789abcdef', // ICE-CONTROLLING
    '0025', '0000', // USE-CANDIDATE
    '0008', '0014', '00'.repeat(20), // MESSAGE-INTEGRITY
    '8028', '0004', 'deadbeef', // FINGERPRINT
  ].join(''),
);

export const whipTargets: FuzzTarget[] = [
  {
    name: 'whip.sdp-offer',
    seeds: OFFER_SEEDS,
    generators: [EDITED_OFFER],
    allowed: (error) => error instanceof SdpError || error instanceof UnsupportedOfferError,
    run(bytes) {
      const plan = planWhipOffer(utf8(bytes));
      parseSdp(filteredOfferSdp(plan));
    },
  },
  {
    name: 'whip.trickle-fragment',
    seeds: TRICKLE_SEEDS,
    generators: [TRICKLE_LINES],
    allowed: (error) => error instanceof SdpError,
    run(bytes) {
      parseTrickleFragment(utf8(bytes));
    },
  },
  {
    // Byte 0 picks the parser (VP8, VP9 frame header, AV1 OBUs, AV1 sequence header, Opus TOC).
    name: 'whip.codec-payloads',
    seeds: [cat(0, VP8_KEY), cat(1, VP9_KEY), cat(2, AV1_SEQUENCE), cat(3, AV1_SEQUENCE.subarray(2)), ...OPUS_PACKETS.map((p) => cat(4, p))],
    allowed: (error) => error instanceof MediaParseError,
    run(bytes) {
      if (bytes.byteLength === 0) return;
      PAYLOAD_PARSERS[bytes[0]! % PAYLOAD_PARSERS.length]!(bytes.subarray(1));
    },
  },
  {
    // Byte 0 picks the codec; then depacketized frames (messages), alternating key/delta.
    name: 'whip.normalizers',
    seeds: [cat(0, framed([H264_IDR_AU, cat(0, 0, 0, 1, 0x41, 0x9a)])), cat(1, framed([VP8_KEY])), cat(2, framed([VP9_KEY])), cat(3, framed([cat(AV1_SEQUENCE, 0x32, 0x02, 0x10, 0x00)])), cat(4, framed(OPUS_PACKETS))],
    allowed: (error) => error instanceof MediaParseError,
    run(bytes) {
      if (bytes.byteLength === 0) return;
      const { normalizer } = codecPipeline(CODECS[bytes[0]! % CODECS.length]!);
      const frames = messages(bytes.subarray(1));
      frames.forEach((data, i) => {
        try {
          normalizer.normalize({ data, keyframe: i % 2 === 0, rtpTimestamp: i * 3000 });
        } catch (error) {
          if (!(error instanceof MediaParseError)) throw error;
        }
      });
    },
  },
  {
    // RTP packets through TrackIngest (jitter buffer → werift depacketizer → normalizer → sink).
    name: 'whip.rtp-frames',
    seeds: RTP_SEEDS,
    allowed: () => false,
    run(bytes) {
      if (bytes.byteLength === 0) return;
      const ingest = rtpIngest(CODECS[bytes[0]! % CODECS.length]!);
      let seq = 65530;
      let ts = 2 ** 32 - 5000;
      for (const message of messages(bytes.subarray(1))) {
        const flags = message[0] ?? 0;
        seq = (seq + SEQ_STEPS[flags & 7]! + 65536) % 65536;
        ts = (((ts + TS_STEPS[(flags >> 3) & 7]!) % 2 ** 32) + 2 ** 32) % 2 ** 32;
        const header = new RtpHeader({ sequenceNumber: seq, timestamp: ts, marker: (flags & 0x40) !== 0, payloadType: 96, ssrc: 7 });
        ingest.push(new RtpPacket(header, Buffer.from(message.subarray(1))));
      }
    },
  },
  {
    // The shared UDP port's demultiplexer reads every datagram's STUN header and USERNAME.
    name: 'whip.stun-username',
    seeds: [STUN_BINDING, STUN_BINDING.subarray(0, 32)],
    allowed: () => false,
    run(bytes) {
      bindingRequestUfrag(bytes);
    },
  },
];
