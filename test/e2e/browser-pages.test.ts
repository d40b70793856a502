import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpServer } from '../../src/http/server.ts';
import { mountPages } from '../../src/http/pages.ts';
import { ensureWebBundle } from '../../src/http/web-bundle.ts';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { haveTools } from '../helpers/tools.ts';

/**
 * The pages and their assets, served by mountPages on a bare HttpServer, with the JSON API
 * stubbed in the browser: checks the dashboard without needing ingest or the relay.
 */

const quietLogger = { info: () => {}, error: () => {} };
const RTMP_PORT = 19350;
const BROADCASTS = {
  broadcasts: [
    {
      path: 'live/demo',
      tracks: [
        { name: 'video0', kind: 'video', codec: 'avc1.64001f', bitrate: 1_234_000, subscribers: 2 },
        { name: 'audio0', kind: 'audio', codec: 'mp4a.40.2', bitrate: 96_000, subscribers: 2 },
      ],
      publisher: { protocol: 'rtmp', remoteAddress: '127.0.0.1:50000', connected: true },
      viewers: 2,
      startedAt: Date.now() - 125_000,
    },
    { path: 'studio/cam 2', tracks: [], publisher: { protocol: 'whip', remoteAddress: '10.0.0.2:1', connected: false }, viewers: 0, startedAt: new Date().toISOString() },
  ],
};

