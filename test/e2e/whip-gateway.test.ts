/**
 * WHIP through the real gateway process: Chromium's fake camera publishes via /publish/<b>,
 * a second page plays it with @moq/watch, ffprobe reads its HLS egress, and stopping the
 * publisher (WHIP DELETE) ends the broadcast.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, waitForMovingVideo, type TestBrowser } from '../helpers/browser.ts';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.ts';
import { haveTools } from '../helpers/tools.ts';
import { until } from '../helpers/gateway.ts';

const BROADCAST = 'live/whip-gw';

describe.skipIf(!haveTools('chromium', 'ffprobe'))('WHIP through the gateway', () => {
  let gateway: GatewayProcess | undefined;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    gateway = await startGateway();
    browser = await launchBrowser({
      origin: gateway.url,
      extraArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'],
    });
  }, 60_000);

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await gateway?.stop();
    }
  }, 30_000);

  const listed = async () => {
    const body = (await (await fetch(`${gateway!.url}/api/broadcasts`)).json()) as { broadcasts: { path: string; viewers: number; tracks: { codec: string }[] }[] };
    return body.broadcasts.find((b) => b.path === BROADCAST);
  };

  it('publishes from /publish, plays in @moq/watch, serves HLS, and DELETE ends it', async () => {
    const publisher = await browser!.newPage();
    await publisher.goto(`${gateway!.url}/publish/${BROADCAST}`);
    await publisher.selectOption('#codec', 'H264');
    await publisher.click('#start');
    await publisher.waitForSelector('#state[data-state="live"]', { timeout: 20_000 });
    await until(async () => ((await listed())?.tracks.length ?? 0) >= 2, 'video and audio tracks', 15_000);
    const codecs = (await listed())!.tracks.map((t) => t.codec).sort();
    expect(codecs[0]).toMatch(/^avc1\./);
    expect(codecs[1]).toBe('opus');

    const viewer = await browser!.newPage();
    await viewer.goto(`${gateway!.url}/watch/${BROADCAST}`);
    const [first, second] = await waitForMovingVideo(viewer, { timeoutMs: 20_000 });
    expect(second.signature).not.toBe(first.signature);
    // The watch page is a viewer, and so is the dashboard's muted preview (video only). They
    // stay viewers through Chromium's resolution ramp, which makes players re-subscribe to video.
    const dashboard = await browser!.newPage();
    await dashboard.goto(`${gateway!.url}/#${encodeURIComponent(BROADCAST)}`);
    await waitForMovingVideo(dashboard, { timeoutMs: 20_000 });
    await until(async () => (await listed())?.viewers === 2, `the watch page and the preview are viewers: ${JSON.stringify(await listed())}`, 10_000);
    await dashboard.waitForFunction((path) => document.querySelector(`[data-path="${path}"] [title="viewers"]`)?.textContent === '2 viewers', BROADCAST, { timeout: 10_000 });
    for (let i = 0; i < 8; i++) {
      await dashboard.waitForTimeout(500);
      const now = await listed();
      expect(now?.viewers, `viewers ${i * 0.5 + 0.5} s later: ${JSON.stringify(now)}`).toBe(2);
    }
    await dashboard.close();

    const { stdout } = await promisify(execFile)(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${gateway!.url}/hls/${BROADCAST}/index.m3u8`],
      { timeout: 30_000 },
    );
    const video = (JSON.parse(stdout) as { streams: { codec_name: string; width: number }[] }).streams[0];
    expect(video?.codec_name).toBe('h264');
    expect(video?.width).toBeGreaterThan(0);

    await publisher.click('#stop');
    await publisher.waitForSelector('#state[data-state="idle"]');
    await until(async () => (await listed()) === undefined, 'broadcast ended by DELETE', 3000);
  });
});
