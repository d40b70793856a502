import type { Logger } from 'pino';
import type { Broadcast } from '../../../src/relay/index.ts';
import type { TrackInfo } from '../../../src/media/frame.ts';
import { decodeLegacyFrame } from '../../../src/media/hang/container.ts';
import { TRACK_PRIORITY } from '../../../src/media/hang/catalog.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import { bytesEqual } from '../../../src/media/nal.ts';
import { inBandTracker, type InBandConfig, type InBandParameterSets } from '../../../src/media/in-band-parameter-sets.ts';
import { CMAF_TRACK_ID, describeCmafTrack, type CmafTrack } from './cmaf-track.ts';
import type { CutSchedule } from './cut-schedule.ts';
import { FollowerGate } from './follower-gate.ts';
import { PlaylistWindow } from './playlist-window.ts';
import { ResubscribingReader } from './resubscribing-reader.ts';
import { Segmenter, type ForcedCut } from './segmenter.ts';
import type { SessionClock } from './session-clock.ts';
import type { TimedSample } from './timed-sample.ts';
import { VideoSampleClock } from './video-sample-clock.ts';
import { AudioSampleClock } from './audio-sample-clock.ts';

export type RenditionRole = 'leader' | 'video' | 'follower' | 'self';

export interface PackagingOptions {
  partTargetMs: number;
  minSegmentMs: number;
  firstSegmentMaxMs: number;
  segmentWindow: number;
  maxBytes: number;
}

export interface RenditionContext {
  broadcast: Broadcast;
  /** Whom the relay subscriptions are for: one HLS session of the broadcast is one subscriber. */
  subscriber: object;
  track: string;
  info: TrackInfo;
  role: RenditionRole;
  clock: SessionClock;
  schedule: CutSchedule;
  options: PackagingOptions;
  logger: Logger;
  /** Apply the broadcast's newest catalog now (called at each group start). */
  syncCatalog?: () => void;
}

type SampleClock = VideoSampleClock | AudioSampleClock;

/** Share of PART-TARGET a leader leaves for the follower's last audio frame (AAC ≈ 21–23 ms). */
const FOLLOWER_MARGIN = 0.1;

/**
 * Packages one relay track into one LL-HLS media playlist: relay frames → timed samples →
 * parts and segments in the playlist window. Runs from start() until stop() or the track ends.
 */
export class RenditionPackager {
  readonly window: PlaylistWindow;
  readonly track: string;
  lastAccess = Date.now();
  #info: TrackInfo;
  #pendingInfo: TrackInfo | undefined;
  #cmaf: CmafTrack | undefined;
  /** The track of the init segment in use, kept while #cmaf is cleared for a re-description. */
  #written: CmafTrack | undefined;
  /** Set when the track's parameter sets travel in-band only (no description in the catalog). */
  #inBand: InBandParameterSets | undefined;
  /** The in-band configuration the current init segment was built from. */
  #inBandApplied: InBandConfig | undefined;
  #initVersion = 0;
  #sampleClock: SampleClock | undefined;
  readonly #segmenter: Segmenter;
  readonly #gate: FollowerGate | undefined;
  #reader: ResubscribingReader | undefined;
  #unsubscribeSchedule: (() => void) | undefined;
  #stopped = false;
  #unsupported: string | undefined;
  framesIn = 0;
  readonly done: Promise<void>;
  #resolveDone!: () => void;

