/**
 * The MPEG-TS rendition for players that know only HLS version 3 (old TVs, set-top boxes,
 * GStreamer 1.22's legacy `hlsdemux`): one transport stream per GOP with the default video
 * and AAC audio muxed, PAT/PMT at the start of every segment, cut from the same relay groups as
 * the fMP4 renditions. Runs only while requested, like them.
 */
import type { Logger } from 'pino';
import type { Broadcast } from '../../../../src/relay/index.ts';
import { Notify } from '../../../../src/relay/notify.ts';
import { DecodeTimestampReconstructor } from '../../../../src/media/decode-timestamps.ts';
import { MediaParseError } from '../../../../src/media/errors.ts';
import type { AudioTrackInfo, TrackInfo, VideoTrackInfo } from '../../../../src/media/frame.ts';
import { decodeLegacyFrame } from '../../../../src/media/hang/container.ts';
import { inBandTracker, type InBandConfig, type InBandParameterSets } from '../../../../src/media/in-band-parameter-sets.ts';
import { TRACK_PRIORITY } from '../../../../src/media/hang/catalog.ts';
import { TsMuxer, type TsSample } from '../../../../src/media/mpegts/muxer.ts';
import { ResubscribingReader } from '../resubscribing-reader.ts';

export interface LegacySegment {
  msn: number;
  durationS: number;
  bytes: Uint8Array;
  /** A new timeline or new codec parameters start here (EXT-X-DISCONTINUITY). */
  discontinuity: boolean;
  /** EXT-X-PROGRAM-DATE-TIME: wall clock of the segment's first frame. */
  wallClockMs: number;
}

export interface LegacyOptions {
  segmentWindow: number;
  maxBytes: number;
  minSegmentMs: number;
}

/** The tracks a legacy stream carries: the first video the muxer takes and the first AAC. */
export function legacyTracks(catalog: ReadonlyMap<string, TrackInfo>): {
  video?: [string, VideoTrackInfo];
  audio?: [string, AudioTrackInfo];
  skipped: string[];
} {
  let video: [string, VideoTrackInfo] | undefined;
  let audio: [string, AudioTrackInfo] | undefined;
  const skipped: string[] = [];
  for (const [name, info] of catalog) {
    if (info.kind === 'video' && !video && /^(avc[13]|hvc1|hev1)/.test(info.codec)) video = [name, info];
    else if (info.kind === 'audio' && !audio && info.codec.startsWith('mp4a.40') && info.description) audio = [name, info];
    else skipped.push(`${name} (${info.codec})`);
  }
  return { ...(video ? { video } : {}), ...(audio ? { audio } : {}), skipped };
}

/** Audio-only streams are cut by time; this long at least. */
const AUDIO_ONLY_SEGMENT_US = 2_000_000;
/** Audio frames waiting for the video they interleave with; more means video stalled. */
const MAX_AUDIO_QUEUE = 500;
/** How far decoding runs ahead of presentation: room for reordering depth 2 at 25 fps and more. */
const DTS_LEAD_US = 100_000;
/** A timestamp jump this large (or backwards) is a new timeline. */
const TIMELINE_JUMP_US = 10_000_000;

interface OpenSegment {
  startUs: number;
  chunks: Uint8Array[];
  wallClockMs: number;
  discontinuity: boolean;
}

export class LegacyTsPackager {
  readonly segments: LegacySegment[] = [];
  readonly #changed = new Notify();
  readonly #readers: ResubscribingReader[] = [];
  #muxer: TsMuxer;
  #open: OpenSegment | undefined;
  #nextMsn = 0;
  #discontinuities = 0;
  #pendingDiscontinuity = false;
  #lastVideoDtsUs: number | undefined;
  readonly #audioQueue: TsSample[] = [];
  /** Set when the video's parameter sets travel in-band only (no description in the catalog). */
  #inBand: InBandParameterSets | undefined;
  /** The in-band configuration the muxer was built from; video waits for the first one. */
  #inBandApplied: InBandConfig | undefined;
  #ended = false;
  #bytes = 0;
  lastAccess = Date.now();
  /** EXT-X-TARGETDURATION: the longest segment so far, rounded up (at least 1). */
  targetDuration = 1;

