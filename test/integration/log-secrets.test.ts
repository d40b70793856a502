/**
 * No log line, at any level, carries a secret, a token or a stream key. The real CLI runs at
 * trace level with its key from --auth-key-file while clients use every credential path:
 * a token in an RTMP stream key, a static stream key, a bad token, MoQ `?jwt=`, HLS `?jwt=`,
 * a WHIP Bearer token and the API's Bearer token. The start-up log says that authentication is on, and how.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import { connectLite } from '../../src/moq/lite/client.ts';
import { until, within } from '../helpers/gateway.ts';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.ts';
import { haveTools } from '../helpers/tools.ts';

const tools = haveTools('ffmpeg');
const SECRET = 'log-test-secret-that-is-at-least-32-bytes-long';
const STREAM_KEY = 'static-stream-key-8c41d2';

function push(rtmpUrl: string): Promise<number | null> {
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15:duration=2', '-c:v', 'libx264', '-g', '15', '-f', 'flv', rtmpUrl]);
  return new Promise((resolve) => ffmpeg.once('exit', resolve));
}

describe.skipIf(!tools)('secrets stay out of the logs', () => {
  let gw: GatewayProcess;
  const tokens: string[] = [];
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moq-log-secrets-'));
    writeFileSync(join(dir, 'key'), `${SECRET}\n`);
    gw = await startGateway({ args: ['--auth-key-file', join(dir, 'key'), '--auth-stream-keys', `live/keyed=${STREAM_KEY}`, '--log-level', 'trace'] });
  });
  afterAll(async () => gw?.stop());

  it('every credential path, then no log line contains any of them', async () => {
    const key = await loadSigningKey(SECRET);
    const publish = await mintToken(key, { root: 'live', put: '' });
    const watch = await mintToken(key, { root: 'live', get: '' });
    const operator = await mintToken(key, { root: '', put: '', get: '' });
    const forged = await mintToken(await loadSigningKey('another-secret-that-is-also-32-bytes-long!'), { root: 'live', put: '' });
    tokens.push(publish, watch, operator, forged);

    expect(await push(gw.rtmpUrl(`live/tok?jwt=${publish}`))).toBe(0);
    expect(await push(gw.rtmpUrl(`live/keyed?key=${STREAM_KEY}`))).toBe(0);
    await push(gw.rtmpUrl(`live/forged?jwt=${forged}`)); // refused
    const live = push(gw.rtmpUrl(`live/hls?jwt=${publish}`));
    const api = await fetch(`${gw.url}/api/broadcasts`, { headers: { authorization: `Bearer ${operator}` } });
    expect(api.status).toBe(200);
    await until(async () => (await (await fetch(`${gw.url}/hls/live/hls/index.m3u8?jwt=${watch}`)).status) === 200, 'HLS playlist', 15_000);
    const viewer = await within(connectLite(`${gw.url}/?jwt=${watch}`), 'MoQ viewer with ?jwt=');
    viewer.close();
    expect((await fetch(`${gw.url}/hls/live/hls/index.m3u8?jwt=${forged}`)).status).toBe(403);
    const whip = await fetch(`${gw.url}/whip/live/w`, { method: 'POST', headers: { authorization: `Bearer ${publish}`, 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
    expect(whip.status).toBeGreaterThanOrEqual(400); // not a usable offer, but authorized and logged
    await live;
    await gw.stop();

    const logs = gw.logs();
    expect(logs.some((line) => line.includes('AUTHENTICATION IS ON: tokens verified with HS256'))).toBe(true);
    expect(logs.some((line) => /"level":(10|20),/.test(line))).toBe(true); // trace/debug lines were written
    for (const [what, value] of [['the secret', SECRET], ['the stream key', STREAM_KEY], ...tokens.map((t, i) => [`token ${i}`, t] as const)] as const) {
      const leaked = logs.filter((line) => line.includes(value) || line.includes(value.slice(-24)));
      expect(leaked, `${what} in the log`).toEqual([]);
    }
  });
});
