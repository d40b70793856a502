/**
 * HLS from the running gateway for an RTMP broadcast: ffprobe reads the playlist the dashboard
 * advertises, and with auth on the playlist needs a token that every nested URI carries on.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, until } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';

const tools = haveTools('ffmpeg', 'ffprobe');
const SECRET = 'hls-test-secret-that-is-at-least-32-bytes';
const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

function push(rtmpUrl: string, seconds: number) {
  const child = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-profile:v', 'high', '-bf', '2', '-g', '30', '-preset', 'veryfast', '-c:a', 'aac', '-f', 'flv', rtmpUrl,
  ]);
  stops.push(() => void child.kill('SIGKILL'));
  return child;
}

/** Async: the gateway runs in this process, so a blocking spawn would starve it. */
async function ffprobe(url: string): Promise<{ streams: { codec_name: string; codec_type: string }[] }> {
  const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type', '-of', 'json', url], { timeout: 30_000 });
  return JSON.parse(stdout) as { streams: { codec_name: string; codec_type: string }[] };
}

describe.skipIf(!tools)('HLS from the gateway', () => {
  it('serves an RTMP broadcast that ffprobe reads as H.264 + AAC', async () => {
    const gw = await startGateway();
    stops.push(gw.stop);
    push(`${gw.rtmpUrl}/live/hls`, 20);
    await until(() => gw.gateway.origin.get('live/hls')?.getTrack('audio') !== undefined, 'broadcast live', 15_000);
    const probe = await ffprobe(`${gw.httpUrl}/hls/live/hls/index.m3u8`);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/moq_gateway_hls_requests_total\{kind="all"\} [1-9]/);
  });

  it('with auth on, needs a token that grants watching, carried into every URI', async () => {
    const gw = await startGateway({ authKey: SECRET, authPublicPublish: ['live'] });
    stops.push(gw.stop);
    push(`${gw.rtmpUrl}/live/private`, 20);
    await until(() => gw.gateway.origin.get('live/private')?.getTrack('video') !== undefined, 'broadcast live', 15_000);
    const key = await loadSigningKey(SECRET);
    const wrong = await mintToken(key, { root: 'live', get: 'other' });
    const right = await mintToken(key, { root: 'live', get: 'private' });
    const base = `${gw.httpUrl}/hls/live/private/index.m3u8`;
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(`${base}?jwt=${wrong}`)).status).toBe(403);
    const playlist = await (await fetch(`${base}?jwt=${right}`)).text();
    for (const line of playlist.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toContain(`jwt=${right}`);
    const probe = await ffprobe(`${base}?jwt=${right}`);
    expect(probe.streams.some((s) => s.codec_name === 'h264')).toBe(true);
  });
});
