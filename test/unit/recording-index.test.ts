import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeDurable } from '../../adapters/egress/hls/record/durable-file.ts';
import { durationSeconds, parseSegmentName, rebuildIndex, recordingFiles, recordingId } from '../../adapters/egress/hls/record/recording-files.ts';
import { renderRecordingMediaPlaylist } from '../../adapters/egress/hls/record/vod-playlist.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function recordingDir(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'moq-rec-unit-'));
  dirs.push(root);
  const dir = path.join(root, recordingId('live/x', new Date('2026-12-08T01:00:00.000Z')));
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'recording.json'), JSON.stringify({ broadcast: 'live/x', startedAt: '2026-12-08T01:00:00.000Z' }));
  writeFileSync(path.join(dir, recordingFiles.initMeta('v', 1)), JSON.stringify({ kind: 'video', codecs: 'avc1.64001e', width: 320, height: 240 }));
  writeFileSync(path.join(dir, recordingFiles.init('v', 1)), Buffer.alloc(600));
  return dir;
}

const segment = (seq: number, extra: Partial<{ initVersion: number; discontinuity: boolean }> = {}) =>
  recordingFiles.segment({ track: 'v', seq, initVersion: extra.initVersion ?? 1, startUs: 10_000_000 + seq * 1_000_000, durationUs: 1_000_000, discontinuity: extra.discontinuity ?? false });

describe('recording index rebuilt from the directory', () => {
  it('lists the complete segments in order, ignores and removes a torn temp file', async () => {
    const dir = recordingDir();
    for (const seq of [2, 0, 1]) writeFileSync(path.join(dir, segment(seq)), Buffer.alloc(1000 + seq));
    // A kill -9 in the middle of a write: half a segment under its temporary name.
    const torn = `${segment(3)}.4242.tmp`;
    writeFileSync(path.join(dir, torn), Buffer.alloc(17));
    writeFileSync(path.join(dir, 'notes.txt'), 'not media');
    const index = (await rebuildIndex(dir))!;
    expect(index.broadcast).toBe('live/x');
    expect(index.tracks.get('v')!.segments.map((s) => s.seq)).toEqual([0, 1, 2]);
    expect(index.tracks.get('v')!.segments.map((s) => s.bytes)).toEqual([1000, 1001, 1002]);
    expect(index.bytes).toBe(3003);
    expect(durationSeconds(index)).toBe(3);
    expect(index.tracks.has('a')).toBe(false);
    expect(readdirSync(dir)).not.toContain(torn);
    // No end mark (it was interrupted): it ended when its last segment was written.
    expect(Date.parse(index.endedAt!)).toBeGreaterThan(Date.parse(index.startedAt));
  });

  it('leaves out segments whose init segment or description is missing', async () => {
    const dir = recordingDir();
    writeFileSync(path.join(dir, segment(0)), Buffer.alloc(10));
    writeFileSync(path.join(dir, segment(1, { initVersion: 2, discontinuity: true })), Buffer.alloc(10));
    // The description of version 2 was written, its init segment was not (the crash came between).
    writeFileSync(path.join(dir, recordingFiles.initMeta('v', 2)), JSON.stringify({ kind: 'video', codecs: 'avc1.64001f' }));
    const index = (await rebuildIndex(dir))!;
    expect(index.tracks.get('v')!.segments.map((s) => s.seq)).toEqual([0]);
  });

  it('is not a recording without its meta file', async () => {
    const dir = recordingDir();
    rmSync(path.join(dir, 'recording.json'));
    expect(await rebuildIndex(dir)).toBeUndefined();
    writeFileSync(path.join(dir, 'recording.json'), '{"broadcast":');
    expect(await rebuildIndex(dir)).toBeUndefined();
  });

  it('takes the end time from the end mark when there is one', async () => {
    const dir = recordingDir();
    writeFileSync(path.join(dir, segment(0)), Buffer.alloc(10));
    writeFileSync(path.join(dir, 'ended.json'), JSON.stringify({ endedAt: '2026-12-08T01:00:05.000Z' }));
    expect((await rebuildIndex(dir))!.endedAt).toBe('2026-12-08T01:00:05.000Z');
  });
});

describe('segment names', () => {
  it('round-trip every field, and refuse other names', () => {
    const fields = { track: 'a' as const, seq: 12, initVersion: 3, startUs: -5, durationUs: 2_002_000, discontinuity: true };
    const name = recordingFiles.segment(fields);
    expect(parseSegmentName(name)).toEqual({ ...fields, file: name });
    for (const bad of ['v-1-i1-s0-d1.m4s.tmp', 'x-00000001-i1-s0-d1.m4s', 'v-00000001-i1-s0.m4s', '../v-1-i1-s0-d1.m4s']) expect(parseSegmentName(bad)).toBeUndefined();
  });
});

describe('writeDurable', () => {
  it('leaves the complete file and no temporary one', async () => {
    const dir = recordingDir();
    const file = path.join(dir, 'x.bin');
    await writeDurable(file, [Buffer.from('ab'), Buffer.from('cd')]);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('VOD media playlist', () => {
  it('is VOD with ENDLIST once ended, EVENT before; maps init versions and marks gaps as discontinuities', async () => {
    const dir = recordingDir();
    for (const seq of [0, 1, 3]) writeFileSync(path.join(dir, segment(seq)), Buffer.alloc(10));
    const track = (await rebuildIndex(dir))!.tracks.get('v')!;
    const ended = renderRecordingMediaPlaylist(track, true);
    expect(ended).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(ended.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(ended.match(/#EXT-X-MAP:URI="v-init1.mp4"/g)).toHaveLength(1);
    expect(ended.match(/#EXT-X-DISCONTINUITY/g)).toHaveLength(1);
    expect(ended.split('\n').filter((l) => l.endsWith('.m4s'))).toEqual(track.segments.map((s) => s.file));
    const live = renderRecordingMediaPlaylist(track, false);
    expect(live).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(live).not.toContain('#EXT-X-ENDLIST');
  });
});
