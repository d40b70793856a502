import type { RecordingIndex } from './recording-files.ts';

/** The index file's JSON (the same data the directory listing gives). */
export function indexJson(index: RecordingIndex): string {
  const tracks = Object.fromEntries(
    [...index.tracks].map(([label, track]) => [label, { inits: Object.fromEntries(track.inits), segments: track.segments }]),
  );
  return JSON.stringify({ id: index.id, broadcast: index.broadcast, startedAt: index.startedAt, endedAt: index.endedAt ?? null, bytes: index.bytes, tracks }, null, 1);
}
