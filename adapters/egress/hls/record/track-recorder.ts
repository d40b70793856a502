import path from 'node:path';
import type { Logger } from 'pino';
import type { RenditionPackager } from '../rendition-packager.ts';
import type { SegmentEntry } from '../playlist-window.ts';
import { writeDurable } from './durable-file.ts';
import { recordingFiles, type InitMeta, type SegmentFile, type TrackLabel } from './recording-files.ts';

/**
 * Writes one HLS rendition's complete segments to a recording directory as they complete:
 * the init segment of each version first (with its description beside it), then each media
 * segment (its parts concatenated: moof+mdat pairs, one CMAF fragment sequence). Segments are
 * taken from the packager's window the moment they complete, so the window's eviction never
 * races the disk.
 */
export class TrackRecorder {
  readonly segments: SegmentFile[] = [];
  readonly inits = new Map<number, InitMeta>();
  #lastMsn = -1;
  readonly done: Promise<void>;

  constructor(
    readonly label: TrackLabel,
    private readonly packager: RenditionPackager,
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly onSegment: () => Promise<void>,
  ) {
    this.done = this.#run();
  }

  async #run(): Promise<void> {
    const window = this.packager.window;
    for (;;) {
      const changed = window.changed();
      const ready = window.segments.filter((s) => s.complete && s.msn > this.#lastMsn);
      for (const segment of ready) {
        const init = window.init(segment.initVersion);
        if (!init) continue;
        if (this.#lastMsn >= 0 && segment.msn > this.#lastMsn + 1) {
          // Retired from the window before the disk took it (a disk slower than the stream).
          this.logger.warn({ dir: this.dir, track: this.label, from: this.#lastMsn + 1, to: segment.msn - 1 }, 'recording: segments lost');
        }
        this.#lastMsn = segment.msn;
        // Copied now: the window may retire it while the disk works.
        await this.#write(segment, init);
      }
      if (window.ended && window.segments.every((s) => !s.complete || s.msn <= this.#lastMsn)) return;
      await changed;
    }
  }

  async #write(segment: SegmentEntry, init: Uint8Array): Promise<void> {
    const parts = segment.parts.map((p) => p.bytes);
    try {
      if (!this.inits.has(segment.initVersion)) {
        const meta = this.#describe();
        // The description first: an init segment on disk is listed only with it.
        await writeDurable(path.join(this.dir, recordingFiles.initMeta(this.label, segment.initVersion)), Buffer.from(JSON.stringify(meta)));
        await writeDurable(path.join(this.dir, recordingFiles.init(this.label, segment.initVersion)), init);
        this.inits.set(segment.initVersion, meta);
      }
      const entry = {
        track: this.label,
        seq: segment.msn,
        initVersion: segment.initVersion,
        startUs: Math.round(segment.startUs),
        durationUs: Math.round(segment.duration * 1e6),
        discontinuity: segment.discontinuity,
      };
      const file = recordingFiles.segment(entry);
      await writeDurable(path.join(this.dir, file), parts);
      this.segments.push({ ...entry, file, bytes: parts.reduce((n, p) => n + p.byteLength, 0) });
      await this.onSegment();
    } catch (error) {
      this.logger.error({ err: error, dir: this.dir, track: this.label, msn: segment.msn }, 'recording: segment not written');
    }
  }

  #describe(): InitMeta {
    const info = this.packager.info;
    const codecs = this.packager.codecs ?? info.codec;
    if (info.kind === 'video') {
      const inBand = this.packager.inBandConfig;
      return { kind: 'video', codecs, width: inBand?.width ?? info.codedWidth, height: inBand?.height ?? info.codedHeight };
    }
    return { kind: 'audio', codecs, channels: info.numberOfChannels || 2 };
  }
}
