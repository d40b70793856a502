/**
 * WHEP with a player that is not Chromium: werift's own RTCPeerConnection, receive-only, against
 * the WHEP service over real HTTP and ICE/DTLS on loopback. It checks the RTP itself: the first
 * video packets are SPS, PPS and the keyframe (FU-A fragments of it), Opus arrives, and a PLI
 * from the player reaches the publisher's keyframe request; trickle PATCH (204/412/422) and
 * OPTIONS on the session resource answer as for WHIP.
 */
import { createServer, type Server } from 'node:http';
import { RTCPeerConnection, RTCRtpCodecParameters, useNACK, usePLI, type RtpPacket } from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
import { Origin } from '../../src/relay/index.ts';
import { PublisherRegistry } from '../../src/media/publishers.ts';
import { buildAvcC } from '../../src/media/h264.ts';
import { createWhepService, type WhepService } from '../../adapters/egress/whep/index.ts';
import { completeOffer } from '../helpers/whip-offer.ts';
import { until } from '../helpers/gateway.ts';

const SPS = Uint8Array.of(0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x58, 0xba, 0x80);
const PPS = Uint8Array.of(0x68, 0xce, 0x0f, 0xc8);
const avcc = (nalu: Uint8Array): Uint8Array => Uint8Array.from([0, 0, (nalu.length >> 8) & 0xff, nalu.length & 0xff, ...nalu]);

describe('WHEP to a werift player', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('sends SPS/PPS + the keyframe first, FU-A for large NAL units, Opus, turns a PLI into a keyframe request, and ends with the broadcast', async () => {
    const origin = new Origin();
    const registry = new PublisherRegistry(origin, { reconnectGraceMs: 0 });
    const keyframeRequests: string[] = [];
    const sink = registry.open('live/w', { protocol: 'test', remoteAddress: '127.0.0.1', requestKeyframe: () => keyframeRequests.push('live/w') });
    sink.setTrack('video', { kind: 'video', codec: 'avc1.42c01e', description: buildAvcC([SPS], [PPS]), codedWidth: 320, codedHeight: 240 });
    sink.setTrack('audio', { kind: 'audio', codec: 'opus', sampleRate: 48000, numberOfChannels: 2 });
    let n = 0;
    const timer = setInterval(() => {
      const keyframe = n % 15 === 0;
      const nalu = new Uint8Array(keyframe ? 3000 : 200).fill(n & 0xff);
      nalu[0] = keyframe ? 0x65 : 0x41;
      sink.writeFrame('video', { timestamp: n * 33_333, compositionOffset: 0, keyframe, payload: avcc(nalu) });
      sink.writeFrame('audio', { timestamp: n * 33_333, compositionOffset: 0, keyframe: true, payload: Uint8Array.of(0x08, 0xf8, 0xff, 0xfe) });
      n++;
    }, 33);
    cleanups.push(() => sink.close('done', { final: true }), () => clearInterval(timer));

    const service: WhepService = createWhepService({ broadcast: (path) => origin.get(path), requestKeyframe: (path) => registry.requestKeyframe(path) });
    const server: Server = createServer((req, res) => void service.handle(req, res, decodeURIComponent(new URL(req.url!, 'http://x').pathname.slice('/whep/'.length))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)), () => service.close());
    const { port } = server.address() as { port: number };

    const pc = new RTCPeerConnection({
      codecs: {
        video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, parameters: 'packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1', rtcpFeedback: [useNACK(), usePLI()] })],
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
      },
    });
    cleanups.push(() => pc.close());
    const video = pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const received = { video: [] as RtpPacket[], audio: 0 };
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((packet) => {
        if (track.kind === 'video') received.video.push(packet);
        else received.audio++;
      });
    });
    const response = await fetch(`http://127.0.0.1:${port}/whep/live/w`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: await completeOffer(pc) });
    expect(response.status, await response.clone().text()).toBe(201);
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });

    // Trickle ICE on the session resource (RFC 9725 §4.3), as for WHIP.
    const session = `http://127.0.0.1:${port}${response.headers.get('location')}`;
    const etag = response.headers.get('etag')!;
    const ufrag = /a=ice-ufrag:(\S+)/.exec(pc.localDescription!.sdp)![1]!;
    const pwd = /a=ice-pwd:(\S+)/.exec(pc.localDescription!.sdp)![1]!;
    const patch = (body: string, headers: Record<string, string> = {}) =>
      fetch(session, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': etag, ...headers }, body });
    const fragment = (u: string) => `a=ice-ufrag:${u}\r\na=ice-pwd:${pwd}\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2113937151 127.0.0.1 9 typ host\r\n`;
    expect((await patch(fragment(ufrag))).status).toBe(204);
    expect((await patch(fragment(ufrag), { 'if-match': '"stale"' })).status).toBe(412);
    expect((await patch(fragment('otherufrag'))).status).toBe(422);
    const options = await fetch(session, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
    await until(() => received.video.length >= 30 && received.audio >= 5, `video and audio RTP: ${received.video.length}/${received.audio}`, 10_000);

    const nalType = (p: RtpPacket): number => {
      const type = p.payload[0]! & 0x1f;
      return type === 28 ? p.payload[1]! & 0x1f : type;
    };
    // The first packets: SPS, PPS, then the IDR in FU-A fragments (3000 bytes > one packet).
    expect(received.video.slice(0, 3).map(nalType)).toEqual([7, 8, 5]);
    expect(received.video[2]!.payload[0]! & 0x1f).toBe(28);
    expect(received.video[2]!.payload[1]! & 0x80).toBe(0x80);
    expect(received.video.every((p) => p.payload.byteLength <= 1100)).toBe(true);
    const idrEnd = received.video.findIndex((p) => (p.payload[0]! & 0x1f) === 28 && (p.payload[1]! & 0x40) !== 0);
    expect(received.video[idrEnd]!.header.marker).toBe(true);

    const before = keyframeRequests.length;
    const ssrc = video.receiver.track.ssrc ?? received.video[0]!.header.ssrc;
    await video.receiver.sendRtcpPLI(ssrc);
    await until(() => keyframeRequests.length > before, 'the PLI reached the publisher', 5000);
    expect(service.stats()[0]?.keyframeRequests).toBeGreaterThan(0);

    // The broadcast ends: so does the session.
    clearInterval(timer);
    sink.close('publisher gone', { final: true });
    await until(() => service.sessions === 0, 'the session ended with its broadcast', 5000);
  }, 30_000);
});
