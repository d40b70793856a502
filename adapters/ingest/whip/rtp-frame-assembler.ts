import { DepacketizeBase, JitterBufferBase } from 'werift/nonstandard';
import type { RtpPacket } from './webrtc-peer.ts';

/**
 * RTP packets → codec frames, through werift's jitter buffer (reordering, loss detection) and
 * depacketizers (RFC 6184 H.264, RFC 7741 VP8, VP9 and AV1 RTP formats, RFC 7587 Opus). Video
 * frames end at the RTP marker bit; every Opus packet is a frame.
 */

/** werift's names for the depacketizers we use. */
export type DepacketizerName = 'MPEG4/ISO/AVC' | 'VP8' | 'VP9' | 'AV1' | 'OPUS';

export interface CodecFrame {
  /** Annex B for H.264, the codec's frame bytes otherwise. */
  data: Uint8Array;
  /** RTP timestamp shared by the frame's packets. */
  rtpTimestamp: number;
  /** The depacketizer's keyframe hint (IDR NAL, VP8/VP9 key frame bit, AV1 N bit). */
  keyframe: boolean;
}

export interface AssembledFrames {
  frames: CodecFrame[];
  /** Packets were lost before these frames: the decoder's references may be broken. */
  lost: boolean;
}

export interface FrameAssemblerOptions {
  /** How long (in media time) a gap is waited for before it counts as lost (NACK's window). */
  latencyMs: number;
  /** Packets one frame may span; more and the frame is dropped as broken. */
  maxPacketsPerFrame: number;
  /** Packets the jitter buffer may hold while waiting for a gap. */
  maxBufferedPackets: number;
}

export const DEFAULT_ASSEMBLER_OPTIONS: FrameAssemblerOptions = { latencyMs: 200, maxPacketsPerFrame: 1024, maxBufferedPackets: 2048 };

export class RtpFrameAssembler {
  readonly #jitter: JitterBufferBase;
  #depacketizer: DepacketizeBase;
  /** Packets fed to the depacketizer since the last frame ended. */
  #pendingPackets = 0;
  /** An oversized frame is being skipped up to its last packet (marker bit). */
  #discarding = false;

  constructor(
    private readonly codec: DepacketizerName,
    clockRate: number,
    private readonly options: FrameAssemblerOptions = DEFAULT_ASSEMBLER_OPTIONS,
  ) {
    this.#jitter = new JitterBufferBase(clockRate, { latency: options.latencyMs, bufferSize: options.maxBufferedPackets });
    this.#depacketizer = this.#newDepacketizer();
  }

  #newDepacketizer(): DepacketizeBase {
    if (this.codec === 'OPUS') return new DepacketizeBase(this.codec);
    return new DepacketizeBase(this.codec, { isFinalPacketInSequence: (header) => header.marker });
  }

  push(packet: RtpPacket): AssembledFrames {
    const result: AssembledFrames = { frames: [], lost: false };
    for (const out of this.#jitter.processInput({ rtp: packet })) {
      if (out.isPacketLost) result.lost = true;
      if (!out.rtp) continue;
      const { timestamp, marker } = out.rtp.header; // read first: the depacketizer clears packets it consumes
      if (this.#discarding) {
        if (marker) this.#discarding = false;
        continue;
      }
      if (++this.#pendingPackets > this.options.maxPacketsPerFrame) {
        // Too long without a marker bit: drop the frame rather than grow without bound.
        this.#depacketizer = this.#newDepacketizer();
        this.#pendingPackets = 0;
        this.#discarding = !marker;
        result.lost = true;
        continue;
      }
      for (const { frame } of this.#depacketizer.processInput({ rtp: out.rtp, time: 0 })) {
        if (frame) result.frames.push({ data: frame.data, rtpTimestamp: timestamp, keyframe: frame.isKeyframe });
      }
      if (this.codec === 'OPUS' || marker) this.#pendingPackets = 0;
    }
    return result;
  }
}
