import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpPayloadSpecificFeedback,
  RtpHeader,
  RtpPacket,
  useAbsSendTime,
  useFIR,
  useNACK,
  usePLI,
  useSdesMid,
  type RTCRtpTransceiver,
} from 'werift';
import { iceGatheringComplete } from '../../../src/webrtc/ice-gathering.ts';
import type { WhepOfferPlan, WhepSection } from './whep-offer.ts';

/**
 * The one module of WHEP that talks to werift: a send-only peer answering a player's offer.
 * werift keeps a packet history per sender and answers NACKs from it (RFC 4585 §6.2.1), and
 * sends the RTCP sender reports players use for lip sync (RFC 3550 §6.4.1).
 */

export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface WhepPeerOptions {
  /** Extra host addresses to gather on besides the machine's interfaces. */
  additionalHosts: readonly string[];
  portRange: [number, number] | undefined;
  useIpv6: boolean;
  gatherTimeoutMs: number;
}

export interface SendTrack {
  /** Send one RTP packet; dropped while DTLS is not up. */
  send(payload: Uint8Array, timestamp: number, marker: boolean): void;
}

/** RFC 5104 §4.3.1: FIR is payload-specific feedback FMT 4 (PLI is FMT 1, RFC 4585 §6.3.1). */
const FIR_FMT = 4;
const PLI_FMT = 1;

function fmtpLine(parameters: ReadonlyMap<string, string>): string | undefined {
  if (parameters.size === 0) return undefined;
  return [...parameters].map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join(';');
}

function codecs(plan: WhepOfferPlan): { audio: RTCRtpCodecParameters[]; video: RTCRtpCodecParameters[] } {
  const video = plan.video
    ? [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          payloadType: plan.video.codec.payloadType,
          parameters: fmtpLine(plan.video.codec.parameters),
          rtcpFeedback: [useNACK(), usePLI(), useFIR()],
        }),
      ]
    : [];
  const audio = plan.audio
    ? [
        new RTCRtpCodecParameters({
          mimeType: 'audio/opus',
          clockRate: 48000,
          channels: 2,
          payloadType: plan.audio.codec.payloadType,
          parameters: fmtpLine(plan.audio.codec.parameters),
        }),
      ]
    : [];
  return { audio, video };
}

export class WhepPeer {
  readonly #pc: RTCPeerConnection;
  readonly #stateListeners: ((state: PeerState) => void)[] = [];
  readonly #keyframeListeners: (() => void)[] = [];
  #video: SendTrack | undefined;
  #audio: SendTrack | undefined;
  #closed = false;

  private constructor(plan: WhepOfferPlan, options: WhepPeerOptions) {
    this.#pc = new RTCPeerConnection({
      codecs: codecs(plan),
      headerExtensions: { video: [useSdesMid(), useAbsSendTime()], audio: [useSdesMid()] },
      iceAdditionalHostAddresses: [...options.additionalHosts],
      icePortRange: options.portRange,
      iceUseIpv4: true,
      iceUseIpv6: options.useIpv6,
      iceUseTcp: false,
      bundlePolicy: 'max-bundle',
    });
    this.#pc.connectionStateChange.subscribe((state) => {
      for (const listener of this.#stateListeners) listener(state);
    });
  }

  /** A peer for the offer and its complete answer (every host candidate in it, RFC 9725 §4.2). */
  static async answer(offerSdp: string, plan: WhepOfferPlan, options: WhepPeerOptions): Promise<{ peer: WhepPeer; answerSdp: string }> {
    const peer = new WhepPeer(plan, options);
    try {
      const pc = peer.#pc;
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      for (const transceiver of pc.getTransceivers()) {
        const section = transceiver.kind === 'video' ? plan.video : transceiver.kind === 'audio' ? plan.audio : undefined;
        if (!section || (section.mid !== undefined && transceiver.mid !== section.mid)) {
          transceiver.setDirection('inactive');
          continue;
        }
        transceiver.setDirection('sendonly');
        const track = peer.#sendTrack(transceiver, section);
        if (section.kind === 'video') peer.#video = track;
        else peer.#audio = track;
      }
      await pc.setLocalDescription(await pc.createAnswer());
      await iceGatheringComplete(pc, options.gatherTimeoutMs);
      const answerSdp = pc.localDescription?.sdp;
      if (!answerSdp) throw new Error('werift produced no local description');
      return { peer, answerSdp };
    } catch (error) {
      await peer.close();
      throw error;
    }
  }

  get video(): SendTrack | undefined {
    return this.#video;
  }

  get audio(): SendTrack | undefined {
    return this.#audio;
  }

  get state(): PeerState {
    return this.#pc.connectionState;
  }

  onStateChange(listener: (state: PeerState) => void): void {
    this.#stateListeners.push(listener);
  }

  /** The player lost a picture (PLI) or asks for a full intra refresh (FIR). */
  onKeyframeRequest(listener: () => void): void {
    this.#keyframeListeners.push(listener);
  }

  async addRemoteCandidate(candidate: string, mid: string | undefined): Promise<void> {
    if (this.#closed) return;
    await this.#pc.addIceCandidate({ candidate, sdpMid: mid ?? null, sdpMLineIndex: mid === undefined ? 0 : null });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stateListeners.length = 0;
    this.#keyframeListeners.length = 0;
    await this.#pc.close();
  }

  #sendTrack(transceiver: RTCRtpTransceiver, section: WhepSection): SendTrack {
    const sender = transceiver.sender;
    if (section.kind === 'video') {
      // Watched on the transport, not the sender: werift routes payload-specific feedback by its
      // sender SSRC first, which is a receiver's when the player's offer declares its own SSRC.
      transceiver.dtlsTransport.onRtcp.subscribe((packet) => {
        if (!(packet instanceof RtcpPayloadSpecificFeedback)) return;
        const { count } = packet.feedback;
        if (count !== PLI_FMT && count !== FIR_FMT) return;
        const feedback = packet.feedback as { mediaSsrc?: number; fir?: { ssrc: number }[] };
        const target = count === PLI_FMT ? feedback.mediaSsrc : feedback.fir?.[0]?.ssrc;
        if (target === undefined || target === sender.ssrc) this.#keyframeWanted();
      });
    }
    let sequenceNumber = Math.floor(Math.random() * 0x10000);
    return {
      send: (payload, timestamp, marker) => {
        if (this.#closed) return;
        sequenceNumber = (sequenceNumber + 1) & 0xffff;
        const header = new RtpHeader({ payloadType: section.codec.payloadType, sequenceNumber, timestamp: timestamp >>> 0, marker });
        sender.sendRtp(new RtpPacket(header, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength))).catch(() => undefined);
      },
    };
  }

  #keyframeWanted(): void {
    for (const listener of this.#keyframeListeners) listener();
  }

}
