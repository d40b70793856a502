import { describe, expect, it } from 'vitest';
import { Broadcast, Track } from '../../src/relay/index.ts';
import { hlsUri, parseHlsPath, trackPathSegment } from '../../adapters/egress/hls/hls-urls.ts';
import { PlaylistWindow } from '../../adapters/egress/hls/playlist-window.ts';
import { renderMediaPlaylist } from '../../adapters/egress/hls/media-playlist.ts';
import { Segmenter, type SegmenterOptions } from '../../adapters/egress/hls/segmenter.ts';
import { CutSchedule } from '../../adapters/egress/hls/cut-schedule.ts';
import { FollowerGate } from '../../adapters/egress/hls/follower-gate.ts';
import { SessionClock } from '../../adapters/egress/hls/session-clock.ts';
import { AudioSampleClock } from '../../adapters/egress/hls/audio-sample-clock.ts';
import { VideoSampleClock } from '../../adapters/egress/hls/video-sample-clock.ts';
import { RelayTrackReader } from '../../src/relay/track-reader.ts';
import { ResubscribingReader } from '../../adapters/egress/hls/resubscribing-reader.ts';
import type { TimedSample } from '../../adapters/egress/hls/timed-sample.ts';
import { parseMediaPlaylist } from '../helpers/hls-playlist-parser.ts';

const window = (options: Partial<ConstructorParameters<typeof PlaylistWindow>[0]> = {}) =>
  new PlaylistWindow({ segmentWindow: 3, maxBytes: 1 << 20, partTarget: 0.3, ...options });

/** Fill a window with whole segments of `parts` parts of `partSeconds` and `bytes` each. */
function fill(w: PlaylistWindow, segments: number, parts = 4, partSeconds = 0.25, bytes = 100): void {
  w.setInit(1, new Uint8Array(8));
  for (let i = 0; i < segments; i++) {
    const msn = (w.current?.msn ?? -1) + 1;
    w.beginSegment({ msn, startUs: msn * 1_000_000, discontinuity: false, initVersion: 1 });
    for (let p = 0; p < parts; p++) w.addPart({ duration: partSeconds, independent: p === 0, bytes: new Uint8Array(bytes) });
    w.completeSegment();
    w.setTargetDuration(1);
  }
}

describe('HLS URLs', () => {
  it('round-trips every resource under a multi-segment broadcast path', () => {
    expect(parseHlsPath('live/demo/index.m3u8')).toEqual({ broadcast: 'live/demo', resource: { kind: 'multivariant' } });
    expect(parseHlsPath('live/demo/video/media.m3u8')).toEqual({ broadcast: 'live/demo', resource: { kind: 'media-playlist', track: 'video' } });
    expect(parseHlsPath('live/demo/legacy.m3u8')).toEqual({ broadcast: 'live/demo', resource: { kind: 'legacy-multivariant' } });
    expect(parseHlsPath('live/demo/legacy-media.m3u8')).toEqual({ broadcast: 'live/demo', resource: { kind: 'legacy-media' } });
    expect(parseHlsPath('live/demo/legacy-ab12-7.ts')).toEqual({ broadcast: 'live/demo', resource: { kind: 'legacy-segment', session: 'ab12', msn: 7 } });
    expect(parseHlsPath('legacy.m3u8')).toBeUndefined();
    const base = 'a/b/c/video/';
    expect(parseHlsPath(base + hlsUri.init('abc1', 2))!.resource).toEqual({ kind: 'init', track: 'video', session: 'abc1', version: 2 });
    expect(parseHlsPath(base + hlsUri.segment('abc1', 17))!.resource).toEqual({ kind: 'segment', track: 'video', session: 'abc1', msn: 17 });
    expect(parseHlsPath(base + hlsUri.part('abc1', 17, 3))!.resource).toEqual({ kind: 'part', track: 'video', session: 'abc1', msn: 17, part: 3 });
  });

  it('encodes track names that are not URL tokens', () => {
    for (const name of ['hd/video', 'ünïcode', 'index', '~x', '.hidden']) {
      const segment = trackPathSegment(name);
      expect(segment).not.toContain('/');
      expect(parseHlsPath(`live/x/${segment}/media.m3u8`)).toEqual({ broadcast: 'live/x', resource: { kind: 'media-playlist', track: name } });
    }
  });

  it('rejects what is not ours', () => {
    for (const path of ['', 'index.m3u8', 'live/video/x.ts', 'live/video/abc-1.2.3.m4s', 'video/media.m3u8']) expect(parseHlsPath(path)).toBeUndefined();
  });
});

