import { describe, expect, it } from 'vitest';
import { SdpError, UnsupportedOfferError } from '../../src/webrtc/errors.ts';
import { applyCandidatePolicy } from '../../adapters/ingest/whip/answer-candidates.ts';
import { filteredOfferSdp } from '../../adapters/ingest/whip/offer-filter.ts';
import { planWhipOffer } from '../../adapters/ingest/whip/offer-plan.ts';
import { parseSdp } from '../../src/webrtc/sdp.ts';
import { parseTrickleFragment } from '../../src/webrtc/trickle-fragment.ts';

/** A Chromium 156 WHIP offer (fake camera + microphone), trimmed to the interesting codecs. */
const CHROME_OFFER = [
  'v=0',
  'o=- 4537283593671900709 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8',
  'c=IN IP4 127.0.0.1',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:3827096345 1 udp 2122194687 127.0.0.1 9 typ host generation 0 network-id 3',
  'a=ice-ufrag:jrb5',
  'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 58:23:27:47:66:7E:00:94:E1:DB:9F:2F:9E:D8:DB:14:D3:1D:66:8D:F6:67:3E:A9:A7:48:73:D7:6A:44:24:24',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendonly',
  'a=msid:- 4df9e7df-dfec-4993-9a4c-f8ed42980cfe',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=ssrc:2144212470 cname:Qcx056aXR25DRR7a',
  'a=ssrc:2144212470 msid:- 4df9e7df-dfec-4993-9a4c-f8ed42980cfe',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 104 107 102 103 45 46 98 99',
  'c=IN IP4 127.0.0.1',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:3827096345 1 udp 2122194687 127.0.0.1 9 typ host generation 0 network-id 3',
  'a=ice-ufrag:jrb5',
  'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 58:23:27:47:66:7E:00:94:E1:DB:9F:2F:9E:D8:DB:14:D3:1D:66:8D:F6:67:3E:A9:A7:48:73:D7:6A:44:24:24',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendonly',
  'a=msid:- 70305bbe-fc8e-4d6e-979c-b8a5c5238fe2',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:104 H264/90000',
  'a=rtcp-fb:104 nack',
  'a=rtcp-fb:104 nack pli',
  'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:107 rtx/90000',
  'a=fmtp:107 apt=104',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 transport-cc',
  'a=rtcp-fb:102 nack',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:45 AV1/90000',
  'a=fmtp:45 level-idx=5;profile=0;tier=0',
  'a=rtpmap:46 rtx/90000',
  'a=fmtp:46 apt=45',
  'a=rtpmap:98 VP9/90000',
  'a=fmtp:98 profile-id=0',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=ssrc-group:FID 2084721906 2313361770',
  'a=ssrc:2084721906 cname:Qcx056aXR25DRR7a',
  'a=ssrc:2313361770 cname:Qcx056aXR25DRR7a',
  '',
].join('\r\n');

const withoutLines = (match: (line: string) => boolean): string =>
  CHROME_OFFER.split('\r\n')
    .filter((l) => !match(l))
    .join('\r\n');

