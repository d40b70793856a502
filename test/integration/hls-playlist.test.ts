import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Origin } from '../../src/relay/index.ts';
import { SyntheticBroadcast, TEST_AVCC } from '../helpers/hls-synthetic-broadcast.ts';
import { startHlsTestServer, type HlsTestServer } from '../helpers/hls-test-server.ts';
import { attributes, parseMediaPlaylist, type ParsedMediaPlaylist } from '../helpers/hls-playlist-parser.ts';

const PART_TARGET_MS = 300;

let origin: Origin;
let server: HlsTestServer;
let source: SyntheticBroadcast;

async function get(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${server.base}/hls/${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
}

/** Wait until the server has started packaging `count` renditions (the request has arrived). */
async function packaging(count = 1): Promise<void> {
  const deadline = Date.now() + 5000;
  while (server.service.stats().renditions < count) {
    if (Date.now() > deadline) throw new Error('no rendition started');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves whether `promise` is still pending after `ms`. */
async function stillPending(promise: Promise<unknown>, ms = 150): Promise<boolean> {
  return Promise.race([promise.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms))]);
}

async function mediaPlaylist(track: string, query = ''): Promise<ParsedMediaPlaylist> {
  const res = await get(`live/synth/${track}/media.m3u8${query}`);
  expect(res.status).toBe(200);
  return parseMediaPlaylist(await res.text());
}

/** RFC 8216bis rules every playlist here must follow. */
function expectConformant(p: ParsedMediaPlaylist): void {
  expect(p.version).toBeGreaterThanOrEqual(6); // EXT-X-MAP needs 6 (§7)
  expect(Number.isInteger(p.targetDuration)).toBe(true);
  expect(p.partTarget).toBeCloseTo(PART_TARGET_MS / 1000, 5);
  expect(p.serverControl['CAN-BLOCK-RELOAD']).toBe('YES');
  expect(Number(p.serverControl['PART-HOLD-BACK'])).toBeGreaterThanOrEqual(2 * p.partTarget!); // §4.4.3.8
  p.segments.forEach((segment, i) => {
    expect(segment.msn).toBe(p.mediaSequence + i);
    expect(segment.map).toBeDefined();
    // §4.4.3.1: each EXTINF rounded to the nearest integer ≤ EXT-X-TARGETDURATION.
    if (segment.duration !== undefined) expect(Math.round(segment.duration)).toBeLessThanOrEqual(p.targetDuration);
    // §4.4.4.9: every part ≤ PART-TARGET; part URIs number parts from 0 within the segment.
    segment.parts.forEach((part, j) => {
      expect(part.duration).toBeLessThanOrEqual(p.partTarget! + 1e-9);
      expect(part.uri).toMatch(new RegExp(`-${segment.msn}\\.${j}\\.m4s$`));
    });
    if (segment.parts.length > 0 && segment.duration !== undefined) {
      expect(segment.parts.reduce((sum, part) => sum + part.duration, 0)).toBeCloseTo(segment.duration, 3);
    }
  });
  if (!p.endList) {
    const open = p.segments.at(-1)!;
    const expected = open.duration === undefined ? `-${open.msn}.${open.parts.length}.m4s` : `-${open.msn + 1}.0.m4s`;
    expect(p.preloadHint).toMatch(new RegExp(`${expected.replace(/\./g, '\\.')}$`));
  } else {
    expect(p.preloadHint).toBeUndefined();
  }
}

beforeEach(async () => {
  origin = new Origin();
  source = new SyntheticBroadcast(origin, 'live/synth', { bframes: true });
  server = await startHlsTestServer(origin, { partTargetMs: PART_TARGET_MS, segmentWindow: 4, idleTimeoutMs: 1000 });
});

afterEach(async () => {
  source.close();
  await server.close();
});

describe('LL-HLS playlists', () => {
  it('serves a multivariant playlist with the video variant and a separate audio rendition', async () => {
    source.advance(100);
    const res = await get('live/synth/index.m3u8');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const text = await res.text();
    const media = text.split('\n').find((l) => l.startsWith('#EXT-X-MEDIA:'))!;
    expect(attributes(media.slice('#EXT-X-MEDIA:'.length))).toMatchObject({ TYPE: 'AUDIO', URI: 'audio/media.m3u8', DEFAULT: 'YES', CHANNELS: '2' });
    const inf = text.split('\n').find((l) => l.startsWith('#EXT-X-STREAM-INF:'))!;
    expect(attributes(inf.slice('#EXT-X-STREAM-INF:'.length))).toMatchObject({ CODECS: 'avc1.64000d,mp4a.40.2', RESOLUTION: '320x240', AUDIO: 'audio-mp4a402' });
    expect(text.split('\n')[text.split('\n').indexOf(inf) + 1]).toBe('video/media.m3u8');
  });

  it('packages nothing until a player asks, and stops after the idle timeout', async () => {
    source.advance(500);
    const videoTrack = origin.get('live/synth')!.getTrack('video')!;
    expect(videoTrack.subscriberCount).toBe(0);
    const first = get('live/synth/video/media.m3u8');
    await packaging();
    await source.play(1500);
    expect((await first).status).toBe(200);
    expect(videoTrack.subscriberCount).toBe(1);
    expect(server.service.stats().sessions).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect(server.service.stats().sessions).toBe(0);
    expect(videoTrack.subscriberCount).toBe(0);
  });

  it('keeps segments on GOPs, parts under PART-TARGET, numbering continuous across reloads', async () => {
    source.advance(200);
    const first = get('live/synth/video/media.m3u8');
    await packaging();
    await source.play(1200);
    let previous = parseMediaPlaylist(await (await first).text());
    expectConformant(previous);
    expect(previous.targetDuration).toBe(1); // GOP of 30 frames at 30 fps
    for (let i = 0; i < 8; i++) {
      await source.play(700);
      const next = await mediaPlaylist('video');
      expectConformant(next);
      // The window slides: sequence numbers never go back and a segment keeps its number.
      expect(next.mediaSequence).toBeGreaterThanOrEqual(previous.mediaSequence);
      for (const s of next.segments) {
        const before = previous.segments.find((p) => p.msn === s.msn);
        if (before?.uri && s.uri) expect(s.uri).toBe(before.uri);
      }
      // Each segment starts with an independent (keyframe) part.
      for (const s of next.segments) if (s.parts.length > 0) expect(s.parts[0]!.independent).toBe(true);
      previous = next;
    }
    // Sliding window of 4 complete segments (but never under three target durations).
    expect(previous.segments.filter((s) => s.uri).length).toBeLessThanOrEqual(4);
  });

  it('answers a blocking reload once the requested part exists (_HLS_msn/_HLS_part)', async () => {
    source.advance(200);
    const first = get('live/synth/video/media.m3u8');
    await packaging();
    await source.play(1200);
    const playlist = parseMediaPlaylist(await (await first).text());
    const open = playlist.segments.at(-1)!;
    const wantMsn = open.duration === undefined ? open.msn : open.msn + 1;
    const wantPart = open.duration === undefined ? open.parts.length + 1 : 1;
    const blocked = get(`live/synth/video/media.m3u8?_HLS_msn=${wantMsn}&_HLS_part=${wantPart}`);
    expect(await stillPending(blocked)).toBe(true);
    await source.play(1000);
    const res = await blocked;
    expect(res.status).toBe(200);
    const answered = parseMediaPlaylist(await res.text());
    expectConformant(answered);
    const segment = answered.segments.find((s) => s.msn === wantMsn)!;
    expect(segment.parts.length).toBeGreaterThan(wantPart);

    // The hinted part is held until it exists, then served as video/mp4 with long caching.
    await new Promise((resolve) => setTimeout(resolve, 50)); // let packaging catch up with what was written
    const hint = (await mediaPlaylist('video')).preloadHint!;
    const part = get(`live/synth/video/${hint}`);
    expect(await stillPending(part)).toBe(true);
    source.advance(500);
    const partRes = await part;
    expect(partRes.status).toBe(200);
    expect(partRes.headers.get('content-type')).toBe('video/mp4');
    expect(partRes.headers.get('cache-control')).toContain('immutable');
    const bytes = new Uint8Array(await partRes.arrayBuffer());
    expect(Buffer.from(bytes.subarray(4, 8)).toString()).toBe('moof');

    // More than two segments ahead is a client error (§6.2.5.2); malformed too.
    expect((await get(`live/synth/video/media.m3u8?_HLS_msn=${wantMsn + 10}`)).status).toBe(400);
    expect((await get('live/synth/video/media.m3u8?_HLS_part=1')).status).toBe(400);
  });

  it('cuts audio at the video boundaries with the same sequence numbers', async () => {
    source.advance(200);
    const v = get('live/synth/video/media.m3u8');
    const a = get('live/synth/audio/media.m3u8');
    await packaging(2);
    await source.play(4000);
    await Promise.all([v, a]);
    const video = await mediaPlaylist('video');
    const audio = await mediaPlaylist('audio');
    expectConformant(audio);
    expect(audio.targetDuration).toBe(video.targetDuration);
    const audioRes = await get(`live/synth/audio/${audio.segments[0]!.uri}`);
    expect(audioRes.headers.get('content-type')).toBe('audio/mp4');
    let compared = 0;
    for (const segment of audio.segments.filter((s) => s.duration !== undefined)) {
      const twin = video.segments.find((s) => s.msn === segment.msn && s.duration !== undefined);
      if (!twin) continue;
      // Same instant within one AAC frame (21.3 ms), as EXT-X-PROGRAM-DATE-TIME shows.
      expect(Math.abs(segment.programDateTime! - twin.programDateTime!)).toBeLessThanOrEqual(22);
      expect(Math.abs(segment.duration! - twin.duration!)).toBeLessThanOrEqual(0.022);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(2);
    expect(video.renditionReports.map((r) => r.URI)).toEqual(['../audio/media.m3u8']);
  });

  it('ends playlists with EXT-X-ENDLIST when the broadcast ends', async () => {
    source.advance(200);
    const first = get('live/synth/video/media.m3u8');
    await packaging();
    await source.play(1500);
    await first;
    const last = (await mediaPlaylist('video')).segments.at(-1)!.msn;
    const blocked = get(`live/synth/video/media.m3u8?_HLS_msn=${last + 2}`);
    expect(await stillPending(blocked)).toBe(true);
    source.advance(300);
    source.close();
    const res = await blocked;
    expect(res.status).toBe(200);
    const ended = parseMediaPlaylist(await res.text());
    expect(ended.endList).toBe(true);
    expectConformant(ended);
    expect(ended.segments.every((s) => s.uri !== undefined)).toBe(true);
  });

  it('a new codec description starts a discontinuity with a new init segment, in every rendition', async () => {
    source.advance(200);
    const v = get('live/synth/video/media.m3u8');
    const a = get('live/synth/audio/media.m3u8');
    await packaging(2);
    await source.play(2100);
    await Promise.all([v, a]);
    // Up to the end of a GOP: the new description takes effect at the very next frame, a keyframe.
    const gopUs = 1_000_000;
    source.advance((Math.ceil(source.timeUs / gopUs) * gopUs - source.timeUs) / 1000 - 1);
    const level31 = TEST_AVCC.slice();
    level31[3] = 0x1f;
    source.writer.setTrack('video', { kind: 'video', codec: 'avc1.64001f', description: level31, codedWidth: 640, codedHeight: 480 });
    await source.play(2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const video = await mediaPlaylist('video');
    expectConformant(video);
    const switched = video.segments.find((s) => s.discontinuity)!;
    expect(switched.map).toMatch(/-init2\.mp4$/);
    const init = await get(`live/synth/video/${switched.map}`);
    expect(Buffer.from(await init.arrayBuffer()).toString('hex')).toContain('0164001f');
    // The new init's first segment starts with the keyframe (a player's decoder restarts there),
    // and the segment before keeps every frame up to it: no hole at the discontinuity.
    const firstFrame = async (uri: string) => {
      const bytes = Buffer.from(await (await get(`live/synth/video/${uri}`)).arrayBuffer());
      const data = bytes.indexOf('mdat') + 4; // the synthetic samples: 4-byte length, NAL header, frame number
      return { nalHeader: bytes[data + 4], frame: bytes[data + 5]! };
    };
    const before = video.segments[video.segments.indexOf(switched) - 1]!;
    const [first, last] = [await firstFrame(before.uri!), await firstFrame(switched.uri!)];
    expect(first.nalHeader).toBe(0x65);
    expect(last.nalHeader).toBe(0x65);
    expect(before.duration).toBeCloseTo((last.frame - first.frame) / 30, 3);
    const audio = await mediaPlaylist('audio');
    expect(audio.segments.find((s) => s.discontinuity)?.msn).toBe(switched.msn);
    const master = await (await get('live/synth/index.m3u8')).text();
    expect(master).toContain('RESOLUTION=640x480');
  });

  it('answers CORS preflights, 404s unknown broadcasts and resources', async () => {
    const preflight = await get('live/synth/index.m3u8', { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
    expect((await get('live/nothing/index.m3u8')).status).toBe(404);
    expect((await get('live/synth/video/nope.txt')).status).toBe(404);
    source.advance(100);
    expect((await get('live/synth/video/zzzz-1.m4s')).status).toBe(404); // another session's URL
  });
});
