import type { Broadcast } from '../../../src/relay/index.ts';
import type { StructuredLogger } from '../../../src/logger.ts';
import type { TrickleFragment } from '../../../src/webrtc/trickle-fragment.ts';
import { MediaFeed } from './media-feed.ts';
import type { WhepOfferPlan } from './whep-offer.ts';
import type { PeerState, WhepPeer } from './whep-peer.ts';

export interface WhepSessionOptions {
  id: string;
  /** Normalized broadcast path. */
  path: string;
  broadcast: Broadcast;
  plan: WhepOfferPlan;
  peer: WhepPeer;
  logger: StructuredLogger;
  /** ICE must connect within this long (and reconnect within it after a disconnect). */
  iceTimeoutMs: number;
  /** A PLI/FIR from the player: ask the publisher for a key frame (rate limited there). */
  requestKeyframe: () => void;
  onClosed: (session: WhepSession) => void;
}

/**
 * One WHEP session (draft-ietf-wish-whep §3): a send-only peer fed from one relay broadcast,
 * from the 201 until DELETE, ICE failure or timeout, the broadcast's end, or shutdown.
 */
export class WhepSession {
  readonly id: string;
  readonly path: string;
  /** Entity tag of the ICE session (RFC 9725 §4.3.1); fixed, as ICE restarts are not supported. */
  readonly etag: string;
  readonly #options: WhepSessionOptions;
  readonly #feed: MediaFeed;
  #iceTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;
  keyframeRequests = 0;
  #started = false;

  constructor(options: WhepSessionOptions) {
    this.#options = options;
    this.id = options.id;
    this.path = options.path;
    this.etag = `"${options.id}"`;
    this.#feed = new MediaFeed(
      options.broadcast,
      { video: options.peer.video, audio: options.peer.audio },
      (error) => options.logger.warn({ err: error }, 'whep media feed problem'),
      () => void this.close('the broadcast ended'),
    );
    options.peer.onStateChange((state) => this.#onPeerState(state));
    options.peer.onKeyframeRequest(() => {
      this.keyframeRequests++;
      options.requestKeyframe();
    });
    this.#armIceTimer('ICE did not connect');
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  get remoteIce(): { ufrag: string; pwd: string } {
    return { ufrag: this.#options.plan.iceUfrag, pwd: this.#options.plan.icePwd };
  }

  stats(): MediaFeed['stats'] & { keyframeRequests: number } {
    return { ...this.#feed.stats, keyframeRequests: this.keyframeRequests };
  }

  async addCandidates(fragment: TrickleFragment): Promise<void> {
    const firstMid = this.#options.plan.video?.mid ?? this.#options.plan.audio?.mid;
    for (const { candidate, mid } of fragment.candidates) await this.#options.peer.addRemoteCandidate(candidate, mid ?? firstMid);
  }

  /** End the session: feed stopped, peer closed. Idempotent. */
  close(reason: string): Promise<void> {
    this.#closed ??= this.#close(reason);
    return this.#closed;
  }

  async #close(reason: string): Promise<void> {
    clearTimeout(this.#iceTimer);
    this.#options.logger.info({ reason, ...this.stats() }, 'whep session closed');
    this.#feed.close();
    this.#options.onClosed(this);
    await this.#options.peer.close();
  }

  #onPeerState(state: PeerState): void {
    if (this.closed) return;
    if (state === 'connected') {
      clearTimeout(this.#iceTimer);
      this.#iceTimer = undefined;
      // Only now: werift drops RTP sent before DTLS is up, and the first keyframe must arrive.
      if (!this.#started) {
        this.#started = true;
        this.#feed.start();
      }
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
}
