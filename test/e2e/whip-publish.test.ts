import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhipService } from '../../adapters/ingest/whip/index.ts';
import { decodeLegacyFrame } from '../../src/media/hang/container.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';
import { DEFAULT_RECONNECT_GRACE_MS } from '../../src/media/publishers.ts';
import type { Origin, TrackSubscription } from '../../src/relay/index.ts';
import { haveTools } from '../helpers/tools.ts';
import { startWhipPageServer, type WhipPageServer } from '../helpers/whip-page-server.ts';

/**
 * Headless Chromium publishes its fake camera and microphone through web/publish/ (the real
 * page, bundled here) to the WHIP service; a relay subscriber checks what arrives.
 */

const BROADCAST = 'live/whip-e2e';

interface ReceivedFrame {
  timestamp: number;
  payload: Uint8Array;
}
interface ReceivedGroup {
  sequence: number;
  /** When the group's first frame arrived (ms, performance.now()). */
  startedAt: number;
  frames: ReceivedFrame[];
}

/** Read groups and frames of a relay track in the background until it ends. */
function collect(subscription: TrackSubscription): { groups: ReceivedGroup[]; done: Promise<'clean' | Error> } {
  const groups: ReceivedGroup[] = [];
  const done = (async (): Promise<'clean' | Error> => {
    try {
      for (;;) {
        const group = await subscription.nextGroup();
        if (!group) return 'clean';
        const received: ReceivedGroup = { sequence: group.sequence, startedAt: 0, frames: [] };
        groups.push(received);
        const reader = group.reader();
        for (;;) {
          const bytes = await reader.readFrame();
          if (!bytes) break;
          if (received.frames.length === 0) received.startedAt = performance.now();
          received.frames.push(decodeLegacyFrame(bytes));
        }
      }
    } catch (error) {
      return error as Error;
    }
  })();
  return { groups, done };
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const nalType = (nalu: Uint8Array): number => nalu[0]! & 0x1f;

describe.skipIf(!haveTools('chromium'))('WHIP publish from Chromium', () => {
  let server: WhipPageServer;
  let origin: Origin;
  let whip: WhipService;
  let page: Page;
  let pageUrl: string;

  beforeAll(async () => {
    server = await startWhipPageServer();
    ({ origin, whip } = server);
    pageUrl = `${server.base}/publish/${BROADCAST}`;
    page = await server.browser.newPage();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('publishes H.264 + Opus with keyframe-led groups and monotonic timestamps; DELETE ends it', async () => {
    await page.goto(pageUrl);
    expect(await page.inputValue('#broadcast')).toBe(BROADCAST);
    await page.selectOption('#codec', 'H264');
    await page.click('#start');
    await page.waitForSelector('#state[data-state="live"]', { timeout: 20_000 });
    expect(whip.sessions).toBe(1);

    await until(() => origin.get(BROADCAST)?.getTrack('video') !== undefined && origin.get(BROADCAST)?.getTrack('audio') !== undefined, 10_000, 'both tracks');
    const broadcast = origin.get(BROADCAST)!;
    const video = collect(broadcast.subscribe('video')!);
    const audio = collect(broadcast.subscribe('audio')!);

    // The catalog names what Chromium negotiated: H.264 with an avcC from the in-band SPS/PPS.
    const catalogGroup = await broadcast.subscribe('catalog.json')!.nextGroup();
    const catalog = JSON.parse(new TextDecoder().decode((await catalogGroup!.reader().readFrame())!)) as {
      video: { renditions: Record<string, { codec: string; description: string; codedWidth: number }> };
      audio: { renditions: Record<string, { codec: string; sampleRate: number }> };
    };
    expect(catalog.video.renditions.video!.codec).toMatch(/^avc1\.42/);
    expect(catalog.video.renditions.video!.description).toMatch(/^01/);
    expect(catalog.video.renditions.video!.codedWidth).toBeGreaterThan(0);
    expect(catalog.audio.renditions.audio).toMatchObject({ codec: 'opus', sampleRate: 48000 });

    // Browsers send one key frame and then only on request: the periodic PLI starts new groups.
    await until(() => video.groups.length >= 2 && video.groups.at(-1)!.frames.length > 0, 15_000, 'a second video group');

    // A viewer asking for a key frame gets a new group well before the periodic request would.
    const groupsBefore = video.groups.length;
    await new Promise((r) => setTimeout(r, 600)); // past the PLI rate limit
    const askedAt = performance.now();
    whip.requestKeyframe(BROADCAST);
    await until(() => video.groups.length > groupsBefore && video.groups.at(-1)!.frames.length > 0, 5000, 'a requested key frame');
    expect(video.groups.at(-1)!.startedAt - askedAt).toBeLessThan(1200);
    // Enough frames to judge, however fast a loaded machine lets Chromium's fake camera run.
    await until(() => video.groups.reduce((n, g) => n + g.frames.length, 0) > 40, 15_000, 'more than 40 video frames');

    // Every group starts with an IDR; every payload is valid AVCC; timestamps strictly increase.
    const videoFrames = video.groups.flatMap((g) => g.frames);
    expect(videoFrames.length).toBeGreaterThan(40);
    for (const group of video.groups) {
      if (group.frames.length === 0) continue;
      // The IDR carries its SPS and PPS in-band too (the avcC in the catalog has the same).
      const first = splitLengthPrefixed(group.frames[0]!.payload);
      expect(first.slice(0, 2).map(nalType), `group ${group.sequence}`).toEqual([7, 8]);
      expect(first.some((n) => nalType(n) === 5), `group ${group.sequence}`).toBe(true);
      for (const frame of group.frames) expect(splitLengthPrefixed(frame.payload).length).toBeGreaterThan(0);
      for (const frame of group.frames.slice(1)) expect(splitLengthPrefixed(frame.payload).some((n) => nalType(n) === 5)).toBe(false);
    }
    const audioFrames = audio.groups.flatMap((g) => g.frames);
    expect(audioFrames.length).toBeGreaterThan(100);
    for (const frames of [videoFrames, audioFrames]) {
      for (let i = 1; i < frames.length; i++) expect(frames[i]!.timestamp).toBeGreaterThan(frames[i - 1]!.timestamp);
    }
    // One timeline: the newest audio and video are close (SR-aligned, not two random RTP clocks).
    expect(Math.abs(videoFrames.at(-1)!.timestamp - audioFrames.at(-1)!.timestamp)).toBeLessThan(500_000);

    // Stop = DELETE: the session ends at once, the broadcast after the registry's reconnect grace.
    await page.click('#stop');
    await page.waitForSelector('#state[data-state="idle"]');
    await until(() => whip.sessions === 0, 5000, 'the session to end');
    await until(() => origin.get(BROADCAST) === undefined, DEFAULT_RECONNECT_GRACE_MS + 3000, 'the broadcast to end');
    expect(await video.done).toBe('clean');
    expect(await audio.done).toBe('clean');
  });
});
