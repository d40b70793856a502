import { mkdir, readdir } from 'node:fs/promises';
import { createReadStream, existsSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { hasPrefix, normalizePath, type Origin } from '../../../../src/relay/index.ts';
import { sendError, sendPlaylist, sendPreflight } from '../http-replies.ts';
import { writeDurable } from './durable-file.ts';
import { BroadcastRecording } from './broadcast-recording.ts';
import { ENDED_FILE, INDEX_FILE, durationSeconds, isRecordingId, rebuildIndex, type RecordingIndex, type TrackLabel } from './recording-files.ts';
import { indexJson } from './index-json.ts';
import type { ApiRecording } from '../../../../src/http/api-types.ts';
import { renderRecordingMediaPlaylist, renderRecordingMultivariant } from './vod-playlist.ts';

export interface RecorderOptions {
  origin: Origin;
  logger: Logger;
  /** Broadcast path prefixes to record; `all` (or an empty prefix) records every broadcast. */
  prefixes: readonly string[];
  dir: string;
  /** May this `?jwt=` token watch `broadcast`? (the `get` scope, as for live HLS) */
  authorize?: (broadcast: string, token: string | undefined) => boolean | Promise<boolean>;
  /** Where the playlists are served (`/recordings/`), for the URLs the listing gives. */
  urlBase?: string;
}

/**
 * Records the broadcasts under `prefixes` to `dir` (one directory per recording) and serves
 * them as VOD HLS under `/recordings/<id>/`. On start the index of every recording already on
 * disk is rebuilt from its files (a crash loses at most the segments in progress).
 */
export class Recorder {
  readonly #finished = new Map<string, RecordingIndex>();
  readonly #live = new Map<string, BroadcastRecording>();
  readonly #byBroadcast = new Map<string, BroadcastRecording>();
  readonly #logger: Logger;
  readonly #prefixes: string[];
  #watcher: ReturnType<Origin['watch']> | undefined;
  #closed = false;

  constructor(private readonly options: RecorderOptions) {
    this.#logger = options.logger;
    this.#prefixes = options.prefixes.map((p) => (p === 'all' ? '' : p.replace(/^\/+|\/+$/g, '')));
  }

  get enabled(): boolean {
    return this.#prefixes.length > 0;
  }

  async start(): Promise<void> {
    // Not recording: recordings already there are still listed and served, no directory is made.
    if (!this.enabled && !existsSync(this.options.dir)) return;
    await mkdir(this.options.dir, { recursive: true });
    await this.#rebuild();
    if (!this.enabled) return;
    this.#watcher = this.options.origin.watch('');
    void this.#follow(this.#watcher);
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    for (const recording of this.#live.values()) recording.stop();
  }

  /** Waits for the live recordings to write what they hold (after close). */
  async drained(): Promise<void> {
    await Promise.all([...this.#live.values()].map((r) => r.done));
  }

  list(): ApiRecording[] {
    const all = [...this.#finished.values(), ...[...this.#live.values()].map((r) => r.index())];
    const base = this.options.urlBase ?? '/recordings/';
    return all
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id))
      .map((index) => ({
        id: index.id,
        broadcast: index.broadcast,
        startedAt: index.startedAt,
        endedAt: index.endedAt ?? null,
        durationS: durationSeconds(index),
        bytes: index.bytes,
        playlist: `${base}${index.id}/index.m3u8`,
        mp4: null,
      }));
  }

  /** `subpath`: after `/recordings/`. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, subpath: string): void {
    if (req.method === 'OPTIONS') return sendPreflight(res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'GET only');
    const parts = subpath.split('?')[0]!.split('/').filter(Boolean);
    const id = parts[0];
    const index = id && isRecordingId(id) ? this.#index(id) : undefined;
    if (!index) return sendError(res, 404, 'no such recording');
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('jwt') ?? undefined;
    const authorized = this.options.authorize ? Promise.resolve(this.options.authorize(index.broadcast, token)) : Promise.resolve(true);
    authorized
      .then((ok) => {
        if (!ok) return sendError(res, token ? 403 : 401, token ? 'not allowed to watch this broadcast' : 'a ?jwt= token is required');
        this.#serve(req, res, index, parts.slice(1));
      })
      .catch((error: unknown) => {
        this.#logger.warn({ err: error }, 'recording request failed');
        sendError(res, 500, 'internal error');
      });
  }

  #serve(req: http.IncomingMessage, res: http.ServerResponse, index: RecordingIndex, rest: string[]): void {
    if (rest.length === 1 && rest[0] === 'index.m3u8') {
      const text = renderRecordingMultivariant(index);
      return text ? sendPlaylist(req, res, text) : sendError(res, 404, 'nothing recorded yet');
    }
    const label = rest[0] as TrackLabel;
    const track = rest.length === 2 ? index.tracks.get(label) : undefined;
    if (!track) return sendError(res, 404, 'no such file');
    const file = rest[1]!;
    if (file === 'media.m3u8') return sendPlaylist(req, res, renderRecordingMediaPlaylist(track, index.endedAt !== undefined));
    const init = /^([va])-init(\d{1,9})\.mp4$/.exec(file);
    const known = (init && init[1] === label && track.inits.has(Number(init[2]))) || track.segments.some((s) => s.file === file);
    if (!known) return sendError(res, 404, 'no such file');
    const kind = track.inits.get(track.segments[0]!.initVersion)?.kind ?? 'video';
    const stream = createReadStream(path.join(this.options.dir, index.id, file));
    stream.once('open', () => {
      res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': `${kind}/mp4`, 'cache-control': 'public, max-age=3600, immutable' });
      if (req.method === 'HEAD') {
        stream.destroy();
        res.end();
      } else {
        stream.pipe(res);
      }
    });
    stream.once('error', () => sendError(res, 404, 'no such file'));
  }

  #index(id: string): RecordingIndex | undefined {
    return this.#live.get(id)?.index() ?? this.#finished.get(id);
  }

  async #rebuild(): Promise<void> {
    const entries = await readdir(this.options.dir, { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isDirectory() || !isRecordingId(entry.name)) continue;
      const dir = path.join(this.options.dir, entry.name);
      const index = await rebuildIndex(dir);
      if (!index) continue;
      // Not being written any more (this process just started): it has ended.
      const interrupted = index.endedAt === undefined || !(await hasFile(dir, ENDED_FILE));
      index.endedAt ??= index.startedAt;
      if (interrupted) await writeDurable(path.join(dir, ENDED_FILE), Buffer.from(JSON.stringify({ endedAt: index.endedAt, interrupted: true })));
      await writeDurable(path.join(dir, INDEX_FILE), Buffer.from(indexJson(index)));
      this.#finished.set(index.id, index);
    }
    if (this.#finished.size > 0) this.#logger.info({ dir: this.options.dir, recordings: this.#finished.size }, 'recordings index rebuilt from disk');
  }

  async #follow(watcher: ReturnType<Origin['watch']>): Promise<void> {
    for (;;) {
      const announcement = await watcher.next();
      if (!announcement) return;
      if (!announcement.active || this.#closed) continue;
      if (!this.#prefixes.some((prefix) => hasPrefix(announcement.path, prefix))) continue;
      const broadcast = this.options.origin.list(announcement.path).find((b) => normalizePath(b.path) === announcement.path);
      // Local broadcasts only: one copy of a clustered broadcast is recorded, where it is published.
      if (!broadcast || broadcast.ended || this.#byBroadcast.get(announcement.path)?.broadcast === broadcast) continue;
      this.#record(broadcast);
    }
  }

  #record(broadcast: NonNullable<ReturnType<Origin['get']>>): void {
    const recording = new BroadcastRecording(broadcast, this.options.dir, this.#logger);
    this.#live.set(recording.id, recording);
    this.#byBroadcast.set(broadcast.path, recording);
    void recording.done.then(() => {
      this.#live.delete(recording.id);
      if (this.#byBroadcast.get(broadcast.path) === recording) this.#byBroadcast.delete(broadcast.path);
      this.#finished.set(recording.id, recording.index());
    });
  }
}

async function hasFile(dir: string, name: string): Promise<boolean> {
  return (await readdir(dir)).includes(name);
}