  constructor(private readonly context: RenditionContext) {
    this.track = context.track;
    this.#info = context.info;
    this.#inBand = inBandTracker(context.info, undefined);
    const { options } = context;
    this.window = new PlaylistWindow({ segmentWindow: options.segmentWindow, maxBytes: options.maxBytes, partTarget: options.partTargetMs / 1000 });
    const role =
      context.role === 'leader' || context.role === 'follower'
        ? { kind: context.role, schedule: context.schedule }
        : { kind: context.role };
    this.#segmenter = new Segmenter(this.window, role, {
      trackId: CMAF_TRACK_ID,
      partTargetUs: options.partTargetMs * 1000,
      leaderPartUs: options.partTargetMs * 1000 * (1 - FOLLOWER_MARGIN),
      minSegmentUs: options.minSegmentMs * 1000,
      firstSegmentMaxUs: options.firstSegmentMaxMs * 1000,
    });
    if (context.role === 'follower') {
      this.#gate = new FollowerGate(context.schedule, (sample, forced) => this.#place(sample, forced));
      // The leader settles the target duration; every playlist declares the same.
      const adoptTarget = () => {
        const target = context.schedule.targetDuration;
        if (target !== undefined) this.window.setTargetDuration(target);
      };
      adoptTarget();
      this.#unsubscribeSchedule = context.schedule.onChange(adoptTarget);
    }
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  get role(): RenditionRole {
    return this.context.role;
  }

  get info(): TrackInfo {
    return this.#info;
  }

  /** RFC 6381 codec of what is written, once known. */
  get codecs(): string | undefined {
    return this.#cmaf?.codecs;
  }

  /** The in-band parameter sets the current init segment was built from (no description in the catalog). */
  get inBandConfig(): InBandConfig | undefined {
    return this.#cmaf ? this.#inBandApplied : undefined;
  }

  /** Set when the rendition cannot be packaged (codec without a CMAF mapping). */
  get unsupported(): string | undefined {
    return this.#unsupported;
  }

  /**
   * Ready to be served: target duration known and one whole segment (hls.js reports a
   * playlist of parts only as an empty level).
   */
  get ready(): boolean {
    return this.window.targetDuration !== undefined && this.window.lastCompleteMsn() !== undefined;
  }

  start(): void {
    if (this.context.role === 'leader') this.context.schedule.setLeaderActive(true);
    this.#run()
      .catch((error: unknown) => this.context.logger.warn({ err: error, track: this.track }, 'hls rendition failed'))
      .finally(() => this.#finish());
  }

  /** A new catalog entry for this track: applied from the next group (a keyframe). */
  updateInfo(info: TrackInfo): void {
    this.#pendingInfo = info;
    this.#reader?.wake();
  }

  /** The catalog lists the track (again): if the publisher ended it, subscribe again now. */
  wake(): void {
    this.#reader?.wake();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reader?.close();
    this.#finish();
  }

  async #run(): Promise<void> {
    const priority = this.#info.kind === 'video' ? TRACK_PRIORITY.video : TRACK_PRIORITY.audio;
    // Subscribed again when the publisher ends the track but not the broadcast (a resize at
    // @moq/publish): its first group brings the new parameter sets, a new init segment.
    this.#reader = new ResubscribingReader(this.context.broadcast, this.track, priority, this.context.subscriber);
    if (this.#stopped) this.#reader.close();
    for (;;) {
      const frame = await this.#reader.next();
      if (!frame) break;
      let timestamp: number;
      let payload: Uint8Array;
      try {
        ({ timestamp, payload } = decodeLegacyFrame(frame.bytes));
      } catch (error) {
        if (error instanceof MediaParseError) continue;
        throw error;
      }
      const groupStart = frame.index === 0;
      if (groupStart) {
        this.context.syncCatalog?.();
        if (this.#stopped) break; // the newest catalog no longer lists this track
      }
      if (groupStart && this.#pendingInfo) {
        this.#info = this.#pendingInfo;
        this.#pendingInfo = undefined;
        this.#cmaf = undefined;
        this.#inBand = inBandTracker(this.#info, this.#inBand);
      }
      if (this.#inBand) {
        try {
          payload = this.#inBand.push(payload).sample;
        } catch (error) {
          if (error instanceof MediaParseError) continue;
          throw error;
        }
        // New parameter sets take effect at the next keyframe: new init segment, discontinuity.
        if (groupStart && this.#cmaf && this.#inBand.config !== this.#inBandApplied) this.#cmaf = undefined;
      }
      // A new init segment starts here: what the previous one described goes out first, under it.
      if (!this.#cmaf && groupStart && this.#sampleClock) this.#feed(this.#sampleClock.flush(timestamp));
      if (!this.#cmaf && !this.#describe(groupStart)) {
        if (this.#unsupported) return;
        continue;
      }
      this.framesIn++;
      this.#feed(this.#sampleClock!.push(timestamp, payload, groupStart));
    }
  }

  /** Build the init segment for the current info; false until possible. */
  #describe(groupStart: boolean): boolean {
    let info = this.#info;
    if (this.#inBand) {
      const config = this.#inBand.config;
      // Samples before the first keyframe with parameter sets cannot be decoded: skip them.
      if (!groupStart || !config) return false;
      info = { ...this.#info, kind: 'video', description: config.description, codedWidth: config.width, codedHeight: config.height };
      this.#inBandApplied = config;
    }
    const result = describeCmafTrack(info);
    if (result.kind === 'needs-keyframe') return false;
    if (result.kind === 'unsupported') {
      this.#unsupported = result.reason;
      this.context.logger.info({ track: this.track, reason: result.reason }, 'hls rendition not packaged');
      return false;
    }
    const previous = this.#written;
    // The same init segment again (a catalog update that only restates what the in-band
    // parameter sets already brought, e.g. @moq/publish's new size after a resize): go on.
    if (previous && bytesEqual(previous.init, result.track.init)) {
      this.#cmaf = previous;
      return true;
    }
    // A new configuration starts at a group: the frames the clock still holds (reordering
    // lookahead, the one waiting for its duration) end the previous GOP under the old init.
    if (this.#sampleClock) this.#feed(this.#sampleClock.flush());
    this.#cmaf = this.#written = result.track;
    this.#initVersion++;
    this.window.setInit(this.#initVersion, result.track.init);
    // A changed decoder configuration is a discontinuity (RFC 8216bis §4.4.4.3); the first is not.
    this.#segmenter.restart(this.#initVersion, this.#initVersion > 1, result.track.timescale);
    this.#sampleClock = this.#makeClock(result.track);
    return true;
  }

  #makeClock(track: CmafTrack): SampleClock {
    if (track.kind === 'video') {
      const maxDuration = (this.context.options.partTargetMs / 1000) * (1 - FOLLOWER_MARGIN) * track.timescale;
      return new VideoSampleClock(this.context.clock, track.reorderDepthHint, Math.floor(maxDuration));
    }
    return new AudioSampleClock(this.context.clock, track.timescale, track.frameSamples ?? (() => undefined));
  }

  #feed(samples: TimedSample[]): void {
    if (samples.length === 0) return;
    if (this.#gate) this.#gate.push(samples);
    else for (const sample of samples) this.#place(sample, {});
  }

  #place(sample: TimedSample, forced: ForcedCut): void {
    this.#segmenter.push(sample, forced);
  }

  #finish(): void {
    if (this.window.ended) return;
    if (this.#sampleClock) this.#feed(this.#sampleClock.flush());
    this.#gate?.flush();
    this.#gate?.close();
    this.#unsubscribeSchedule?.();
    this.#segmenter.finish();
    this.window.end();
    if (this.context.role === 'leader') this.context.schedule.setLeaderActive(false);
    this.#resolveDone();
  }
}
