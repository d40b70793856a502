import { MediaParseError } from '../../../src/media/errors.ts';
import type { MediaSink } from '../../../src/media/frame.ts';
import type { FrameNormalizer, NormalizedFrame } from './frame-normalizer.ts';
import type { KeyframeRequester } from './keyframe-requester.ts';
import type { RecurringLog } from './logger.ts';
import type { TrackClock } from './media-clock.ts';
import type { RtpFrameAssembler } from './rtp-frame-assembler.ts';
import type { RtpPacket, SenderReport } from './webrtc-peer.ts';

export interface TrackIngestOptions {
  /** Track name in the broadcast: `video` or `audio`. */
  name: 'video' | 'audio';
  assembler: RtpFrameAssembler;
  normalizer: FrameNormalizer;
  clock: TrackClock;
  sink: MediaSink;
  /** Video only: where PLIs come from. */
  keyframes: KeyframeRequester | undefined;
  problems: RecurringLog;
}

export interface TrackIngestStats {
  frames: number;
  bytes: number;
  /** Frames dropped while waiting for a key frame, or malformed. */
  droppedFrames: number;
  lossEvents: number;
}

/**
 * One remote track → frames in the sink: RTP → codec frames → normalized frames with timeline
 * timestamps. A video track only writes from a key frame on, and after a loss (which breaks
 * the decoder's references) waits for the next one, asking for it with a PLI.
 */
export class TrackIngest {
  readonly stats: TrackIngestStats = { frames: 0, bytes: 0, droppedFrames: 0, lossEvents: 0 };
  #awaitingKeyframe: boolean;

  constructor(private readonly options: TrackIngestOptions) {
    this.#awaitingKeyframe = options.keyframes !== undefined;
  }

  onSenderReport(report: SenderReport): void {
    this.options.clock.onSenderReport(report.ntpTimestamp, report.rtpTimestamp);
  }

  onRtp(packet: RtpPacket): void {
    const { name, keyframes, sink } = this.options;
    const { frames, lost } = this.options.assembler.push(packet);
    if (lost) {
      this.stats.lossEvents++;
      this.#needKeyframe();
    }
    for (const frame of frames) {
      let normalized: NormalizedFrame | undefined;
      try {
        normalized = this.options.normalizer.normalize(frame);
      } catch (error) {
        if (!(error instanceof MediaParseError)) throw error;
        this.options.problems.warn(`${name}-parse`, { track: name, error: error.message }, 'dropped a malformed frame');
        this.stats.droppedFrames++;
        this.#needKeyframe();
        continue;
      }
      if (!normalized) {
        this.stats.droppedFrames++;
        keyframes?.request(); // no configuration yet: only a key frame brings it
        continue;
      }
      if (normalized.info) sink.setTrack(name, normalized.info);
      if (keyframes) {
        if (normalized.keyframe) {
          this.#awaitingKeyframe = false;
          keyframes.keyframeSeen();
        } else if (this.#awaitingKeyframe) {
          this.stats.droppedFrames++;
          keyframes.request();
          continue;
        }
      }
      sink.writeFrame(name, {
        timestamp: this.options.clock.frameTime(frame.rtpTimestamp),
        compositionOffset: 0, // WebRTC encoders do not reorder frames
        keyframe: normalized.keyframe,
        payload: normalized.payload,
      });
      this.stats.frames++;
      this.stats.bytes += normalized.payload.byteLength;
    }
  }

  #needKeyframe(): void {
    if (!this.options.keyframes) return;
    this.#awaitingKeyframe = true;
    this.options.keyframes.request();
  }
}
