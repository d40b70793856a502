import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitObus } from '../../adapters/ingest/whip/av1-obu.ts';
import { parseVp9FrameHeader } from '../../adapters/ingest/whip/vp9-frame-header.ts';
import { parseAv1C } from '../../src/media/av1.ts';
import { decodeLegacyFrame } from '../../src/media/hang/container.ts';
import { fromHex } from '../../src/media/hex.ts';
import { parseVpcC } from '../../src/media/vp9.ts';
import type { Origin } from '../../src/relay/index.ts';
import { haveTools } from '../helpers/tools.ts';
import { startWhipPageServer, type WhipPageServer } from '../helpers/whip-page-server.ts';

/** VP8, VP9 and AV1 from Chromium (the page offers only the chosen codec) reach the relay with the right codec strings. */

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!haveTools('chromium'))('WHIP codecs from Chromium', () => {
  let server: WhipPageServer;
  let origin: Origin;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    server = await startWhipPageServer({ reconnectGraceMs: 0 });
    ({ origin, browser, base } = server);
  });

  afterAll(async () => {
    await server?.close();
  });

  const cases = [
    { codec: 'VP8', pattern: /^vp8$/, keyframe: (p: Uint8Array) => (p[0]! & 1) === 0 },
    { codec: 'VP9', pattern: /^vp09\.00\.\d\d\.08$/, keyframe: (p: Uint8Array) => parseVp9FrameHeader(p).keyframe },
    { codec: 'AV1', pattern: /^av01\.0\.\d\dM\.08$/, keyframe: (p: Uint8Array) => splitObus(p)[0]!.type === 1 },
  ] as const;

  for (const { codec, pattern, keyframe } of cases) {
    it(`publishes ${codec}`, async () => {
      const name = `live/${codec.toLowerCase()}`;
      const page = await browser.newPage();
      try {
        await page.goto(`${base}/publish/${name}`);
        await page.selectOption('#codec', codec);
        await page.click('#start');
        await page.waitForSelector('#state[data-state="live"]', { timeout: 20_000 });
        await until(() => origin.get(name)?.getTrack('video') !== undefined, 10_000, 'the video track');
        const broadcast = origin.get(name)!;
        const catalogGroup = await broadcast.subscribe('catalog.json')!.nextGroup();
        const catalog = JSON.parse(new TextDecoder().decode((await catalogGroup!.reader().readFrame())!)) as {
          video: { renditions: { video: { codec: string; description?: string; codedWidth: number } } };
        };
        const rendition = catalog.video.renditions.video;
        expect(rendition.codec).toMatch(pattern);
        expect(rendition.codedWidth).toBeGreaterThan(0);
        if (codec === 'VP9') expect(parseVpcC(fromHex(rendition.description!)).profile).toBe(0);
        if (codec === 'AV1') expect(parseAv1C(fromHex(rendition.description!)).seqProfile).toBe(0);
        const group = await broadcast.subscribe('video')!.nextGroup();
        const first = decodeLegacyFrame((await group!.reader().readFrame())!);
        expect(keyframe(first.payload)).toBe(true);
      } finally {
        await page.close(); // the page's pagehide DELETE or the ICE timeout ends the session
      }
    });
  }
});
