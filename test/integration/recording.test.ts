/**
 * `--record`: the real gateway process, ffmpeg publishing over RTMP, ffprobe reading the
 * recording's VOD HLS. A kill -9 while recording, then a restart on the same directory.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pushTestPattern, startGateway, type GatewayProcess, type TestPatternHandle } from '../helpers/gateway-process.ts';
import { until } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import type { ApiRecording } from '../../src/http/api-types.ts';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
/** ffmpeg's test pattern: 30 fps, one keyframe a second (the GOP the tolerances are in). */
const GOP_S = 1;

interface Probe {
  code: number | null;
  stderr: string;
  streams: { codec_name: string }[];
  duration: number;
}

function ffprobe(url: string): Promise<Probe> {
  const args = ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', url];
  return new Promise((resolve) => {
    execFile('ffprobe', args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const parsed = (stdout ? JSON.parse(stdout) : {}) as { streams?: { codec_name: string }[]; format?: { duration?: string } };
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr, streams: parsed.streams ?? [], duration: Number(parsed.format?.duration ?? NaN) });
    });
  });
}

describe.runIf(haveTools('ffmpeg', 'ffprobe'))('recording (--record)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moq-rec-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const gateway = async (dir: string, more: string[] = []) => {
    const gw = await startGateway({ args: ['--record', 'all', '--record-dir', dir, '--reconnect-grace', '5000', ...more] });
    cleanup.push(() => gw.stop());
    return gw;
  };
  const push = (gw: GatewayProcess, name: string, seconds?: number): TestPatternHandle => {
    const ffmpeg = pushTestPattern({ rtmpUrl: gw.rtmpUrl(name), gop: 30, ...(seconds !== undefined ? { seconds } : {}) });
    cleanup.push(() => ffmpeg.stop());
    return ffmpeg;
  };
  const recordings = async (gw: GatewayProcess, token?: string): Promise<ApiRecording[]> => {
    const res = await fetch(`${gw.url}/api/recordings`, { signal: AbortSignal.timeout(5000), ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { recordings: ApiRecording[] }).recordings;
  };
  const mediaPlaylist = async (gw: GatewayProcess, recording: ApiRecording, track: 'v' | 'a') =>
    (await fetch(`${gw.url}${recording.playlist.replace(/index\.m3u8$/, `${track}/media.m3u8`)}`)).text();

  it('writes H.264 + AAC that ffprobe reads from the VOD playlist, for the duration published, across an encoder reconnect', async () => {
    const dir = tempDir();
    const gw = await gateway(dir);
    // 5 s, a reconnect (within --reconnect-grace 5 s), 4 s more: one recording of 9 s.
    const first = push(gw, 'live/rec', 5);
    await first.exited;
    const second = push(gw, 'live/rec', 4);
    await second.exited;
    await until(async () => (await recordings(gw)).every((r) => r.endedAt !== null) && (await recordings(gw)).length > 0, 'the recording ended', 20_000);
    const list = await recordings(gw);
    expect(list, 'one recording across the reconnect').toHaveLength(1);
    const [recording] = list as [ApiRecording];
    expect(recording).toMatchObject({ broadcast: 'live/rec', mp4: null });
    expect(Math.abs(recording.durationS - 9), `durationS ${recording.durationS}`).toBeLessThanOrEqual(2 * GOP_S);
    const video = await mediaPlaylist(gw, recording, 'v');
    expect(video).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(video.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(await mediaPlaylist(gw, recording, 'a')).toContain('#EXT-X-ENDLIST');
    // One segment per GOP (1 s), give or take the first and the ones around the reconnect.
    const segments = video.split('\n').filter((l) => l.endsWith('.m4s')).length;
    expect(segments).toBeGreaterThanOrEqual(7);
    expect(segments).toBeLessThanOrEqual(11);

    const probe = await ffprobe(`${gw.url}${recording.playlist}`);
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Math.abs(probe.duration - recording.durationS), `ffprobe ${probe.duration} s, listed ${recording.durationS} s`).toBeLessThanOrEqual(GOP_S);
  }, 90_000);

  it('a single broadcast: ffprobe duration within one GOP of what was published', async () => {
    const dir = tempDir();
    const gw = await gateway(dir);
    await push(gw, 'live/one', 6).exited;
    await until(async () => (await recordings(gw))[0]?.endedAt != null, 'the recording ended', 20_000);
    const [recording] = (await recordings(gw)) as [ApiRecording];
    const probe = await ffprobe(`${gw.url}${recording.playlist}`);
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Math.abs(probe.duration - 6), `ffprobe duration ${probe.duration}`).toBeLessThanOrEqual(GOP_S);
  }, 60_000);

  it('after kill -9 and a restart on the same directory, every completed segment is listed and the playlist plays', async () => {
    const dir = tempDir();
    const gw = await gateway(dir);
    push(gw, 'live/crash');
    await until(async () => ((await recordings(gw))[0]?.durationS ?? 0) >= 4, '4 s recorded', 30_000);
    const [live] = (await recordings(gw)) as [ApiRecording];
    expect(live.endedAt).toBeNull();
    process.kill(gw.pid!, 'SIGKILL');
    await gw.exited;
    const onDisk = readdirSync(path.join(dir, live.id)).filter((n) => n.endsWith('.m4s'));
    expect(onDisk.length).toBeGreaterThanOrEqual(4);

    const restarted = await gateway(dir);
    const [rebuilt] = (await recordings(restarted)) as [ApiRecording];
    expect(rebuilt).toMatchObject({ id: live.id, broadcast: 'live/crash' });
    expect(rebuilt.endedAt).not.toBeNull();
    expect(rebuilt.durationS).toBeGreaterThanOrEqual(live.durationS);
    const listed = [...(await mediaPlaylist(restarted, rebuilt, 'v')).split('\n'), ...(await mediaPlaylist(restarted, rebuilt, 'a')).split('\n')].filter((l) => l.endsWith('.m4s'));
    expect(listed.sort()).toEqual(onDisk.sort());
    expect(await mediaPlaylist(restarted, rebuilt, 'v')).toContain('#EXT-X-ENDLIST');
    const probe = await ffprobe(`${restarted.url}${rebuilt.playlist}`);
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Math.abs(probe.duration - rebuilt.durationS)).toBeLessThanOrEqual(GOP_S);
  }, 90_000);

  it('with --auth-key: the listing needs an operator token, a playlist the get scope of its broadcast', async () => {
    const dir = tempDir();
    const gw = await gateway(dir, ['--auth-key', SECRET, '--auth-public-publish', 'live']);
    const key = await loadSigningKey(SECRET);
    const operator = await mintToken(key, { root: '', put: '', get: '' });
    const wrong = await mintToken(key, { root: 'live', get: 'other' });
    const right = await mintToken(key, { root: 'live', get: 'private' });
    // Anonymous (publishing is public under live/): not an operator.
    expect([401, 403]).toContain((await fetch(`${gw.url}/api/recordings`)).status);
    await push(gw, 'live/private', 4).exited;
    await until(async () => (await recordings(gw, operator))[0]?.endedAt != null, 'the recording ended', 20_000);
    const [recording] = (await recordings(gw, operator)) as [ApiRecording];
    const playlist = `${gw.url}${recording.playlist}`;
    expect((await fetch(playlist)).status).toBe(401);
    expect((await fetch(`${playlist}?jwt=${wrong}`)).status).toBe(403);
    const segment = (await mediaPlaylist(gw, recording, 'v')).split('\n').find((l) => l.endsWith('.m4s'));
    expect(segment).toBeUndefined(); // the media playlist needs the token too (401 body)
    const media = `${gw.url}${recording.playlist.replace(/index\.m3u8$/, 'v/')}`;
    const allowed = await (await fetch(`${media}media.m3u8?jwt=${right}`)).text();
    const first = allowed.split('\n').find((l) => l.includes('.m4s'))!;
    expect(first).toContain(`jwt=${right}`);
    expect((await fetch(`${media}${first.split('?')[0]}`)).status).toBe(401);
    expect((await fetch(`${media}${first}`)).status).toBe(200);
    const probe = await ffprobe(`${playlist}?jwt=${right}`);
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  }, 60_000);
});
