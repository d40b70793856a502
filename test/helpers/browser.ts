import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Headless Debian Chromium for e2e tests: autoplay allowed, loopback access granted, every
 * console message kept so a failing test can say what the page said.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // Not --disable-quic: WebTransport needs QUIC.
];

export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  /** `[type] text` of every console message and page error, from every page, in order. */
  consoleLines: string[];
  newPage(): Promise<Page>;
  /** The console lines as one string (for failure messages), the last `max` of them. */
  consoleText(max?: number): string;
  close(): Promise<void>;
}

export interface LaunchBrowserOptions {
  /** Origin to grant `local-network-access` for (Chromium gates 127.0.0.1 requests behind it). */
  origin?: string;
  extraArgs?: string[];
  viewport?: { width: number; height: number };
  /** Mobile emulation (touch, device scale) for phone layouts. */
  isMobile?: boolean;
}

export async function launchBrowser(opts: LaunchBrowserOptions = {}): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])], timeout: 30_000 });
  try {
    const context = await browser.newContext({
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      isMobile: opts.isMobile,
      hasTouch: opts.isMobile,
      deviceScaleFactor: opts.isMobile ? 2 : 1,
    });
    await grantLoopback(context, opts.origin);
    const consoleLines: string[] = [];
    context.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
    context.on('weberror', (error) => consoleLines.push(`[pageerror] ${error.error().message}`));
    return {
      browser,
      context,
      consoleLines,
      newPage: () => context.newPage(),
      consoleText: (max = 80) => consoleLines.slice(-max).join('\n'),
      close: async () => {
        await context.close().catch(() => undefined);
        await browser.close();
      },
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** Best effort: older Playwright or Chromium builds do not know the permission. */
async function grantLoopback(context: BrowserContext, origin: string | undefined): Promise<void> {
  try {
    await context.grantPermissions(['local-network-access'], origin ? { origin } : undefined);
  } catch {
    // not supported here: requests to 127.0.0.1 are not gated then either
  }
}

export interface CanvasSample {
  width: number;
  height: number;
  /** Mean luma 0–255 over a downscaled copy. */
  brightness: number;
  /** Downscaled RGBA as a compact string, to compare two samples. */
  signature: string;
}

/**
 * Read the pixels of the first `<canvas>` under `selector` (a 2D canvas, as <moq-watch> uses),
 * downscaled to 32×18. Null while the canvas is missing or has no size yet.
 */
export async function sampleCanvas(page: Page, selector = 'moq-watch canvas'): Promise<CanvasSample | null> {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(sel);
    if (!(canvas instanceof HTMLCanvasElement) || canvas.width === 0 || canvas.height === 0) return null;
    const small = document.createElement('canvas');
    small.width = 32;
    small.height = 18;
    const ctx = small.getContext('2d', { willReadFrequently: true });
    if (!ctx) return null;
    ctx.drawImage(canvas, 0, 0, small.width, small.height);
    const data = ctx.getImageData(0, 0, small.width, small.height).data;
    let luma = 0;
    let signature = '';
    for (let i = 0; i < data.length; i += 4) {
      luma += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      signature += ((data[i]! >> 4) * 256 + (data[i + 1]! >> 4) * 16 + (data[i + 2]! >> 4)).toString(36).padStart(3, '0');
    }
    return { width: canvas.width, height: canvas.height, brightness: luma / (data.length / 4), signature };
  }, selector);
}

/**
 * Wait until the canvas shows moving, non-black video: two samples `intervalMs` apart that
 * differ. Returns the last two samples; throws with the reason after `timeoutMs`.
 */
export async function waitForMovingVideo(page: Page, opts: { selector?: string; timeoutMs?: number; intervalMs?: number } = {}): Promise<[CanvasSample, CanvasSample]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last = 'canvas never got a size';
  while (Date.now() < deadline) {
    const first = await sampleCanvas(page, opts.selector);
    await page.waitForTimeout(opts.intervalMs ?? 1000);
    const second = await sampleCanvas(page, opts.selector);
    if (first && second) {
      if (second.brightness < 8) last = `canvas ${second.width}x${second.height} is black`;
      else if (first.signature === second.signature) last = `canvas ${second.width}x${second.height} did not change in ${opts.intervalMs ?? 1000} ms`;
      else return [first, second];
    }
  }
  throw new Error(`no moving video: ${last}`);
}
