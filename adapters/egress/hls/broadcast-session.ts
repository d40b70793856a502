import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Broadcast } from '../../../src/relay/index.ts';
import { Notify } from '../../../src/relay/notify.ts';
import type { TrackInfo } from '../../../src/media/frame.ts';
import { CATALOG_TRACK, parseCatalog, TRACK_PRIORITY } from '../../../src/media/hang/catalog.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import { describeCmafTrack, type CmafTrackResult } from './cmaf-track.ts';
import { CutSchedule } from './cut-schedule.ts';
import type { RenditionReport } from './media-playlist.ts';
import { renderMultivariantPlaylist, type AudioRendition, type VideoVariant } from './multivariant-playlist.ts';
import { RelayTrackReader } from '../../../src/relay/track-reader.ts';
import { RenditionPackager, type PackagingOptions, type RenditionRole } from './rendition-packager.ts';
import { SessionClock } from './session-clock.ts';
import { waitUntil } from './wait.ts';
import { LegacyTsPackager, legacyTracks } from './legacy-ts/packager.ts';

export interface RenditionStats {
  track: string;
  role: RenditionRole;
  codecs: string | undefined;
  framesIn: number;
  segments: number;
  lastMsn: number | undefined;
  bytes: number;
  ended: boolean;
}

export interface SessionStats {
  broadcast: string;
  session: string;
  idleMs: number;
  renditions: RenditionStats[];
}

/** How long a track may be missing from the catalog before its playlist ends. */
const TRACK_REMOVAL_GRACE_MS = 2000;

/**
 * HLS for one broadcast while somebody watches it: follows the catalog, and packages a
 * rendition only from the first request for it until it has not been asked for within the
 * idle timeout. The default video leads (its GOPs set the segment boundaries) and is kept
 * running while any audio rendition follows it.
 */
export class HlsBroadcastSession {
  /** Goes into every media URL: a new session never reuses an old session's URLs. */
  readonly id = randomBytes(6).toString('hex').replace(/^\d/, 'a').slice(0, 8);
  readonly clock = new SessionClock();
  readonly #schedule = new CutSchedule();
  readonly #renditions = new Map<string, RenditionPackager>();
  readonly #catalogChanged = new Notify();
  #catalog: Map<string, TrackInfo> | undefined;
  #catalogReader: RelayTrackReader | undefined;
  /** Sequence of the catalog group applied last (by the reader or by a packager's peek). */
  #catalogSequence = -1;
  /** Catalog entries are replaced, not mutated, on updates: memoise per entry object. */
  readonly #described = new WeakMap<TrackInfo, CmafTrackResult>();
  #legacy: LegacyTsPackager | undefined;
  #removalTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Requests being answered (blocking reloads included): the session is not idle meanwhile. */
  #inflight = 0;
  lastAccess = Date.now();

  constructor(
    readonly broadcast: Broadcast,
    private readonly options: PackagingOptions & { idleTimeoutMs: number },
    private readonly logger: Logger,
  ) {}

  get path(): string {
    return this.broadcast.path;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    void this.#followCatalog().catch((error: unknown) => this.logger.warn({ err: error, broadcast: this.path }, 'hls catalog reader failed'));
  }

  touch(): void {
    this.lastAccess = Date.now();
  }

