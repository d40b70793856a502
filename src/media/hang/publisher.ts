import { Broadcast, type Group, type Origin, RelayError, RelayErrorCode, type Track, type TrackOptions } from '../../relay/index.ts';
import type { MediaFrame, TrackInfo } from '../frame.ts';
import { CATALOG_TRACK, encodeCatalog, TRACK_PRIORITY } from './catalog.ts';
import { encodeLegacyFrame } from './container.ts';

/**
 * Audio has no keyframes to cut at, so audio groups are cut by time. Half a second keeps a late
 * joiner's first audio close to live and bounds what a dropped group costs a slow viewer.
 */
const AUDIO_GROUP_DURATION_US = 500_000;

interface MediaTrackState {
  info: TrackInfo;
  track: Track;
  group: Group | undefined;
  groupStart: number;
  /** A new description was set: the next frame must open a new group (at a keyframe for video). */
  restart: boolean;
  /**
   * A changed description not yet in the catalog: it is published with the group it starts, so
   * the catalog always describes the newest group (where a joining viewer starts).
   */
  pendingInfo: TrackInfo | undefined;
  lastTimestamp: number;
  frames: number;
  bytes: number;
}

export interface HangBroadcastStats {
  tracks: { name: string; codec: string; kind: string; frames: number; bytes: number }[];
  framesIn: number;
  bytesIn: number;
  droppedFrames: number;
}

/**
 * Writes the frame model into one relay broadcast in the hang format: `catalog.json` plus one
 * legacy-container track per media track, a video group per GOP.
 *
 * Timestamps: MediaFrame carries DTS + composition offset; the legacy container carries the
 * presentation time (what WebCodecs wants), in decode order.
 */
export class HangBroadcastWriter {
  readonly broadcast: Broadcast;
  readonly #catalogTrack: Track;
  readonly #tracks = new Map<string, MediaTrackState>();
  #droppedFrames = 0;
  /** Added to incoming timestamps, so a reconnecting encoder continues the same timeline. */
  #timelineOffset = 0;
  #rebaseOnNextFrame = false;
  /** Asked when a new subscriber joins a video track (the publisher may send a keyframe). */
  onKeyframeWanted: (() => void) | undefined;

  constructor(origin: Origin, path: string, info: Record<string, string> = {}, trackDefaults: TrackOptions = {}) {
    this.broadcast = new Broadcast(path, { info, trackDefaults });
    this.#catalogTrack = this.broadcast.createTrack(CATALOG_TRACK, { priority: TRACK_PRIORITY.catalog });
    origin.publish(this.broadcast);
  }

  get path(): string {
    return this.broadcast.path;
  }