describe('PlaylistWindow', () => {
  it('slides: lists the newest segments, keeps three target durations, retires a few more', () => {
    const w = window({ segmentWindow: 3 });
    fill(w, 8);
    expect(w.segments.map((s) => s.msn)).toEqual([5, 6, 7]);
    expect(w.segment(4)).toBeDefined(); // recently retired, still served
    expect(w.segment(2)).toBeUndefined();
    const short = window({ segmentWindow: 2 });
    fill(short, 8, 2, 0.25); // 0.5 s segments: three target durations (3 s) need 6 of them
    expect(short.segments.length).toBe(6);
  });

  it('is bounded in bytes', () => {
    const w = window({ segmentWindow: 50, maxBytes: 10_000 });
    fill(w, 40, 4, 0.25, 1000);
    expect(w.byteLength).toBeLessThanOrEqual(10_000);
    expect(w.segments.length).toBeGreaterThanOrEqual(2);
  });

  it('knows what a blocking request waits for', () => {
    const w = window();
    fill(w, 2);
    w.beginSegment({ msn: 2, startUs: 0, discontinuity: false, initVersion: 1 });
    w.addPart({ duration: 0.25, independent: true, bytes: new Uint8Array(1) });
    expect(w.satisfies(2, 0)).toBe(true);
    expect(w.satisfies(2, 1)).toBe(false);
    expect(w.satisfies(2, undefined)).toBe(false);
    expect(w.mayStillAppear(2, 1)).toBe(true);
    expect(w.mayStillAppear(3, 0)).toBe(true);
    expect(w.mayStillAppear(4, 0)).toBe(false);
    w.completeSegment();
    expect(w.satisfies(2, 1)).toBe(false); // needs the next segment's first part
    expect(w.mayStillAppear(2, 1)).toBe(false); // the segment ended with one part
    w.end();
    expect(w.satisfies(9, 9)).toBe(true);
  });

  it('renders parts near the live edge, a preload hint, discontinuities with their map', () => {
    const w = window({ segmentWindow: 10 });
    fill(w, 5);
    w.setInit(2, new Uint8Array(8));
    w.beginSegment({ msn: 5, startUs: 5_000_000, discontinuity: true, initVersion: 2 });
    w.addPart({ duration: 0.25, independent: true, bytes: new Uint8Array(1) });
    const text = renderMediaPlaylist(w, { session: 's1', wallClockMs: (us) => us / 1000, reports: [{ track: 'audio', lastMsn: 5, lastPart: 0 }] });
    const p = parseMediaPlaylist(text);
    expect(p.segments.map((s) => s.parts.length)).toEqual([0, 0, 4, 4, 4, 1]);
    expect(p.segments[5]).toMatchObject({ discontinuity: true, map: 's1-init2.mp4' });
    expect(p.segments[4]!.map).toBe('s1-init1.mp4');
    expect(p.preloadHint).toBe('s1-5.1.m4s');
    expect(p.renditionReports).toEqual([{ URI: '../audio/media.m3u8', 'LAST-MSN': '5', 'LAST-PART': '0' }]);
    w.end();
    const ended = parseMediaPlaylist(renderMediaPlaylist(w, { session: 's1', wallClockMs: () => 0, reports: [] }));
    expect(ended.endList).toBe(true);
    expect(ended.preloadHint).toBeUndefined();
  });
});

describe('Segmenter with a leader and a follower', () => {
  const options: SegmenterOptions = { trackId: 1, partTargetUs: 300_000, leaderPartUs: 270_000, minSegmentUs: 1_000_000, firstSegmentMaxUs: 6_000_000 };
  const videoSample = (frame: number, gop: number): TimedSample => ({
    dts: frame * 3000,
    duration: 3000,
    compositionOffset: 0,
    keyframe: frame % gop === 0,
    groupStart: frame % gop === 0,
    timeUs: Math.round((frame * 1e6) / 30),
    data: new Uint8Array(10),
  });
  const audioSample = (i: number): TimedSample => ({
    dts: i * 1024,
    duration: 1024,
    compositionOffset: 0,
    keyframe: true,
    groupStart: false,
    timeUs: Math.round((i * 1024 * 1e6) / 48000),
    data: new Uint8Array(4),
  });

  it('cuts segments at GOPs, merges short GOPs, keeps every part under PART-TARGET, aligns audio', () => {
    const schedule = new CutSchedule();
    schedule.setLeaderActive(true);
    const videoWindow = window({ segmentWindow: 100 });
    const audioWindow = window({ segmentWindow: 100 });
    const video = new Segmenter(videoWindow, { kind: 'leader', schedule }, options);
    const audio = new Segmenter(audioWindow, { kind: 'follower', schedule }, options);
    video.restart(1, false, 90_000);
    audio.restart(1, false, 48_000);
    const gate = new FollowerGate(schedule, (s, forced) => audio.push(s, forced));
    let a = 0;
    for (let f = 0; f < 300; f++) {
      video.push(videoSample(f, 15)); // half-second GOPs: two per segment
      const batch: TimedSample[] = [];
      while (audioSample(a).timeUs < videoSample(f, 15).timeUs) batch.push(audioSample(a++));
      gate.push(batch);
    }
    video.finish();
    gate.flush();
    audio.finish();
    gate.close();
    const complete = (w: PlaylistWindow) => w.segments.filter((s) => s.complete);
    expect(videoWindow.targetDuration).toBe(1);
    for (const s of complete(videoWindow).slice(0, -1)) expect(s.duration).toBeCloseTo(1, 5);
    for (const w of [videoWindow, audioWindow]) {
      for (const s of w.segments) for (const p of s.parts) expect(p.duration).toBeLessThanOrEqual(0.3);
    }
    const audioBySn = new Map(complete(audioWindow).map((s) => [s.msn, s]));
    for (const v of complete(videoWindow).slice(0, -1)) {
      const twin = audioBySn.get(v.msn)!;
      expect(Math.abs(twin.startUs - v.startUs)).toBeLessThanOrEqual(21_334);
      expect(twin.parts.length).toBe(v.parts.length);
    }
    // Keyframes at the merged GOP boundary start independent parts.
    expect(complete(videoWindow)[1]!.parts.filter((p) => p.independent).length).toBe(2);
  });
});

