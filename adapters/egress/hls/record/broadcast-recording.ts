import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Broadcast } from '../../../../src/relay/index.ts';
import { HlsBroadcastSession } from '../broadcast-session.ts';
import type { PackagingOptions } from '../rendition-packager.ts';
import { syncDirectory, writeDurable } from './durable-file.ts';
import { ENDED_FILE, INDEX_FILE, META_FILE, recordingId, type RecordingIndex, type RecordingTrack, type TrackLabel } from './recording-files.ts';
import { TrackRecorder } from './track-recorder.ts';
import { indexJson } from './index-json.ts';

/** One GOP per segment (no merging of short GOPs); parts only matter to LL-HLS and are concatenated. */
const RECORD_PACKAGING: PackagingOptions & { idleTimeoutMs: number } = {
  partTargetMs: 1000,
  minSegmentMs: 0,
  firstSegmentMaxMs: 10_000,
  segmentWindow: 16,
  maxBytes: 64 * 1024 * 1024,
  idleTimeoutMs: Number.MAX_SAFE_INTEGER,
};

/** How long a recording waits for the broadcast's first catalog. */
const CATALOG_TIMEOUT_MS = 15_000;
/** How often the catalog is looked at for tracks to record. */
const ATTACH_INTERVAL_MS = 250;

/**
 * Records one broadcast while it lives in the relay: its own HLS packaging session (default
 * video leading, first audio following its cuts), each complete segment written durably. The
 * same Broadcast object outlives an encoder reconnect within the grace window
 * (src/media/publishers.ts), and so does the recording; it ends with the broadcast.
 */
export class BroadcastRecording {
  readonly id: string;
  readonly dir: string;
  readonly startedAt = new Date();
  endedAt: Date | undefined;
  readonly #session: HlsBroadcastSession;
  readonly #tracks = new Map<TrackLabel, TrackRecorder>();
  readonly done: Promise<void>;
  #indexWrite: Promise<void> = Promise.resolve();
  readonly #skipped = new Set<string>();

  constructor(
    readonly broadcast: Broadcast,
    root: string,
    private readonly logger: Logger,
  ) {
    this.id = recordingId(broadcast.path, this.startedAt);
    this.dir = path.join(root, this.id);
    this.#session = new HlsBroadcastSession(broadcast, RECORD_PACKAGING, logger);
    this.done = this.#run().catch((error: unknown) => this.logger.error({ err: error, broadcast: broadcast.path, dir: this.dir }, 'recording failed'));
  }

  /** Stop reading the relay (shutdown): what is complete is on disk, the recording ends. */
  stop(): void {
    this.#session.close();
  }

  index(): RecordingIndex {
    const tracks = new Map<TrackLabel, RecordingTrack>();
    let bytes = 0;
    for (const [label, recorder] of this.#tracks) {
      if (recorder.segments.length === 0) continue;
      tracks.set(label, { inits: recorder.inits, segments: recorder.segments });
      for (const s of recorder.segments) bytes += s.bytes;
    }
    return { id: this.id, broadcast: this.broadcast.path, startedAt: this.startedAt.toISOString(), endedAt: this.endedAt?.toISOString(), tracks, bytes };
  }

  async #run(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await syncDirectory(path.dirname(this.dir));
    await writeDurable(path.join(this.dir, META_FILE), Buffer.from(JSON.stringify({ broadcast: this.broadcast.path, startedAt: this.startedAt.toISOString() })));
    this.logger.info({ broadcast: this.broadcast.path, dir: this.dir }, 'recording started');
    this.#session.start();
    const catalog = await this.#session.catalog(CATALOG_TIMEOUT_MS);
    if (!catalog) this.logger.warn({ broadcast: this.broadcast.path }, 'recording: no catalog, nothing recorded');
    // RTMP's catalog gains its audio track a moment after the video: keep attaching what appears.
    const ended = this.broadcast.closed();
    while (catalog && !this.#session.closed && !this.broadcast.ended) {
      this.#attach();
      await Promise.race([sleep(ATTACH_INTERVAL_MS), ended]);
    }
    await Promise.all([...this.#tracks.values()].map((t) => t.done));
    this.#session.close();
    this.endedAt = new Date();
    await writeDurable(path.join(this.dir, ENDED_FILE), Buffer.from(JSON.stringify({ endedAt: this.endedAt.toISOString() })));
    await this.#writeIndex();
    const index = this.index();
    this.logger.info({ broadcast: this.broadcast.path, dir: this.dir, bytes: index.bytes }, 'recording ended');
  }

  /** Record the default video and the first audio once the session packages them. */
  #attach(): void {
    this.#session.prewarm();
    const catalog = this.#session.catalogNow;
    for (const [track, info] of catalog ?? []) {
      const label: TrackLabel = info.kind === 'video' ? 'v' : 'a';
      if (this.#tracks.has(label)) continue;
      const packager = this.#session.running(track);
      if (packager) this.#tracks.set(label, new TrackRecorder(label, packager, this.dir, this.logger, () => this.#writeIndex()));
      else if (!this.#skipped.has(track)) {
        this.#skipped.add(track);
        this.logger.info({ broadcast: this.broadcast.path, track, codec: info.codec }, 'recording: track not recorded');
      }
    }
  }

  /** index.json: a convenience copy of what the names on disk say (rebuilt from them on start). */
  #writeIndex(): Promise<void> {
    this.#indexWrite = this.#indexWrite.then(() => writeDurable(path.join(this.dir, INDEX_FILE), Buffer.from(indexJson(this.index()))));
    return this.#indexWrite;
  }
}