  trackInfos(): Map<string, TrackInfo> {
    return new Map([...this.#tracks].map(([name, state]) => [name, state.info]));
  }

  /**
   * Declare a track, or change its description. A change takes effect with the next group
   * (video: the next keyframe), and the catalog announcing it is written in the same turn, just
   * before that group opens. So at every point a viewer can join, the newest catalog describes
   * the newest group: a viewer that subscribes after reading a new catalog starts at a group
   * of that description, never at the last group of the old one.
   */
  setTrack(name: string, info: TrackInfo): void {
    const state = this.#tracks.get(name);
    if (state) {
      if (sameInfo(state.info, info)) {
        state.pendingInfo = undefined; // changed back before it took effect
        return;
      }
      if (state.pendingInfo && sameInfo(state.pendingInfo, info)) return;
      state.pendingInfo = info;
      state.restart = true;
      return;
    }
    const track = this.broadcast.createTrack(name, {
      priority: info.kind === 'video' ? TRACK_PRIORITY.video : TRACK_PRIORITY.audio,
    });
    if (info.kind === 'video') track.onSubscribe = () => this.onKeyframeWanted?.();
    this.#tracks.set(name, { info, track, group: undefined, groupStart: 0, restart: true, pendingInfo: undefined, lastTimestamp: -1, frames: 0, bytes: 0 });
    this.#publishCatalog();
  }

  removeTrack(name: string): void {
    const state = this.#tracks.get(name);
    if (!state) return;
    state.group?.close();
    this.#tracks.delete(name);
    this.broadcast.removeTrack(name);
    this.#publishCatalog();
  }

  writeFrame(name: string, frame: MediaFrame): void {
    const state = this.#tracks.get(name);
    if (!state) throw new Error(`frame for undeclared track ${name}`);
    if (this.#rebaseOnNextFrame) this.#rebase(frame.timestamp);
    const dts = Math.max(frame.timestamp + this.#timelineOffset, state.lastTimestamp);
    const pts = Math.max(0, dts + frame.compositionOffset);

    if (this.#needsNewGroup(state, frame, dts)) {
      if (state.info.kind === 'video' && !frame.keyframe) {
        // A video group must start with a keyframe (hang §Container): wait for one.
        this.#droppedFrames++;
        return;
      }
      state.group?.close();
      if (state.pendingInfo) {
        state.info = state.pendingInfo;
        state.pendingInfo = undefined;
        this.#publishCatalog();
      }
      state.group = state.track.appendGroup();
      state.groupStart = dts;
      state.restart = false;
    }

    const payload = encodeLegacyFrame(pts, frame.payload);
    try {
      state.group!.writeFrame(payload);
    } catch (error) {
      // The group outgrew the relay's bound (no keyframe for too long): drop until the next one.
      if (!(error instanceof RelayError)) throw error;
      state.group = undefined;
      this.#droppedFrames++;
      return;
    }
    state.lastTimestamp = dts;
    state.frames++;
    state.bytes += frame.payload.byteLength;
  }

  #needsNewGroup(state: MediaTrackState, frame: MediaFrame, dts: number): boolean {
    if (!state.group || state.group.done || state.restart) return true;
    if (state.info.kind === 'video') return frame.keyframe;
    return dts - state.groupStart >= AUDIO_GROUP_DURATION_US;
  }

  /**
   * The publisher went away but may come back (encoder reconnect): close open groups so
   * viewers are not left waiting mid-GOP; the next publisher's first frame re-bases its clock
   * onto ours and every track restarts at a keyframe.
   */
  suspend(): void {
    for (const state of this.#tracks.values()) {
      state.group?.close();
      state.group = undefined;
      state.restart = true;
    }
    this.#rebaseOnNextFrame = true;
  }

  #rebase(firstTimestamp: number): void {
    this.#rebaseOnNextFrame = false;
    let last = -1;
    for (const state of this.#tracks.values()) last = Math.max(last, state.lastTimestamp);
    if (last < 0) return;
    // Continue one millisecond after the last frame we wrote, whatever the new encoder's clock.
    this.#timelineOffset = last + 1000 - firstTimestamp;
  }

  #publishCatalog(): void {
    const group = this.#catalogTrack.appendGroup();
    group.writeFrame(encodeCatalog(this.trackInfos()));
    group.close();
    // Only the newest catalog matters; the previous group is complete.
  }

  stats(): HangBroadcastStats {
    const tracks = [...this.#tracks].map(([name, s]) => ({ name, codec: s.info.codec, kind: s.info.kind, frames: s.frames, bytes: s.bytes }));
    return {
      tracks,
      framesIn: tracks.reduce((n, t) => n + t.frames, 0),
      bytesIn: tracks.reduce((n, t) => n + t.bytes, 0),
      droppedFrames: this.#droppedFrames,
    };
  }

  close(reason?: string): void {
    for (const state of this.#tracks.values()) state.group?.close();
    if (reason) this.broadcast.abort(new RelayError(reason, RelayErrorCode.publisherGone));
    else this.broadcast.close();
  }
}

function sameInfo(a: TrackInfo, b: TrackInfo): boolean {
  const { description: da, ...ra } = a;
  const { description: db, ...rb } = b;
  return JSON.stringify(ra) === JSON.stringify(rb) && bytesEqual(da, db);
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return a === b;
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
