import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { completeOffer } from './whip-offer.ts';

/**
 * A WHIP publisher built on werift (a second WebRTC stack, not the gateway's own code paths):
 * POSTs an Opus offer with all host candidates, applies the answer and, once ICE and DTLS are
 * up, sends one 20 ms Opus packet per tick. Also a CLI, for running inside a network namespace:
 *   node --import tsx test/helpers/werift-whip-publisher.ts <whip-url> <packets> <timeout-ms>
 * which prints one JSON line: { state, answer, sent } (state 'connected' or why it failed).
 */

export interface PublishResult {
  /** 'connected' once media flowed; otherwise the last connection state or the HTTP error. */
  state: string;
  /** The answer SDP, when the POST succeeded. */
  answer: string | undefined;
  /** Opus packets sent after the connection came up. */
  sent: number;
}

/** A valid 20 ms Opus packet: TOC config 1 (SILK NB 20 ms), mono, one frame; then payload. */
const OPUS_PACKET = Buffer.from([0x08, 0xf8, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04]);

export async function publishOpus(url: string, packets: number, timeoutMs: number): Promise<PublishResult> {
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })], video: [] },
  });
  const track = new MediaStreamTrack({ kind: 'audio' });
  let answer: string | undefined;
  let sent = 0;
  const deadline = Date.now() + timeoutMs;
  try {
    pc.addTransceiver(track, { direction: 'sendonly' });
    const offer = await completeOffer(pc);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: offer,
      signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
    });
    if (response.status !== 201) return { state: `http ${response.status}: ${await response.text()}`, answer, sent };
    answer = await response.text();
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    const state = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve(`timeout (${pc.connectionState})`), Math.max(1, deadline - Date.now()));
      const check = (): void => {
        if (pc.connectionState === 'connected' || pc.connectionState === 'failed') {
          clearTimeout(timer);
          resolve(pc.connectionState);
        }
      };
      pc.connectionStateChange.subscribe(check);
      check();
    });
    if (state !== 'connected') return { state, answer, sent };
    const ssrc = 0x1234abcd;
    for (let i = 0; i < packets && Date.now() < deadline; i++) {
      track.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber: i, timestamp: i * 960, marker: i === 0, payloadType: 111, ssrc }), OPUS_PACKET));
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { state, answer, sent };
  } finally {
    await pc.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, packets, timeoutMs] = process.argv.slice(2);
  if (!url) throw new Error('usage: werift-whip-publisher.ts <whip-url> [packets] [timeout-ms]');
  const result = await publishOpus(url, Number(packets ?? 50), Number(timeoutMs ?? 10_000));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