  constructor(
    private readonly broadcast: Broadcast,
    public video: [string, VideoTrackInfo] | undefined,
    public audio: [string, AudioTrackInfo] | undefined,
    private readonly options: LegacyOptions,
    private readonly logger: Logger,
    /** Whom the relay subscriptions are for (the HLS session of the broadcast). */
    private readonly subscriber?: object,
  ) {
    this.#muxer = newMuxer(video?.[1], audio?.[1]);
    this.#inBand = inBandTracker(video?.[1], undefined);
  }

  /** Codec and size from the in-band parameter sets, when the catalog has no description. */
  get inBandConfig(): InBandConfig | undefined {
    return this.#inBandApplied;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Discontinuities before the first listed segment (EXT-X-DISCONTINUITY-SEQUENCE). */
  get discontinuitySequence(): number {
    return this.#discontinuities - this.listed().filter((s) => s.discontinuity).length;
  }

  get byteLength(): number {
    return this.#bytes;
  }

  changed(): Promise<void> {
    return this.#changed.wait();
  }

  segment(msn: number): LegacySegment | undefined {
    return this.segments.find((s) => s.msn === msn);
  }

  start(): void {
    if (this.video) void this.#read(this.video[0], TRACK_PRIORITY.video, (us, payload, groupStart) => this.#onVideoFrame(us, payload, groupStart));
    if (this.audio) void this.#read(this.audio[0], TRACK_PRIORITY.audio, (us, payload) => this.#onAudioFrame(us, payload));
  }

  stop(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const reader of this.#readers) reader.close();
    this.#changed.notify();
  }

  async #read(track: string, priority: number, onFrame: (ptsUs: number, payload: Uint8Array, groupStart: boolean) => void): Promise<void> {
    // Subscribed again when the publisher ends the track but not the broadcast (a resize at
    // @moq/publish): its first group brings the new parameter sets.
    const reader = new ResubscribingReader(this.broadcast, track, priority, this.subscriber);
    this.#readers.push(reader);
    if (this.#ended) reader.close();
    try {
      for (;;) {
        const frame = await reader.next();
        if (!frame) break;
        const { timestamp, payload } = decodeLegacyFrame(frame.bytes);
        onFrame(timestamp, payload, frame.index === 0);
      }
    } catch (error) {
      if (!(error instanceof MediaParseError)) throw error;
      this.logger.warn({ err: error, track }, 'legacy HLS: frame not muxable, rendition ended');
    }
    // The playlist ends with the broadcast (or the video, which sets the cuts).
    if (track === this.video?.[0] || !this.video) {
      // The frames still held for reordering end the last segment.
      if (track === this.video?.[0] && !this.#ended) this.#writeReordered(this.#reorder.flush());
      this.#closeSegment(this.#lastVideoDtsUs ?? 0);
      this.stop();
    }
  }

  readonly #reorder = new DecodeTimestampReconstructor<{ payload: Uint8Array; keyframe: boolean }>({ initialDepth: 2 });

  #onVideoFrame(ptsUs: number, payload: Uint8Array, groupStart: boolean): void {
    if (this.#inBand) {
      // Annex B with in-band parameter sets (@moq/publish): length-prefixed NAL units for the
      // muxer, which repeats the parameter sets of the avcC / hvcC before keyframes lacking them.
      try {
        payload = this.#inBand.push(payload).sample;
      } catch (error) {
        if (!(error instanceof MediaParseError)) throw error;
        return;
      }
    }
    // A group is a closed GOP: nothing after it reorders with anything before it.
    if (groupStart) {
      this.#writeReordered(this.#reorder.flush());
      if (this.#inBand) this.#applyInBand();
    }
    // Frames before the first keyframe with parameter sets cannot be decoded: left out.
    if (this.#inBand && !this.#inBandApplied) return;
    this.#writeReordered(this.#reorder.push(ptsUs, { payload, keyframe: groupStart }));
  }

  #writeReordered(ready: { pts: number; dts: number; frame: { payload: Uint8Array; keyframe: boolean } }[]): void {
    for (const f of ready) {
      // The rebuilt DTS is the k-th smallest PTS, later than a B-frame's PTS; MPEG-TS needs
      // DTS ≤ PTS (13818-1 §2.4.3.7), so DTS runs a fixed lead ahead, clamped, kept increasing.
      const dtsUs = Math.max(this.#lastWrittenDtsUs + 1, Math.min(f.dts - DTS_LEAD_US, f.pts));
      this.#lastWrittenDtsUs = dtsUs;
      this.#writeVideo({ ptsUs: f.pts, dtsUs, keyframe: f.frame.keyframe, payload: f.frame.payload });
    }
  }

  /**
   * At a keyframe: new in-band parameter sets make a new muxer (their avcC / hvcC) and, after
   * the first, a discontinuity (RFC 8216 §4.3.2.3: a change of encoding parameters).
   */
  #applyInBand(): void {
    const config = this.#inBand?.config;
    if (!config || config === this.#inBandApplied || !this.video) return;
    try {
      this.#muxer = newMuxer({ ...this.video[1], description: config.description }, this.audio?.[1]);
    } catch (error) {
      if (!(error instanceof MediaParseError)) throw error;
      this.logger.warn({ err: error }, 'legacy HLS: in-band parameter sets not muxable, rendition ended');
      this.stop();
      return;
    }
    if (this.#inBandApplied) this.#pendingDiscontinuity = true;
    this.#inBandApplied = config;
  }

  #lastWrittenDtsUs = Number.NEGATIVE_INFINITY;

  #writeVideo(sample: TsSample): void {
    const last = this.#lastVideoDtsUs;
    if (last !== undefined && (sample.dtsUs < last - 1_000_000 || sample.dtsUs > last + TIMELINE_JUMP_US)) this.#pendingDiscontinuity = true;
    this.#lastVideoDtsUs = sample.dtsUs;
    if (sample.keyframe) {
      const open = this.#open;
      if (!open || this.#pendingDiscontinuity || sample.dtsUs - open.startUs >= this.options.minSegmentMs * 1000) {
        this.#closeSegment(sample.dtsUs);
        this.#openSegment(sample.dtsUs);
      }
    }
    const open = this.#open;
    if (!open) return; // waiting for the first keyframe
    this.#flushAudio(sample.dtsUs);
    open.chunks.push(this.#muxer.video(sample));
  }

  #onAudioFrame(ptsUs: number, payload: Uint8Array): void {
    const sample = { ptsUs, dtsUs: ptsUs, keyframe: true, payload };
    if (!this.video) {
      if (!this.#open || ptsUs - this.#open.startUs >= Math.max(AUDIO_ONLY_SEGMENT_US, this.options.minSegmentMs * 1000)) {
        this.#closeSegment(ptsUs);
        this.#openSegment(ptsUs);
      }
      this.#open!.chunks.push(this.#muxer.audio(sample));
      return;
    }
    this.#audioQueue.push(sample);
    if (this.#audioQueue.length > MAX_AUDIO_QUEUE) this.#audioQueue.shift();
  }

  /** Audio up to `untilUs` goes in before the video frame decoded then (interleaving). */
  #flushAudio(untilUs: number): void {
    const open = this.#open;
    while (this.#audioQueue.length > 0 && this.#audioQueue[0]!.ptsUs <= untilUs) {
      const sample = this.#audioQueue.shift()!;
      // Audio from before the segment started (joined mid-GOP) is left out.
      if (open && sample.ptsUs >= open.startUs - 100_000) open.chunks.push(this.#muxer.audio(sample));
    }
  }

  #openSegment(startUs: number): void {
    this.#open = { startUs, chunks: [this.#muxer.tables()], wallClockMs: Date.now(), discontinuity: this.#pendingDiscontinuity };
    if (this.#pendingDiscontinuity) this.#discontinuities++;
    this.#pendingDiscontinuity = false;
  }

  #closeSegment(endUs: number): void {
    const open = this.#open;
    if (!open) return;
    this.#flushAudio(endUs - 1);
    this.#open = undefined;
    const durationS = Math.max(0.001, (endUs - open.startUs) / 1e6);
    const bytes = Buffer.concat(open.chunks);
    this.segments.push({ msn: this.#nextMsn++, durationS, bytes, discontinuity: open.discontinuity, wallClockMs: open.wallClockMs });
    this.#bytes += bytes.byteLength;
    this.targetDuration = Math.max(this.targetDuration, Math.round(durationS + 0.45));
    // The window, plus two retired segments for players still fetching them.
    while (this.segments.length > this.options.segmentWindow + 2 || (this.segments.length > 1 && this.#bytes > this.options.maxBytes)) {
      this.#bytes -= this.segments.shift()!.bytes.byteLength;
    }
    this.#changed.notify();
  }

  /** The catalog lists the tracks (again): a track its publisher ended is subscribed again now. */
  wake(): void {
    for (const reader of this.#readers) reader.wake();
  }

  /** New codec parameters (catalog update): a new stream from the next keyframe on. */
  updateTracks(video: VideoTrackInfo | undefined, audio: AudioTrackInfo | undefined): void {
    const before = muxerKey(this.#muxedVideo(), this.audio?.[1]);
    const inBand = inBandTracker(video, this.#inBand);
    // Known in-band parameter sets stay valid for the same codec family.
    if (inBand !== this.#inBand) this.#inBandApplied = undefined;
    this.#inBand = inBand;
    const description = video?.description ?? this.#inBandApplied?.description;
    const muxedVideo = video && description ? { ...video, description } : video;
    // A catalog update that changes nothing the muxer writes (the size @moq/publish restates
    // after a resize its in-band SPS already brought, a codec string): no new stream.
    if (muxerKey(muxedVideo, audio) === before) {
      if (this.video && video) this.video = [this.video[0], video];
      if (this.audio && audio) this.audio = [this.audio[0], audio];
      return;
    }
    try {
      this.#muxer = newMuxer(muxedVideo, audio);
    } catch (error) {
      if (!(error instanceof MediaParseError)) throw error;
      this.logger.warn({ err: error }, 'legacy HLS: new track parameters not muxable, rendition ended');
      this.stop();
      return;
    }
    if (this.video && video) this.video = [this.video[0], video];
    if (this.audio && audio) this.audio = [this.audio[0], audio];
    this.#pendingDiscontinuity = true;
  }

  /** The video track as the muxer was built for it (with the in-band description when there is one). */
  #muxedVideo(): VideoTrackInfo | undefined {
    const video = this.video?.[1];
    const description = video?.description ?? this.#inBandApplied?.description;
    return video && description ? { ...video, description } : video;
  }

  /** The segments a playlist lists (the retired two are left out). */
  listed(): LegacySegment[] {
    return this.segments.slice(-this.options.segmentWindow);
  }
}

/** What the muxer's output depends on: the video codec family and record, the AAC config. */
function muxerKey(video: VideoTrackInfo | undefined, audio: AudioTrackInfo | undefined): string {
  const hex = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('hex') : '-');
  return [video ? tsVideoCodec(video) : '-', hex(video?.description), audio?.description ? hex(audio.description) : '-'].join('/');
}

function tsVideoCodec(video: VideoTrackInfo): 'h264' | 'h265' {
  return video.codec.startsWith('avc') ? 'h264' : 'h265';
}

function newMuxer(video: VideoTrackInfo | undefined, audio: AudioTrackInfo | undefined): TsMuxer {
  return new TsMuxer({
    ...(video
      ? {
          video: {
            codec: tsVideoCodec(video),
            ...(video.description ? { description: video.description } : {}),
          },
        }
      : {}),
    ...(audio?.description ? { audio: { codec: 'aac' as const, description: audio.description } } : {}),
  });
}
