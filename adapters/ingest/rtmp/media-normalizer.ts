import { repairAudioSpecificConfig } from '../../../src/media/aac.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import type { MediaSink, TrackInfo } from '../../../src/media/frame.ts';
import { H264NalType, h264NalType } from '../../../src/media/h264.ts';
import { H265NalType, h265NalType } from '../../../src/media/h265.ts';
import { bytesEqual, joinLengthPrefixed, splitLengthPrefixed } from '../../../src/media/nal.ts';
import { FlvTagError } from './errors.ts';
import { parseAudioTag, type AudioPacket } from './flv-audio.ts';
import { parseVideoTag, type VideoPacket } from './flv-video.ts';
import { RecurringLog, type StructuredLogger } from './logger.ts';
import { RtmpTimeline, TrackClock } from './timeline.ts';
import { audioTrackInfo, SUPPORTED_AUDIO_FOURCC, SUPPORTED_VIDEO_FOURCC, videoTrackSetup, type StreamHints } from './track-info.ts';

/**
 * Turns one publisher's RTMP audio/video messages into frame-model calls on its MediaSink:
 * codec configuration -> setTrack (again whenever it changes), frames -> writeFrame with µs
 * timestamps on the connection's single timeline.
 *
 * Audio grouping: every AAC/Opus access unit decodes on its own, so every audio frame is
 * marked keyframe=true and the sink decides how to group audio (per frame, or by duration);
 * this adapter has no opinion on it.
 */

interface TrackState {
  name: string;
  fourCc: string;
  /** The sequence header as received, to recognize a repeated (unchanged) one. */
  config: Uint8Array | undefined;
  /** Declared to the sink and not since removed. */
  active: boolean;
  clock: TrackClock;
}

interface VideoTrackState extends TrackState {
  nalLengthSize: number | undefined;
}

interface AudioTrackState extends TrackState {
  channelCount: number | undefined;
}

export function trackName(kind: 'video' | 'audio', trackId: number): string {
  return trackId === 0 ? kind : `${kind}${trackId}`;
}

export class RtmpMediaNormalizer {
  private readonly timeline = new RtmpTimeline();
  private readonly video = new Map<number, VideoTrackState>();
  private readonly audio = new Map<number, AudioTrackState>();
  private readonly recurring: RecurringLog;
  private hints: StreamHints = {};

  constructor(
    private readonly sink: MediaSink,
    private readonly logger: StructuredLogger,
  ) {
    this.recurring = new RecurringLog(logger);
  }

  /** onMetaData: only used for what codec records lack (AV1/VP9 size) and informative rates. */
  setMetadata(metadata: Record<string, unknown>): void {
    const positive = (key: string): number | undefined => {
      const value = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
      return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
    };
    const kbps = (key: string): number | undefined => {
      const value = positive(key);
      return value === undefined ? undefined : Math.round(value * 1000);
    };
    const hints: StreamHints = {};
    const width = positive('width');
    const height = positive('height');
    const framerate = positive('framerate') ?? positive('videoframerate');
    const videoBitrate = kbps('videodatarate');
    const audioBitrate = kbps('audiodatarate');
    if (width !== undefined) hints.width = Math.round(width);
    if (height !== undefined) hints.height = Math.round(height);
    if (framerate !== undefined) hints.framerate = framerate;
    if (videoBitrate !== undefined) hints.videoBitrate = videoBitrate;
    if (audioBitrate !== undefined) hints.audioBitrate = audioBitrate;
    this.hints = hints;
    this.logger.debug({ metadata: hints }, 'onMetaData');
  }

  onVideoMessage(timestamp: number, body: Uint8Array): void {
    const ms = this.timeline.unwrap(timestamp);
    let tag: ReturnType<typeof parseVideoTag>;
    try {
      tag = parseVideoTag(plainBytes(body));
    } catch (error) {
      if (!(error instanceof FlvTagError)) throw error;
      this.recurring.warn('bad-video-tag', { error: error.message }, 'dropping malformed video message');
      return;
    }
    const dtsUs = Math.round(ms * 1000 + tag.timestampOffsetNs / 1000);
    for (const packet of tag.packets) this.onVideoPacket(packet, dtsUs);
  }

  onAudioMessage(timestamp: number, body: Uint8Array): void {
    const ms = this.timeline.unwrap(timestamp);
    let tag: ReturnType<typeof parseAudioTag>;
    try {
      tag = parseAudioTag(plainBytes(body));
    } catch (error) {
      if (!(error instanceof FlvTagError)) throw error;
      this.recurring.warn('bad-audio-tag', { error: error.message }, 'dropping malformed audio message');
      return;
    }
    const dtsUs = Math.round(ms * 1000 + tag.timestampOffsetNs / 1000);
    for (const packet of tag.packets) this.onAudioPacket(packet, dtsUs);
  }

