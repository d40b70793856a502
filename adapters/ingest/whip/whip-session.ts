import type { MediaSink } from '../../../src/media/frame.ts';
import { DEFAULT_KEYFRAME_OPTIONS, KeyframeRequester } from './keyframe-requester.ts';
import { RecurringLog, type StructuredLogger } from './logger.ts';
import { SessionTimeline, TrackClock } from './media-clock.ts';
import { codecPipeline } from './normalizer-for-codec.ts';
import type { WhipOfferPlan } from './offer-plan.ts';
import { DEFAULT_ASSEMBLER_OPTIONS, RtpFrameAssembler } from './rtp-frame-assembler.ts';
import { TrackIngest } from './track-ingest.ts';
import type { TrickleFragment } from '../../../src/webrtc/trickle-fragment.ts';
import type { PeerState, RemoteTrack, WebRtcPeer } from './webrtc-peer.ts';

export interface WhipSessionOptions {
  id: string;
  /** Normalized broadcast path. */
  path: string;
  plan: WhipOfferPlan;
  peer: WebRtcPeer;
  tracks: readonly RemoteTrack[];
  sink: MediaSink;
  logger: StructuredLogger;
  /** ICE must connect within this long (and reconnect within it after a disconnect). */
  iceTimeoutMs: number;
  onClosed: (session: WhipSession) => void;
}

/** How often the key frame freshness is checked. */
const KEYFRAME_CHECK_MS = 1000;

/**
 * One WHIP session (RFC 9725 §4.2): a peer connection publishing into one MediaSink, from the
 * 201 until DELETE, ICE failure or timeout, takeover, or shutdown.
 */
export class WhipSession {
  readonly id: string;
  readonly path: string;
  /** Entity tag of the ICE session (RFC 9725 §4.3.1); fixed, as ICE restarts are not supported. */
  readonly etag: string;
  readonly createdAt = Date.now();
  readonly #options: WhipSessionOptions;
  readonly #ingests = new Map<'audio' | 'video', TrackIngest>();
  readonly #keyframes: KeyframeRequester | undefined;
  #iceTimer: NodeJS.Timeout | undefined;
  readonly #keyframeTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: WhipSessionOptions) {
    this.#options = options;
    this.id = options.id;
    this.path = options.path;
    this.etag = `"${options.id}"`;
    const timeline = new SessionTimeline(undefined, (reason, clockRate) =>
      options.logger.warn({ reason, clockRate }, 'sender reports disagree with the media: timestamps follow RTP time from arrival for the rest of the session'),
    );
    const problems = new RecurringLog(options.logger);

    for (const planned of options.plan.tracks) {
      const remote = options.tracks.find((t) => t.kind === planned.kind);
      if (!remote) continue;
      const { depacketizer, normalizer, maxPacketsPerFrame } = codecPipeline(planned.codec.name);
      let keyframes: KeyframeRequester | undefined;
      if (planned.kind === 'video') {
        keyframes = new KeyframeRequester(() => remote.requestKeyframe(), DEFAULT_KEYFRAME_OPTIONS);
        this.#keyframes = keyframes;
      }
      const ingest = new TrackIngest({
        name: planned.kind,
        assembler: new RtpFrameAssembler(depacketizer, planned.codec.clockRate, { ...DEFAULT_ASSEMBLER_OPTIONS, maxPacketsPerFrame }),
        normalizer,
        clock: new TrackClock(timeline, planned.codec.clockRate),
        sink: options.sink,
        keyframes,
        problems,
      });
      remote.onRtp((packet) => this.#guard(() => ingest.onRtp(packet)));
      remote.onSenderReport((report) => this.#guard(() => ingest.onSenderReport(report)));
      this.#ingests.set(planned.kind, ingest);
    }

    options.peer.onStateChange((state) => this.#onPeerState(state));
    this.#armIceTimer('ICE did not connect');
    if (this.#keyframes) {
      const keyframes = this.#keyframes;
      this.#keyframeTimer = setInterval(() => keyframes.tick(), KEYFRAME_CHECK_MS);
      this.#keyframeTimer.unref();
    }
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  get connected(): boolean {
    return this.#options.peer.state === 'connected';
  }

  /** The client's ICE credentials from its offer. */
  get remoteIce(): { ufrag: string; pwd: string } {
    return { ufrag: this.#options.plan.iceUfrag, pwd: this.#options.plan.icePwd };
  }

  stats(): { audio: TrackIngest['stats'] | undefined; video: TrackIngest['stats'] | undefined; keyframeRequests: number } {
    return {
      audio: this.#ingests.get('audio')?.stats,
      video: this.#ingests.get('video')?.stats,
      keyframeRequests: this.#keyframes?.requests ?? 0,
    };
  }

  /** A viewer needs a key frame now (PLI, rate limited). */
  requestKeyframe(): void {
    this.#keyframes?.request();
  }

  /** Trickled candidates (RFC 8840) for the current ICE session. */
  async addCandidates(fragment: TrickleFragment): Promise<void> {
    for (const { candidate, mid } of fragment.candidates) {
      await this.#options.peer.addRemoteCandidate(candidate, mid ?? this.#options.plan.tracks[0]?.mid);
    }
  }

  /** End the session: peer closed (sockets released), sink closed. Idempotent. */
  close(reason: string, options: { final?: boolean } = {}): Promise<void> {
    this.#closed ??= this.#close(reason, options.final ?? false);
    return this.#closed;
  }

  async #close(reason: string, final: boolean): Promise<void> {
    clearTimeout(this.#iceTimer);
    clearInterval(this.#keyframeTimer);
    this.#options.logger.info({ reason, ...this.stats() }, 'whip session closed');
    try {
      this.#options.sink.close(reason, { final });
    } finally {
      this.#options.onClosed(this);
      await this.#options.peer.close();
    }
  }

  #onPeerState(state: PeerState): void {
    if (this.closed) return;
    this.#options.logger.debug({ state }, 'peer connection state');
    if (state === 'connected') {
      clearTimeout(this.#iceTimer);
      this.#iceTimer = undefined;
      this.#keyframes?.request();
    } else if (state === 'disconnected') {
      this.#armIceTimer('ICE disconnected and did not reconnect');
    } else if (state === 'failed' || state === 'closed') {
      void this.close(`peer connection ${state}`);
    }
  }

  #armIceTimer(reason: string): void {
    clearTimeout(this.#iceTimer);
    this.#iceTimer = setTimeout(() => void this.close(`${reason} within ${this.#options.iceTimeoutMs} ms`), this.#options.iceTimeoutMs);
    this.#iceTimer.unref();
  }

  /** Media handling must never take the process down: a bug there ends this session only. */
  #guard(work: () => void): void {
    if (this.closed) return;
    try {
      work();
    } catch (error) {
      this.#options.logger.error({ err: error }, 'whip media pipeline failed');
      void this.close('internal error in the media pipeline');
    }
  }
}