describe('sample clocks', () => {
  it('audio: millisecond-rounded timestamps tile exactly; a real gap resynchronizes', () => {
    const clock = new SessionClock();
    const audio = new AudioSampleClock(clock, 48_000, () => 1024);
    const out: TimedSample[] = [];
    for (let i = 0; i < 20; i++) out.push(...audio.push(Math.round((i * 1024) / 48) * 1000, new Uint8Array(1), false)); // ms precision, as RTMP
    out.push(...audio.push(10_000_000, new Uint8Array(1), false));
    for (let i = 1; i < 20; i++) expect(out[i]!.dts - out[i - 1]!.dts).toBe(1024);
    expect(out[20]!.dts - out[19]!.dts).toBeGreaterThan(400_000);
  });

  it('video: rebuilt DTS, keyframe offset 0, B-frames negative, durations from the next DTS', () => {
    const clock = new SessionClock();
    const video = new VideoSampleClock(clock, 2, 27_000);
    const frameUs = 1e6 / 30;
    const pts = [0, 3, 1, 2, 6, 4, 5, 7];
    const out: TimedSample[] = [];
    for (const [i, p] of pts.entries()) out.push(...video.push(Math.round(p * frameUs), new Uint8Array(1), i === 0));
    out.push(...video.flush());
    expect(out).toHaveLength(8);
    expect(out[0]!.compositionOffset).toBe(0);
    expect(out.map((s) => s.compositionOffset / 3000)).toEqual([0, 2, -1, -1, 2, -1, -1, 0]);
    expect(out.every((s) => s.duration === 3000)).toBe(true);
  });
});

describe('RelayTrackReader', () => {
  it('reads groups in order and leaves a group its publisher never closed once a newer one starts', async () => {
    const track = new Track('t');
    const reader = new RelayTrackReader(track.subscribe());
    const g0 = track.appendGroup();
    g0.writeFrame(Uint8Array.of(1));
    expect(await reader.next()).toMatchObject({ groupSequence: 0, index: 0 });
    const pending = reader.next();
    const g1 = track.appendGroup(); // g0 left open
    g1.writeFrame(Uint8Array.of(2));
    expect(await pending).toMatchObject({ groupSequence: 1, index: 0 });
    track.close();
    expect(await reader.next()).toBeUndefined();
  });
});

describe('ResubscribingReader', () => {
  it('subscribes again when the publisher ends the track but not the broadcast, until closed or the broadcast ends', async () => {
    const broadcast = new Broadcast('live/x');
    const first = broadcast.createTrack('video');
    const reader = new ResubscribingReader(broadcast, 'video', 60);
    first.appendGroup().writeFrame(Uint8Array.of(1));
    expect(await reader.next()).toMatchObject({ index: 0, bytes: Uint8Array.of(1) });
    // @moq/publish at a resize: the track ends, a new one of the same name follows.
    const pending = reader.next();
    broadcast.removeTrack('video');
    const second = broadcast.createTrack('video');
    second.appendGroup().writeFrame(Uint8Array.of(2));
    reader.wake(); // the catalog lists it again
    expect(await pending).toMatchObject({ index: 0, bytes: Uint8Array.of(2) });
    expect(reader.resubscriptions).toBe(1);
    // No track at all: it keeps trying (pausing) until closed, then answers undefined at once.
    broadcast.removeTrack('video');
    const waiting = reader.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    reader.close();
    expect(await waiting).toBeUndefined();
    // The broadcast's end ends a reader too.
    const other = new ResubscribingReader(broadcast, 'audio', 80);
    const ending = other.next();
    broadcast.close();
    expect(await ending).toBeUndefined();
  });
});