  private videoTrack(trackId: number): VideoTrackState {
    let track = this.video.get(trackId);
    if (!track) {
      track = { name: trackName('video', trackId), fourCc: '', config: undefined, active: false, clock: new TrackClock(), nalLengthSize: undefined };
      this.video.set(trackId, track);
    }
    return track;
  }

  private audioTrack(trackId: number): AudioTrackState {
    let track = this.audio.get(trackId);
    if (!track) {
      track = { name: trackName('audio', trackId), fourCc: '', config: undefined, active: false, clock: new TrackClock(), channelCount: undefined };
      this.audio.set(trackId, track);
    }
    return track;
  }

  /** Log once per track and codec, and stop publishing the track if it was live. */
  private dropTrack(track: TrackState, codec: string, reason: string): void {
    if (this.recurring.first(`unsupported:${track.name}:${codec}:${reason}`)) {
      this.logger.warn({ track: track.name, codec, reason }, 'dropping unsupported track');
    }
    track.config = undefined;
    track.fourCc = '';
    if (track.active) {
      track.active = false;
      this.sink.removeTrack(track.name);
    }
  }

  private skipPacket(kind: 'video' | 'audio', trackId: number, reason: string): void {
    const name = trackName(kind, trackId);
    this.recurring.warn(`unknown-packet:${name}:${reason}`, { track: name, reason }, 'skipping packet');
  }

  private declare(track: TrackState, fourCc: string, config: Uint8Array, info: TrackInfo): void {
    track.fourCc = fourCc;
    track.config = config.slice();
    track.active = true;
    this.sink.setTrack(track.name, info);
    this.logger.info({ track: track.name, codec: info.codec }, 'track configured');
  }

  private onVideoPacket(packet: VideoPacket, dtsUs: number): void {
    switch (packet.type) {
      case 'command':
        return;
      case 'unsupported-codec':
        return this.dropTrack(this.videoTrack(packet.trackId), packet.codec, packet.reason);
      case 'unknown-packet':
        return this.skipPacket('video', packet.trackId, packet.reason);
      case 'metadata':
        if (this.recurring.first('video-metadata')) this.logger.debug({ trackId: packet.trackId }, 'ignoring E-RTMP video Metadata packet');
        return;
      case 'sequence-end':
        // Nothing to flush: the next sequence start (if any) re-declares the track.
        this.logger.debug({ trackId: packet.trackId }, 'video sequence end');
        return;
      case 'sequence-start':
        return this.onVideoConfig(this.videoTrack(packet.trackId), packet.fourCc, packet.config);
      case 'coded-frame':
        return this.onVideoFrame(this.videoTrack(packet.trackId), packet, dtsUs);
    }
  }

  private onVideoConfig(track: VideoTrackState, fourCc: string, config: Uint8Array): void {
    if (!SUPPORTED_VIDEO_FOURCC.has(fourCc)) return this.dropTrack(track, fourCc, `unsupported video codec ${JSON.stringify(fourCc)}`);
    if (track.active && track.fourCc === fourCc && track.config && bytesEqual(track.config, config)) return; // repeated header
    let setup: ReturnType<typeof videoTrackSetup>;
    try {
      setup = videoTrackSetup(fourCc, config, this.hints);
    } catch (error) {
      if (!(error instanceof MediaParseError)) throw error;
      this.recurring.warn(`bad-config:${track.name}`, { track: track.name, error: error.message }, 'ignoring malformed video sequence header');
      return;
    }
    track.nalLengthSize = setup.nalLengthSize;
    this.declare(track, fourCc, config, setup.info);
  }

  private onVideoFrame(track: VideoTrackState, packet: Extract<VideoPacket, { type: 'coded-frame' }>, dtsUs: number): void {
    if (!track.active || track.fourCc !== packet.fourCc) {
      this.recurring.warn(`no-config:${track.name}`, { track: track.name, codec: packet.fourCc }, 'dropping video frame without a sequence header');
      return;
    }
    // An empty frame is how some muxers (and node-media-server) carry an AVC end of sequence.
    if (packet.data.length === 0) return;
    let payload = packet.data;
    let keyframe = packet.keyframe;
    if (track.nalLengthSize !== undefined) {
      try {
        const nalus = splitLengthPrefixed(packet.data, track.nalLengthSize);
        if (nalus.length === 0) return;
        if (track.nalLengthSize !== 4) payload = joinLengthPrefixed(nalus, 4);
        // Trust the bitstream over the FLV flag: only an IDR (H.264) / IRAP (H.265) starts a group.
        keyframe = packet.fourCc === 'avc1' ? nalus.some((n) => h264NalType(n) === H264NalType.Idr) : nalus.some(isHevcIrap);
      } catch (error) {
        if (!(error instanceof MediaParseError)) throw error;
        this.recurring.warn(`bad-frame:${track.name}`, { track: track.name, error: error.message }, 'dropping malformed video frame');
        return;
      }
      if (keyframe !== packet.keyframe) {
        this.recurring.warn(
          `key-mismatch:${track.name}`,
          { track: track.name, flvKeyframe: packet.keyframe, bitstreamKeyframe: keyframe },
          'FLV frame type disagrees with the bitstream; using the bitstream',
        );
      }
    }
    this.write(track, dtsUs, packet.compositionTimeMs * 1000, keyframe, payload);
  }

