import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpSrPacket,
  useAbsSendTime,
  useNACK,
  usePLI,
  useSdesMid,
  useTransportWideCC,
  useTWCC,
  type RtcpPacket,
  type RtpPacket,
  type RTCRtpTransceiver,
} from 'werift';
import { iceGatheringComplete } from '../../../src/webrtc/ice-gathering.ts';
import type { MuxSession, UdpMux } from './udp-mux.ts';
import { muxMarker } from './werift-udp-hook.ts';

/**
 * The one module that talks to werift's RTCPeerConnection: a receive-only peer that answers an
 * offer and hands out its remote tracks as narrow typed objects. Everything WHIP-specific
 * (HTTP, codecs, timelines) stays outside.
 */

export type { RtpPacket };

export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface PeerOptions {
  /** Extra host addresses to gather on besides the machine's interfaces (loopback for local use). */
  additionalHosts: readonly string[];
  /** UDP ports to bind, inclusive; min < max (werift's rule). */
  portRange: [number, number] | undefined;
  /** One shared UDP socket for every session (portRange is then unused for IPv4). */
  mux?: UdpMux | undefined;
  useIpv6: boolean;
  /** Bound on candidate gathering (host candidates take milliseconds). */
  gatherTimeoutMs: number;
}

/** The NTP/RTP pair of an RTCP sender report (RFC 3550 §6.4.1). */
export interface SenderReport {
  /** 64-bit NTP timestamp: seconds since 1900 in the high 32 bits, fraction in the low 32. */
  ntpTimestamp: bigint;
  rtpTimestamp: number;
}

export interface RemoteTrack {
  kind: 'audio' | 'video';
  mid: string | undefined;
  /** The negotiated media SSRC. */
  ssrc: number | undefined;
  onRtp(listener: (packet: RtpPacket) => void): void;
  onSenderReport(listener: (report: SenderReport) => void): void;
  /** Send an RTCP Picture Loss Indication (RFC 4585 §6.3.1) for this track. */
  requestKeyframe(): void;
}

const VIDEO_FEEDBACK = () => [useNACK(), usePLI(), useTWCC()];

/** What we can depacketize. Payload types here are placeholders: the answer uses the offer's. */
function supportedCodecs(): { audio: RTCRtpCodecParameters[]; video: RTCRtpCodecParameters[] } {
  const video: RTCRtpCodecParameters[] = [];
  const add = (mimeType: string, payloadType: number): void => {
    video.push(new RTCRtpCodecParameters({ mimeType, clockRate: 90000, payloadType, rtcpFeedback: VIDEO_FEEDBACK() }));
    video.push(new RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: 90000, payloadType: payloadType + 1, parameters: `apt=${payloadType}` }));
  };
  add('video/H264', 96);
  add('video/VP8', 98);
  add('video/VP9', 100);
  add('video/AV1', 102);
  const audio = [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, rtcpFeedback: [useTWCC()] })];
  return { audio, video };
}

export class WebRtcPeer {
  readonly #pc: RTCPeerConnection;
  readonly #stateListeners: ((state: PeerState) => void)[] = [];
  readonly #mux: MuxSession | undefined;
  #closed = false;

  private constructor(options: PeerOptions) {
    this.#mux = options.mux?.createSession();
    this.#pc = new RTCPeerConnection({
      codecs: supportedCodecs(),
      headerExtensions: {
        video: [useSdesMid(), useTransportWideCC(), useAbsSendTime()],
        audio: [useSdesMid(), useTransportWideCC()],
      },
      iceAdditionalHostAddresses: [...options.additionalHosts],
      icePortRange: options.portRange, // with the mux, only IPv6 sockets bind in it
      ...(this.#mux ? { iceInterfaceAddresses: muxMarker(this.#mux) } : {}),
      iceUseIpv4: true,
      iceUseIpv6: options.useIpv6,
      iceUseTcp: false,
      bundlePolicy: 'max-bundle',
    });
    this.#pc.connectionStateChange.subscribe((state) => {
      for (const listener of this.#stateListeners) listener(state);
    });
  }

  /**
   * Create a peer for an offer and produce the complete answer (all host candidates included,
   * so clients that do not trickle can connect: RFC 9725 §4.2).
   */
  static async answer(offerSdp: string, options: PeerOptions): Promise<{ peer: WebRtcPeer; answerSdp: string; tracks: RemoteTrack[] }> {
    const peer = new WebRtcPeer(options);
    try {
      const pc = peer.#pc;
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      await pc.setLocalDescription(await pc.createAnswer());
      // Receivers register their SSRC-routed tracks once the answer is applied.
      const tracks = pc.getTransceivers().flatMap((t) => (t.kind === 'audio' || t.kind === 'video' ? [remoteTrack(t)] : []));
      await iceGatheringComplete(pc, options.gatherTimeoutMs);
      const answerSdp = pc.localDescription?.sdp;
      if (!answerSdp) throw new Error('werift produced no local description');
      if (peer.#mux) {
        // Binding requests on the shared port find this session by our ufrag (RFC 8445 §7.2.2).
        const ufrag = /^a=ice-ufrag:(\S+)/m.exec(answerSdp)?.[1];
        if (!ufrag) throw new Error('the answer has no ICE ufrag');
        peer.#mux.setUfrag(ufrag);
      }
      return { peer, answerSdp, tracks };
    } catch (error) {
      await peer.close();
      throw error;
    }
  }

  get state(): PeerState {
    return this.#pc.connectionState;
  }

  onStateChange(listener: (state: PeerState) => void): void {
    this.#stateListeners.push(listener);
  }

  /** A trickled remote candidate (RFC 8840), `candidate:...` as in an a= line. */
  async addRemoteCandidate(candidate: string, mid: string | undefined): Promise<void> {
    if (this.#closed) return;
    await this.#pc.addIceCandidate({ candidate, sdpMid: mid ?? null, sdpMLineIndex: mid === undefined ? 0 : null });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stateListeners.length = 0;
    try {
      await this.#pc.close();
    } finally {
      this.#mux?.close();
    }
  }

}

function remoteTrack(transceiver: RTCRtpTransceiver): RemoteTrack {
  const receiver = transceiver.receiver;
  const track = receiver.track;
  return {
    kind: transceiver.kind === 'audio' ? 'audio' : 'video',
    mid: transceiver.mid ?? undefined,
    ssrc: track.ssrc,
    onRtp: (listener) => {
      track.onReceiveRtp.subscribe((packet) => listener(packet));
    },
    onSenderReport: (listener) => {
      track.onReceiveRtcp.subscribe((packet: RtcpPacket) => {
        if (packet instanceof RtcpSrPacket) listener({ ntpTimestamp: packet.senderInfo.ntpTimestamp, rtpTimestamp: packet.senderInfo.rtpTimestamp });
      });
    },
    requestKeyframe: () => {
      const ssrc = receiver.track.ssrc;
      if (ssrc !== undefined) void receiver.sendRtcpPLI(ssrc);
    },
  };
}
