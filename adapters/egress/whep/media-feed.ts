import type { Broadcast } from '../../../src/relay/index.ts';
import { RelayTrackReader } from '../../../src/relay/track-reader.ts';
import type { TrackInfo } from '../../../src/media/frame.ts';
import { CATALOG_TRACK, parseCatalog, TRACK_PRIORITY } from '../../../src/media/hang/catalog.ts';
import { decodeLegacyFrame } from '../../../src/media/hang/container.ts';
import { isH264Keyframe, parseAvcC } from '../../../src/media/h264.ts';
import { packetizeNalus, splitAvcc } from './h264-packetizer.ts';
import type { SendTrack } from './whep-peer.ts';

/**
 * Feeds one WHEP viewer from a relay broadcast: follows the hang catalog, picks its H.264 and
 * Opus tracks and sends their frames as RTP without re-encoding. The relay subscription starts
 * at the latest group, so a viewer starts at the latest keyframe; the subscription's queue is
 * bounded per viewer (older groups are dropped), and a viewer still inside a group once a newer
 * group exists skips the rest of it and resumes at the next keyframe. Nothing here waits on the
 * network: a slow viewer loses frames, never delays the others.
 */

export interface FeedStats {
  videoFrames: number;
  audioFrames: number;
  /** Video frames skipped to catch up with a newer keyframe. */
  skippedFrames: number;
}

export interface FeedTracks {
  video: SendTrack | undefined;
  audio: SendTrack | undefined;
}

/** A track the player can play as is: H.264 in AVCC, Opus. AAC needs transcoding (not yet). */
function pickTracks(catalog: ReadonlyMap<string, TrackInfo>): { video: string | undefined; audio: string | undefined } {
  let video: string | undefined;
  let audio: string | undefined;
  for (const [name, info] of catalog) {
    if (info.kind === 'video' && video === undefined && info.codec.startsWith('avc1.')) video = name;
    if (info.kind === 'audio' && audio === undefined && info.codec === 'opus') audio = name;
  }
  return { video, audio };
}

const RESUBSCRIBE_MS = 200;

export class MediaFeed {
  readonly stats: FeedStats = { videoFrames: 0, audioFrames: 0, skippedFrames: 0 };
  #catalog = new Map<string, TrackInfo>();
  readonly #readers = new Set<RelayTrackReader>();
  readonly #running = new Map<'video' | 'audio', string>();
  #closed = false;

  constructor(
    private readonly broadcast: Broadcast,
    private readonly tracks: FeedTracks,
    private readonly onProblem: (error: unknown) => void,
    /** The broadcast ended (the catalog track with it). */
    private readonly onEnded: () => void = () => {},
  ) {}

  start(): void {
    void this.#followCatalog()
      .catch(this.onProblem)
      .finally(() => {
        if (!this.#closed) this.onEnded();
      });
  }

  close(): void {
    this.#closed = true;
    for (const reader of this.#readers) reader.close();
    this.#readers.clear();
  }

  async #followCatalog(): Promise<void> {
    await this.#eachFrame(CATALOG_TRACK, TRACK_PRIORITY.catalog, (frame) => {
      try {
        this.#catalog = parseCatalog(frame.bytes);
      } catch (error) {
        this.onProblem(error);
        return;
      }
      const picked = pickTracks(this.#catalog);
      if (picked.video && this.tracks.video && this.#running.get('video') !== picked.video) this.#startVideo(picked.video, this.tracks.video);
      if (picked.audio && this.tracks.audio && this.#running.get('audio') !== picked.audio) this.#startAudio(picked.audio, this.tracks.audio);
    });
  }

  #startVideo(name: string, out: SendTrack): void {
    this.#running.set('video', name);
    let waitingForKeyframe = true;
    const run = this.#eachFrame(name, TRACK_PRIORITY.video, (frame, reader) => {
      const info = this.#catalog.get(name);
      const { timestamp, payload } = decodeLegacyFrame(frame.bytes);
      const behind = frame.index > 0 && (reader.latestSequence ?? -1) > frame.groupSequence;
      if (behind && !waitingForKeyframe) waitingForKeyframe = true;
      if (waitingForKeyframe) {
        if (frame.index !== 0 && !isH264Keyframe(payload)) {
          this.stats.skippedFrames++;
          return;
        }
        waitingForKeyframe = false;
      }
      const nalus = splitAvcc(payload);
      // RFC 6184 §8.4: parameter sets out of band in the catalog go in-band before each keyframe.
      if ((frame.index === 0 || isH264Keyframe(payload)) && info?.description) {
        const config = parseAvcC(info.description);
        nalus.unshift(...config.sps, ...config.pps);
      }
      const rtpTime = Math.round((timestamp * 90) / 1000);
      for (const packet of packetizeNalus(nalus)) out.send(packet.payload, rtpTime, packet.marker);
      this.stats.videoFrames++;
    });
    void run.catch(this.onProblem).finally(() => {
      if (this.#running.get('video') === name) this.#running.delete('video');
    });
  }

  #startAudio(name: string, out: SendTrack): void {
    this.#running.set('audio', name);
    const run = this.#eachFrame(name, TRACK_PRIORITY.audio, (frame) => {
      const { timestamp, payload } = decodeLegacyFrame(frame.bytes);
      out.send(payload, Math.round((timestamp * 48) / 1000), false);
      this.stats.audioFrames++;
    });
    void run.catch(this.onProblem).finally(() => {
      if (this.#running.get('audio') === name) this.#running.delete('audio');
    });
  }

  /** Every frame of a track while the broadcast lives, subscribing again if the track restarts. */
  async #eachFrame(
    track: string,
    priority: number,
    handle: (frame: { groupSequence: number; index: number; bytes: Uint8Array }, reader: { latestSequence: number | undefined }) => void,
  ): Promise<void> {
    while (!this.#closed && !this.broadcast.ended) {
      const subscription = this.broadcast.subscribe(track, priority, this);
      if (subscription) {
        const reader = new RelayTrackReader(subscription);
        this.#readers.add(reader);
        const position = { get latestSequence() { return subscription.track.latestSequence; } };
        try {
          for (let frame = await reader.next(); frame; frame = await reader.next()) {
            if (this.#closed) return;
            try {
              handle(frame, position);
            } catch (error) {
              this.onProblem(error);
            }
          }
        } finally {
          reader.close();
          this.#readers.delete(reader);
        }
        // A track that ended while still in the catalog (a publisher's reconfiguration) comes back.
        if (track !== CATALOG_TRACK && !this.#catalog.has(track)) return;
      }
      if (this.#closed || this.broadcast.ended) return;
      await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_MS));
    }
  }
}
