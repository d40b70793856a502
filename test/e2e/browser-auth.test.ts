/**
 * The pages with --auth-key, in Chromium: the watch page plays with `?jwt=` and says on the
 * page why it cannot play without one (missing, expired, for another broadcast); the dashboard
 * asks for an operator token on 401, then lists, previews and gives settings that carry it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import { launchBrowser, waitForMovingVideo, type TestBrowser } from '../helpers/browser.ts';
import { pushTestPattern, startGateway, type GatewayProcess, type TestPatternHandle } from '../helpers/gateway-process.ts';
import { haveTools } from '../helpers/tools.ts';

const SECRET = 'browser-auth-test-secret-of-at-least-32-bytes';
const BROADCAST = 'live/guarded';

describe.skipIf(!haveTools('ffmpeg', 'chromium'))('browser pages with --auth-key', () => {
  let gateway: GatewayProcess | undefined;
  let push: TestPatternHandle | undefined;
  let browser: TestBrowser | undefined;
  const tokens = { watch: '', other: '', expired: '', operator: '' };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moq-browser-auth-'));
    writeFileSync(join(dir, 'key'), SECRET);
    gateway = await startGateway({ args: ['--auth-key-file', join(dir, 'key')] });
    const key = await loadSigningKey(SECRET);
    const now = Math.floor(Date.now() / 1000);
    tokens.watch = await mintToken(key, { root: 'live', get: 'guarded', expiresAt: now + 600 });
    tokens.other = await mintToken(key, { root: 'live', get: 'elsewhere', expiresAt: now + 600 });
    tokens.expired = await mintToken(key, { root: 'live', get: 'guarded', expiresAt: now - 60 }, Date.now() - 120_000);
    tokens.operator = await mintToken(key, { root: '', put: '', get: '', expiresAt: now + 600 });
    const publish = await mintToken(key, { root: 'live', put: 'guarded' });
    push = pushTestPattern({ rtmpUrl: gateway.rtmpUrl(`${BROADCAST}?jwt=${publish}`) });
    browser = await launchBrowser({ origin: gateway.url });
  }, 60_000);

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await push?.stop();
      await gateway?.stop();
    }
  }, 30_000);

  const diagnostics = () => ['--- browser console ---', browser?.consoleText() ?? '', '--- gateway log ---', ...(gateway?.logs().slice(-20) ?? [])].join('\n');

  async function withPage(run: (page: Page) => Promise<void>): Promise<void> {
    const page = await browser!.newPage();
    try {
      await run(page);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${diagnostics()}`);
    } finally {
      await page.close();
    }
  }

  async function problemOn(path: string): Promise<string> {
    let text = '';
    await withPage(async (page) => {
      await page.goto(`${gateway!.url}${path}`);
      text = (await page.locator('[data-testid="auth-problem"]').textContent({ timeout: 10_000 })) ?? '';
      expect(await page.locator('moq-watch').count(), 'no player behind the message').toBe(0);
    });
    return text;
  }

  it('the watch page says why it cannot play: no token, an expired one, one for another broadcast', async () => {
    expect(await problemOn(`/watch/${BROADCAST}`)).toMatch(/needs a token.*\?jwt=/);
    expect(await problemOn(`/watch/${BROADCAST}?jwt=${tokens.expired}`)).toMatch(/expired/);
    expect(await problemOn(`/watch/${BROADCAST}?jwt=${tokens.other}`)).toMatch(/does not allow watching live\/guarded/);
    expect(await problemOn(`/watch/${BROADCAST}?jwt=not-a-token`)).toMatch(/not a token/);
  }, 60_000);

  it('the watch page plays with ?jwt= and passes it to its MoQ connection', async () => {
    await withPage(async (page) => {
      await page.goto(`${gateway!.url}/watch/${BROADCAST}?jwt=${tokens.watch}`);
      const [first, second] = await waitForMovingVideo(page, { timeoutMs: 20_000 });
      expect(second.signature).not.toBe(first.signature);
      expect(await page.locator('moq-watch').getAttribute('url')).toContain(`jwt=${tokens.watch}`);
    });
  }, 40_000);

  it('the dashboard asks for an operator token, then lists, previews and shares settings with it', async () => {
    await withPage(async (page) => {
      await page.goto(`${gateway!.url}/`);
      await page.locator('[data-testid="token-input"]').waitFor({ timeout: 10_000 });
      expect(await page.locator('#status').textContent()).toBe('token needed');
      expect(await page.locator('#token-form').textContent()).toContain("--put '' --get ''");
      await page.locator('[data-testid="token-input"]').fill(tokens.operator);
      await page.locator('[data-testid="token-submit"]').click();
      await page.locator(`.card[data-path="${BROADCAST}"]`).waitFor({ timeout: 10_000 });
      expect(await page.locator('#status').textContent()).toBe('connected');
      expect(await page.locator('#token-form').isHidden()).toBe(true);
      const [first, second] = await waitForMovingVideo(page, { timeoutMs: 20_000 });
      expect(second.signature).not.toBe(first.signature);
      expect(await page.locator('#detail [data-testid="obs-key"]').inputValue()).toBe(`guarded?jwt=${tokens.operator}`);
      expect(await page.locator('#detail [data-testid="hls-url"]').inputValue()).toContain(`jwt=${tokens.operator}`);
      expect(await page.locator('#detail [data-testid="moq-url"]').inputValue()).toContain(`jwt=${tokens.operator}`);
      // Kept for this tab only, never in the page's own URL.
      expect(page.url()).not.toContain(tokens.operator);
      const hls = await fetch(await page.locator('#detail [data-testid="hls-url"]').inputValue());
      expect(hls.status, 'the copied HLS URL works').toBe(200);
    });
  }, 60_000);
});