describe('pages', () => {
  let http: HttpServer;
  let base: string;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    http = new HttpServer({ host: '127.0.0.1', port: 0 });
    const pages = mountPages(http, { logger: quietLogger });
    base = `http://127.0.0.1:${await http.listen()}`;
    expect(await pages.ready).toBeDefined();
  });

  afterAll(async () => {
    await browser?.close();
    await http?.close();
  });

  it('serves the page shells and leaves other prefixes alone', async () => {
    const home = await fetch(`${base}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await home.text()).toContain('/assets/dashboard.js');

    const watch = await fetch(`${base}/watch/live/%3Cb%3E`);
    const html = await watch.text();
    expect(html).toContain('&#60;b&#62;');
    expect(html).not.toContain('<b>');

    expect((await fetch(`${base}/watch/`, { redirect: 'manual' })).status).toBe(302);
    expect(await (await fetch(`${base}/publish/live/demo`)).text()).toContain('WHIP');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/api/broadcasts`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('serves the bundle with types, compression, caching and no traversal', async () => {
    const js = await fetch(`${base}/assets/dashboard.js`, { headers: { 'accept-encoding': 'br' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-encoding')).toBe('br');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    const body = await js.text(); // fetch decodes br
    const chunk = /\.\/chunks\/[\w-]+\.js/.exec(body)?.[0];
    expect(chunk).toBeDefined();

    const again = await fetch(`${base}/assets/dashboard.js`, { headers: { 'accept-encoding': 'br', 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);

    const chunkResponse = await fetch(`${base}/assets/${chunk!.slice(2)}`);
    expect(chunkResponse.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/assets/style.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${base}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
  });

  it('rebuilds only when stale', async () => {
    const bundle = await ensureWebBundle({ logger: quietLogger });
    expect(bundle.built).toBe(false);
  });

  it('dashboard lists broadcasts with OBS settings and links (stubbed API)', async (ctx) => {
    if (!haveTools('chromium')) return ctx.skip();
    browser = await launchBrowser({ origin: base });
    const page = await browser.newPage();
    await page.route('**/api/broadcasts', (route) => route.fulfill({ json: BROADCASTS }));
    await page.route('**/api/info', (route) => route.fulfill({ json: { rtmpPort: RTMP_PORT, httpPort: 0, version: '0.1.0' } }));
    await page.goto(`${base}/`);

    await page.locator('.card[data-path="live/demo"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('.card').count()).toBe(2);
    expect(await page.locator('#count').textContent()).toBe('2');
    const demo = page.locator('.card[data-path="live/demo"]');
    expect(await demo.textContent()).toContain('2 viewers');
    expect(await demo.textContent()).toContain('video avc1.64001f 1.2 Mb/s · audio mp4a.40.2 96 kb/s');
    expect(await page.locator('.card[data-path="studio/cam 2"]').textContent()).toContain('reconnecting');
    expect(await demo.getAttribute('aria-current')).toBe('true'); // first one is selected

    const detail = page.locator('#detail');
    await detail.locator('[data-testid="obs-server"]').waitFor();
    expect(await detail.locator('[data-testid="obs-server"]').inputValue()).toBe(`rtmp://127.0.0.1:${RTMP_PORT}/live`);
    expect(await detail.locator('[data-testid="obs-key"]').inputValue()).toBe('demo');
    expect(await detail.locator('[data-testid="moq-url"]').inputValue()).toBe(`${base}/`);
    expect(await detail.locator('[data-testid="hls-url"]').inputValue()).toBe(`${base}/hls/live/demo/index.m3u8`);
    expect(await detail.locator('[data-testid="legacy-hls-url"]').inputValue()).toBe(`${base}/hls/live/demo/legacy.m3u8`);
    expect(await detail.locator('moq-watch').getAttribute('name')).toBe('live/demo');
    expect(await detail.locator('moq-watch').getAttribute('url')).toBe(`${base}/`);
    expect(await detail.locator('a', { hasText: 'Watch full page' }).getAttribute('href')).toBe('/watch/live/demo');

    // Selecting another broadcast swaps the preview and encodes names in links.
    await page.locator('.card[data-path="studio/cam 2"]').click();
    expect(await detail.locator('moq-watch').getAttribute('name')).toBe('studio/cam 2');
    expect(await detail.locator('a', { hasText: 'Watch full page' }).getAttribute('href')).toBe('/watch/studio/cam%202');
    expect(await detail.locator('[data-testid="obs-key"]').inputValue()).toBe('cam 2');
    expect(page.url()).toContain('#studio%2Fcam%202');

    // Go live: any name gets OBS settings; a bare name gets the `live` app.
    const goLive = page.locator('#go-live');
    // live/demo is live: the form offers a free name until the user types one.
    expect(await goLive.locator('.name-input').inputValue()).toBe('live/demo-2');
    expect(await goLive.locator('[data-testid="obs-key"]').inputValue()).toBe('demo-2');
    await goLive.locator('.name-input').fill('party');
    expect(await goLive.locator('[data-testid="obs-server"]').inputValue()).toBe(`rtmp://127.0.0.1:${RTMP_PORT}/live`);
    expect(await goLive.locator('[data-testid="obs-key"]').inputValue()).toBe('party');

    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/dashboard-stub.png', fullPage: true });
    expect(browser.consoleLines.filter((line) => line.startsWith('[pageerror]'))).toEqual([]);
  });

  it('dashboard fits a phone screen', async (ctx) => {
    if (!haveTools('chromium') || !browser) return ctx.skip();
    const context = await browser.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      const page = await context.newPage();
      await page.route('**/api/broadcasts', (route) => route.fulfill({ json: BROADCASTS }));
      await page.route('**/api/info', (route) => route.fulfill({ json: { rtmpPort: 1935, httpPort: 0, version: '0.1.0' } }));
      await page.goto(`${base}/`);
      await page.locator('#detail [data-testid="obs-server"]').waitFor({ timeout: 10_000 });
      expect(await page.locator('#detail [data-testid="obs-server"]').inputValue()).toBe('rtmp://127.0.0.1/live');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: 'test-artifacts/dashboard-phone.png', fullPage: true });

      // The default preview moves on when its broadcast ends (the next poll, within 2 s).
      await page.unroute('**/api/broadcasts');
      await page.route('**/api/broadcasts', (route) => route.fulfill({ json: { broadcasts: BROADCASTS.broadcasts.slice(1) } }));
      await page.locator('#detail moq-watch[name="studio/cam 2"]').waitFor({ timeout: 5000 });
      expect(await page.locator('.card').count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});