  private onAudioPacket(packet: AudioPacket, dtsUs: number): void {
    switch (packet.type) {
      case 'unsupported-codec':
        return this.dropTrack(this.audioTrack(packet.trackId), packet.codec, packet.reason);
      case 'unknown-packet':
        return this.skipPacket('audio', packet.trackId, packet.reason);
      case 'sequence-end':
        this.logger.debug({ trackId: packet.trackId }, 'audio sequence end');
        return;
      case 'multichannel-config':
        this.audioTrack(packet.trackId).channelCount = packet.channelCount;
        return;
      case 'sequence-start':
        return this.onAudioConfig(this.audioTrack(packet.trackId), packet.fourCc, packet.config);
      case 'coded-frame':
        return this.onAudioFrame(this.audioTrack(packet.trackId), packet.fourCc, packet.data, dtsUs);
    }
  }

  private onAudioConfig(track: AudioTrackState, fourCc: string, config: Uint8Array): void {
    if (!SUPPORTED_AUDIO_FOURCC.has(fourCc)) return this.dropTrack(track, fourCc, `unsupported audio codec ${JSON.stringify(fourCc)}`);
    if (track.active && track.fourCc === fourCc && track.config && bytesEqual(track.config, config)) return;
    let info: ReturnType<typeof audioTrackInfo>;
    try {
      let described = config;
      if (fourCc === 'mp4a') {
        const { config: repaired, repaired: why } = repairAudioSpecificConfig(config);
        if (why) this.recurring.warn(`repaired-config:${track.name}`, { track: track.name, reason: why }, 'repairing an AAC config that announces HE-AAC over AAC-LC data (ffmpeg -profile:a aac_he with its native encoder)');
        described = repaired;
      }
      info = audioTrackInfo(fourCc, described, this.hints, track.channelCount);
    } catch (error) {
      if (!(error instanceof MediaParseError)) throw error;
      this.recurring.warn(`bad-config:${track.name}`, { track: track.name, error: error.message }, 'ignoring malformed audio sequence header');
      return;
    }
    this.declare(track, fourCc, config, info);
  }

  private onAudioFrame(track: AudioTrackState, fourCc: string, data: Uint8Array, dtsUs: number): void {
    if (data.length === 0) return;
    if (fourCc === 'Opus' && (!track.active || track.fourCc !== fourCc)) {
      // Opus packets can start without a sequence start: for a family-0 stream the TOC byte's
      // stereo flag (RFC 6716 3.1) gives the channel count.
      const channels = track.channelCount ?? ((data[0]! & 0x04) !== 0 ? 2 : 1);
      if (channels <= 2) this.declare(track, fourCc, new Uint8Array(0), audioTrackInfo(fourCc, new Uint8Array(0), this.hints, channels));
    }
    if (!track.active || track.fourCc !== fourCc) {
      this.recurring.warn(`no-config:${track.name}`, { track: track.name, codec: fourCc }, 'dropping audio frame without a sequence header');
      return;
    }
    this.write(track, dtsUs, 0, true, data);
  }

  private write(track: TrackState, dtsUs: number, compositionOffset: number, keyframe: boolean, payload: Uint8Array): void {
    const { dts, clampedByUs } = track.clock.next(dtsUs);
    if (clampedByUs > 0) {
      this.recurring.warn(`backwards:${track.name}`, { track: track.name, backwardsUs: clampedByUs }, 'timestamp went backwards; clamped');
    }
    this.sink.writeFrame(track.name, { timestamp: dts, compositionOffset, keyframe, payload });
  }
}

/**
 * The same bytes as a plain Uint8Array. Frames and descriptions handed to sinks are views of
 * the message: as Buffers, their `slice()` would alias instead of copy (also in our own
 * `config.slice()`), which the frame model's Uint8Array contract does not expect.
 */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

function isHevcIrap(nalu: Uint8Array): boolean {
  const type = h265NalType(nalu);
  return type >= H265NalType.IrapFirst && type <= H265NalType.IrapLast;
}