  /** Count a request as activity until `release` is called (when its response is done). */
  hold(): () => void {
    this.#inflight++;
    this.touch();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inflight--;
      this.touch();
    };
  }

  /** The catalog, waiting for the first one up to `timeoutMs`. */
  async catalog(timeoutMs: number, signal?: AbortSignal): Promise<Map<string, TrackInfo> | undefined> {
    await waitUntil(() => this.#catalogChanged.wait(), () => this.#catalog !== undefined || this.#closed || this.broadcast.ended, timeoutMs, signal);
    return this.#catalog;
  }

  /** The catalog applied last, if any (no wait). */
  get catalogNow(): ReadonlyMap<string, TrackInfo> | undefined {
    return this.#catalog;
  }

  /** The running packager of a track, starting it (and its leader) if the catalog lists it. */
  rendition(track: string): RenditionPackager | undefined {
    const running = this.#renditions.get(track);
    if (running) {
      running.lastAccess = Date.now();
      return running;
    }
    if (this.#closed || this.broadcast.ended) return undefined;
    const info = this.#catalog?.get(track);
    if (!info || this.#describe(info).kind === 'unsupported') return undefined;
    const role = this.#roleOf(track, info);
    if (role === 'follower') this.rendition(this.#leaderTrack()!);
    const packager = new RenditionPackager({
      broadcast: this.broadcast,
      subscriber: this,
      track,
      info,
      role,
      clock: this.clock,
      schedule: this.#schedule,
      options: this.options,
      logger: this.logger,
      syncCatalog: () => this.#peekCatalog(),
    });
    this.#renditions.set(track, packager);
    packager.start();
    this.logger.debug({ broadcast: this.path, track, role }, 'hls rendition started');
    return packager;
  }

  /** The MPEG-TS rendition, started on its first playlist request; undefined if nothing is muxable. */
  legacy(start: boolean): LegacyTsPackager | undefined {
    if (this.#legacy && !this.#legacy.ended) {
      this.#legacy.lastAccess = Date.now();
      return this.#legacy;
    }
    if (!start || this.#closed || this.broadcast.ended || !this.#catalog) return this.#legacy;
    const { video, audio, skipped } = legacyTracks(this.#catalog);
    if (!video && !audio) return undefined;
    // Opus (WHIP) has no MPEG-TS mapping legacy players read; it is left out, not transcoded.
    if (skipped.length > 0) this.logger.info({ broadcast: this.path, skipped }, 'legacy HLS: tracks left out of the MPEG-TS rendition');
    try {
      this.#legacy = new LegacyTsPackager(this.broadcast, video, audio, this.options, this.logger, this);
    } catch (error) {
      if (!(error instanceof MediaParseError)) throw error;
      this.logger.warn({ broadcast: this.path, err: error }, 'legacy HLS: tracks not muxable into MPEG-TS');
      return undefined;
    }
    this.#legacy.start();
    return this.#legacy;
  }

  /** A packager already running (media and init requests never start one). */
  running(track: string): RenditionPackager | undefined {
    const packager = this.#renditions.get(track);
    if (packager) packager.lastAccess = Date.now();
    return packager;
  }

  /** Start what a player fetches next after the multivariant playlist: default video and audio. */
  prewarm(): void {
    const leader = this.#leaderTrack();
    if (leader) this.rendition(leader);
    const audio = [...(this.#catalog ?? [])].find(([, info]) => info.kind === 'audio' && this.#describe(info).kind !== 'unsupported');
    if (audio) this.rendition(audio[0]);
  }

  multivariantPlaylist(): string | undefined {
    if (!this.#catalog) return undefined;
    const video: VideoVariant[] = [];
    const audio: AudioRendition[] = [];
    for (const [track, info] of this.#catalog) {
      const described = this.#describe(info);
      if (described.kind === 'unsupported') continue;
      // In-band parameter sets (no description): what the running rendition built from them.
      const running = this.#renditions.get(track);
      const inBand = running?.inBandConfig;
      const codecs = described.kind === 'ready' ? described.track.codecs : (running?.codecs ?? inBandSampleEntryCodec(info.codec));
      const measured = this.#measuredBitrate(track);
      if (info.kind === 'video') {
        const estimate = info.codedWidth * info.codedHeight * (info.framerate ?? 30) * 0.1;
        const bandwidth = Math.max(info.bitrate ?? 0, measured ?? 0) || Math.max(100_000, estimate);
        const size = { width: inBand?.width ?? info.codedWidth, height: inBand?.height ?? info.codedHeight };
        video.push({ track, codecs, bandwidth, ...size, ...(info.framerate ? { framerate: info.framerate } : {}) });
      } else {
        const bandwidth = Math.max(info.bitrate ?? 0, measured ?? 0) || (info.codec === 'opus' ? 64_000 : 128_000);
        audio.push({ track, codecs, bandwidth, channels: info.numberOfChannels || 2 });
      }
    }
    if (video.length === 0 && audio.length === 0) return undefined;
    return renderMultivariantPlaylist(video, audio);
  }

  /** Where the other running renditions are (EXT-X-RENDITION-REPORT). */
  reports(except: string): RenditionReport[] {
    const reports: RenditionReport[] = [];
    for (const [track, packager] of this.#renditions) {
      if (track === except || packager.window.ended) continue;
      const last = packager.window.lastPart();
      if (last) reports.push({ track, lastMsn: last.msn, lastPart: last.index });
    }
    return reports;
  }

  /**
   * Stop renditions nobody asked for within the idle timeout (a leader lives as long as a
   * follower does). Returns true when the whole session is idle.
   */
  sweep(now: number): boolean {
    if (this.#inflight > 0) return false;
    const idle = this.options.idleTimeoutMs;
    const leader = this.#leaderTrack();
    for (const packager of this.#renditions.values()) {
      if (packager.role === 'follower' && now - packager.lastAccess <= idle && leader) {
        const lead = this.#renditions.get(leader);
        if (lead) lead.lastAccess = Math.max(lead.lastAccess, packager.lastAccess);
      }
    }
    for (const [track, packager] of this.#renditions) {
      if (now - packager.lastAccess > idle) {
        packager.stop();
        this.#renditions.delete(track);
        this.logger.debug({ broadcast: this.path, track }, 'hls rendition idle, stopped');
      }
    }
    if (this.#legacy && now - this.#legacy.lastAccess > idle) {
      this.#legacy.stop();
      this.#legacy = undefined;
    }
    return now - this.lastAccess > idle;
  }

  /** End every playlist (EXT-X-ENDLIST) and stop reading the relay. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#catalogReader?.close();
    clearTimeout(this.#removalTimer);
    for (const packager of this.#renditions.values()) packager.stop();
    this.#legacy?.stop();
    this.#catalogChanged.notify();
  }

  stats(now = Date.now()): SessionStats {
    return {
      broadcast: this.path,
      session: this.id,
      idleMs: now - this.lastAccess,
      renditions: [...this.#renditions.values()].map((p) => ({
        track: p.track,
        role: p.role,
        codecs: p.codecs,
        framesIn: p.framesIn,
        segments: p.window.segments.length,
        lastMsn: p.window.current?.msn,
        bytes: p.window.byteLength,
        ended: p.window.ended,
      })),
    };
  }

  #describe(info: TrackInfo): CmafTrackResult {
    let result = this.#described.get(info);
    if (!result) {
      result = describeCmafTrack(info);
      this.#described.set(info, result);
    }
    return result;
  }

  #leaderTrack(): string | undefined {
    for (const [track, info] of this.#catalog ?? []) {
      if (info.kind === 'video' && this.#describe(info).kind !== 'unsupported') return track;
    }
    return undefined;
  }

  #roleOf(track: string, info: TrackInfo): RenditionRole {
    if (info.kind === 'video') return track === this.#leaderTrack() ? 'leader' : 'video';
    return this.#leaderTrack() ? 'follower' : 'self';
  }

  #measuredBitrate(track: string): number | undefined {
    const packager = this.#renditions.get(track);
    if (!packager) return undefined;
    let peak = 0;
    for (const s of packager.window.segments) if (s.complete && s.duration > 0) peak = Math.max(peak, (s.byteLength * 8) / s.duration);
    return peak || undefined;
  }

  async #followCatalog(): Promise<void> {
    const subscription = this.broadcast.subscribe(CATALOG_TRACK, TRACK_PRIORITY.catalog, this);
    if (!subscription) {
      this.logger.info({ broadcast: this.path }, 'hls: broadcast has no catalog track');
      return;
    }
    const reader = (this.#catalogReader = new RelayTrackReader(subscription));
    if (this.#closed) reader.close();
    for (;;) {
      const frame = await reader.next();
      if (!frame) break;
      if (frame.index !== 0) continue; // one JSON document per group (hang §Catalog)
      this.#takeCatalog(frame.groupSequence, frame.bytes);
    }
    this.#catalogChanged.notify();
  }

  /**
   * Apply the relay's newest catalog group now, if not yet applied. Packagers call this as a
   * group starts: a publisher writes the catalog that describes a new group just before the
   * group (src/media/hang/publisher.ts), so the new description reaches the packager with the
   * group's first frame instead of racing it through the catalog reader.
   */
  #peekCatalog(): void {
    if (!this.#catalogReader || this.#closed) return;
    const latest = this.broadcast.getTrack(CATALOG_TRACK)?.latest;
    const document = latest?.frames[0];
    if (latest && document) this.#takeCatalog(latest.sequence, document);
  }

  #takeCatalog(sequence: number, document: Uint8Array): void {
    if (sequence <= this.#catalogSequence) return;
    this.#catalogSequence = sequence;
    try {
      this.#applyCatalog(parseCatalog(document));
    } catch (error) {
      if (!(error instanceof MediaParseError)) throw error;
      this.logger.warn({ broadcast: this.path, err: error }, 'hls: malformed catalog ignored');
    }
  }

  #applyCatalog(catalog: Map<string, TrackInfo>): void {
    this.#catalog = catalog;
    const legacy = this.#legacy;
    if (legacy) {
      const video = legacy.video && catalog.get(legacy.video[0]);
      const audio = legacy.audio && catalog.get(legacy.audio[0]);
      // A track missing for a moment is not removed yet (see #removeMissing).
      if ((legacy.video && !video) || (legacy.audio && !audio)) this.#scheduleRemovalCheck();
      else this.#updateLegacy(legacy, video, audio);
    }
    for (const [track, packager] of this.#renditions) {
      const info = catalog.get(track);
      if (!info) {
        this.#scheduleRemovalCheck();
      } else if (JSON.stringify(describeKey(info)) !== JSON.stringify(describeKey(packager.info))) {
        packager.updateInfo(info);
      } else {
        packager.wake();
      }
    }
    this.#catalogChanged.notify();
  }

  #updateLegacy(legacy: LegacyTsPackager, video: TrackInfo | undefined, audio: TrackInfo | undefined): void {
    const key = (info: TrackInfo | undefined) => (info ? JSON.stringify(describeKey(info)) : '');
    if (key(video) !== key(legacy.video?.[1]) || key(audio) !== key(legacy.audio?.[1])) {
      legacy.updateTracks(video?.kind === 'video' ? video : undefined, audio?.kind === 'audio' ? audio : undefined);
    }
    legacy.wake();
  }

  /**
   * A track the catalog no longer lists is removed (its playlist ends) only if it is still
   * missing a moment later: @moq/publish republishes its catalog without the video while it
   * reconfigures the encoder (a resize), then with it again some 20 ms later.
   */
  #scheduleRemovalCheck(): void {
    if (this.#removalTimer || this.#closed) return;
    this.#removalTimer = setTimeout(() => {
      this.#removalTimer = undefined;
      this.#removeMissing();
    }, TRACK_REMOVAL_GRACE_MS);
    this.#removalTimer.unref();
  }

  #removeMissing(): void {
    const catalog = this.#catalog;
    if (this.#closed || !catalog) return;
    for (const [track, packager] of this.#renditions) {
      if (!catalog.has(track)) packager.stop(); // removed from the broadcast: its playlist ends
    }
    const legacy = this.#legacy;
    if (legacy) this.#updateLegacy(legacy, legacy.video && catalog.get(legacy.video[0]), legacy.audio && catalog.get(legacy.audio[0]));
  }
}

/** The catalog fields that change the init segment. */
function describeKey(info: TrackInfo): unknown {
  const { description, bitrate: _bitrate, ...rest } = info;
  return { ...rest, description: description ? Buffer.from(description).toString('hex') : undefined };
}

/** HEVC with in-band parameter sets is written as `hvc1` (cmaf-track.ts), whatever the catalog says. */
function inBandSampleEntryCodec(codec: string): string {
  return codec.startsWith('hev1.') ? `hvc1.${codec.slice(5)}` : codec;
}