describe('WHIP offer plan', () => {
  it('picks H.264 packetization-mode 1 and Opus, with their RTX', () => {
    const plan = planWhipOffer(CHROME_OFFER);
    expect(plan.iceUfrag).toBe('jrb5');
    const [audio, video] = plan.tracks;
    expect(audio).toMatchObject({ kind: 'audio', mid: '0', codec: { name: 'OPUS', payloadType: 111, clockRate: 48000 } });
    expect(video).toMatchObject({ kind: 'video', mid: '1', codec: { name: 'H264', payloadType: 102, rtxPayloadType: 103 } });
    expect(video!.codec.parameters.get('profile-level-id')).toBe('42e01f');
  });

  it('falls back to packetization-mode 0, then follows the preference list', () => {
    const noMode1 = withoutLines((l) => /:(102|103) /.test(l)).replace(' 102 103', '');
    expect(planWhipOffer(noMode1).tracks[1]!.codec).toMatchObject({ name: 'H264', payloadType: 104, rtxPayloadType: 107 });
    expect(planWhipOffer(CHROME_OFFER, { videoCodecs: ['AV1', 'H264'] }).tracks[1]!.codec).toMatchObject({ name: 'AV1', payloadType: 45 });
    expect(planWhipOffer(CHROME_OFFER, { videoCodecs: ['VP9'] }).tracks[1]!.codec).toMatchObject({ name: 'VP9', payloadType: 98, rtxPayloadType: 99 });
  });

  it('filters the offer down to the chosen codecs', () => {
    const filtered = parseSdp(filteredOfferSdp(planWhipOffer(CHROME_OFFER)));
    expect(filtered.media[0]!.formats).toEqual(['111']);
    expect(filtered.media[1]!.formats).toEqual(['102', '103']);
    const rtpmaps = filtered.media[1]!.lines.filter((l) => l.value.startsWith('rtpmap')).map((l) => l.value);
    expect(rtpmaps).toEqual(['rtpmap:102 H264/90000', 'rtpmap:103 rtx/90000']);
    expect(filtered.media[1]!.lines.some((l) => l.value.startsWith('ssrc-group:FID'))).toBe(true);
  });

  it('takes a bundle-only section inside the BUNDLE group (RFC 8843 §6, webrtcbin max-bundle) as a live bundled one', () => {
    const bundleOnly = CHROME_OFFER.replace('m=video 9', 'm=video 0').replace('a=mid:1', 'a=mid:1\r\na=bundle-only');
    const plan = planWhipOffer(bundleOnly);
    expect(plan.tracks.map((t) => t.kind)).toEqual(['audio', 'video']);
    const video = parseSdp(filteredOfferSdp(plan)).media[1]!;
    expect(video.port).toBe(9);
    expect(video.lines.some((l) => l.value === 'bundle-only')).toBe(false);
    // Outside the BUNDLE group a zero port means disabled, bundle-only or not.
    expect(planWhipOffer(bundleOnly.replace('BUNDLE 0 1', 'BUNDLE 0')).tracks.map((t) => t.kind)).toEqual(['audio']);
  });

  it('rejects malformed SDP with SdpError', () => {
    const bad = [
      '',
      'hello',
      CHROME_OFFER.replace('v=0', 'v=1'),
      CHROME_OFFER.replace('m=video 9 UDP/TLS/RTP/SAVPF', 'm=video nine UDP/TLS/RTP/SAVPF'),
      CHROME_OFFER.replace('a=rtpmap:102 H264/90000', 'a=rtpmap:102 H264'),
      CHROME_OFFER.replace('a=rtpmap:111 opus/48000/2', 'a=rtpmap:999 opus/48000/2'),
      withoutLines((l) => l.startsWith('a=ice-pwd')),
      withoutLines((l) => l.startsWith('a=fingerprint')),
      withoutLines((l) => l.startsWith('s=')),
      CHROME_OFFER.replace('a=setup:actpass', 'a=setup:sideways'),
      CHROME_OFFER.replace('\r\na=mid:1', '\r\n\r\na=mid:1'),
      CHROME_OFFER.replace('a=mid:0', 'a=mid:0\u0000'),
    ];
    for (const text of bad) expect(() => planWhipOffer(text), JSON.stringify(text.slice(0, 40))).toThrow(SdpError);
  });

  it('rejects offers it cannot take with UnsupportedOfferError', () => {
    const noVideoCodec = CHROME_OFFER.replace(/(H264|VP8|VP9|AV1)\/90000/g, 'H265/90000');
    expect(() => planWhipOffer(noVideoCodec)).toThrow(/no supported video codec offered \(offered: H265, rtx/);
    expect(() => planWhipOffer(CHROME_OFFER.replace('opus/48000/2', 'L16/48000/2'))).toThrow(UnsupportedOfferError);
    expect(() => planWhipOffer(CHROME_OFFER.replaceAll('a=sendonly', 'a=recvonly'))).toThrow(/must send media/);
    expect(() => planWhipOffer(CHROME_OFFER.replace('m=audio 9', 'm=audio 0').replace('m=video 9', 'm=video 0'))).toThrow(/no audio or video/);
    expect(() => planWhipOffer(CHROME_OFFER.replace('m=audio 9 UDP/TLS/RTP/SAVPF', 'm=audio 9 RTP/AVP'))).toThrow(UnsupportedOfferError);
    expect(() => planWhipOffer(CHROME_OFFER.replace('m=audio', 'm=application'))).toThrow(UnsupportedOfferError);
    expect(() => planWhipOffer(withoutLines((l) => l.startsWith('a=ssrc')))).toThrow(/a=ssrc/);
    const twoVideos = CHROME_OFFER.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8', 'm=video 9 UDP/TLS/RTP/SAVPF 96').replace('a=rtpmap:111 opus/48000/2', 'a=rtpmap:96 VP8/90000');
    expect(() => planWhipOffer(twoVideos)).toThrow(/more than one video/);
  });

  it('accepts an audio-only or video-only offer', () => {
    const audioOnly = CHROME_OFFER.slice(0, CHROME_OFFER.indexOf('m=video')).replace('BUNDLE 0 1', 'BUNDLE 0');
    expect(planWhipOffer(audioOnly).tracks.map((t) => t.kind)).toEqual(['audio']);
    expect(planWhipOffer(CHROME_OFFER.replace('m=audio 9', 'm=audio 0')).tracks.map((t) => t.kind)).toEqual(['video']);
  });
});

describe('answer candidates', () => {
  const answer = [
    'v=0',
    'o=- 1 0 IN IP4 0.0.0.0',
    's=-',
    't=0 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 102',
    'a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host',
    'a=candidate:2 1 udp 2130706431 10.0.0.5 40000 typ host',
    'a=candidate:3 1 udp 2130706431 192.168.1.9 40000 typ host',
    'a=end-of-candidates',
    '',
  ].join('\r\n');

  it('keeps only configured hosts and adds the public address once per port', () => {
    const out = applyCandidatePolicy(answer, { hosts: new Set(['127.0.0.1', '10.0.0.5', '192.168.1.9']), publicIp: '203.0.113.7' });
    const candidates = out.split('\r\n').filter((l) => l.startsWith('a=candidate'));
    expect(candidates).toHaveLength(4);
    expect(candidates.filter((c) => c.includes('203.0.113.7 40000 typ srflx raddr 10.0.0.5 rport 40000'))).toHaveLength(1);
    const onlyLoopback = applyCandidatePolicy(answer, { hosts: new Set(['127.0.0.1']), publicIp: undefined });
    expect(onlyLoopback.split('\r\n').filter((l) => l.startsWith('a=candidate'))).toEqual(['a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host']);
    expect(applyCandidatePolicy(answer, { hosts: undefined, publicIp: undefined })).toBe(answer);
  });
});

describe('trickle fragments', () => {
  it('reads credentials, mids and candidates (RFC 8840)', () => {
    const fragment = parseTrickleFragment(
      ['a=ice-ufrag:jrb5', 'a=ice-pwd:KLw/iROcNkp6MwiUbFsvMT+x', 'm=audio 9 UDP/TLS/RTP/SAVPF 0', 'a=mid:0', 'a=candidate:1 1 udp 2122194687 192.0.2.2 58940 typ host generation 0', 'a=end-of-candidates', ''].join('\r\n'),
    );
    expect(fragment).toEqual({
      iceUfrag: 'jrb5',
      icePwd: 'KLw/iROcNkp6MwiUbFsvMT+x',
      candidates: [{ candidate: 'candidate:1 1 udp 2122194687 192.0.2.2 58940 typ host generation 0', mid: '0' }],
      endOfCandidates: true,
    });
    expect(() => parseTrickleFragment('a=candidate:1 1 udp x 1.2.3.4 5 typ host\r\n')).toThrow(SdpError);
    expect(() => parseTrickleFragment('a=candidate:1 1 udp 1 1.2.3.4 5 typ bogus\r\n')).toThrow(SdpError);
  });
});
