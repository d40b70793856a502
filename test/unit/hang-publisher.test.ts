import { afterEach, describe, expect, it, vi } from 'vitest';
import { Origin, type Group, type TrackSubscription } from '../../src/relay/index.ts';
import { PublisherRegistry, PublishRefusedError } from '../../src/media/publishers.ts';
import { CATALOG_TRACK, parseCatalog } from '../../src/media/hang/catalog.ts';
import { decodeLegacyFrame, encodeLegacyFrame } from '../../src/media/hang/container.ts';
import type { MediaFrame, TrackInfo } from '../../src/media/frame.ts';

const video: TrackInfo = { kind: 'video', codec: 'avc1.64001f', description: new Uint8Array([1, 0x64, 0, 0x1f]), codedWidth: 320, codedHeight: 240 };
const audio: TrackInfo = { kind: 'audio', codec: 'mp4a.40.2', description: new Uint8Array([0x11, 0x90]), sampleRate: 48000, numberOfChannels: 2 };
const frame = (timestamp: number, keyframe: boolean, byte = 0, compositionOffset = 0): MediaFrame => ({
  timestamp,
  keyframe,
  compositionOffset,
  payload: new Uint8Array([byte]),
});

async function drainGroup(group: Group) {
  const reader = group.reader();
  const out: { timestamp: number; payload: number[] }[] = [];
  for (let f = reader.tryReadFrame(); f; f = reader.tryReadFrame()) {
    const decoded = decodeLegacyFrame(f);
    out.push({ timestamp: decoded.timestamp, payload: [...decoded.payload] });
  }
  return out;
}

async function groups(sub: TrackSubscription, count: number) {
  const out: Group[] = [];
  while (out.length < count) out.push((await sub.nextGroup())!);
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('hang container', () => {
  it('round-trips the varint µs timestamp and payload', () => {
    for (const ts of [0, 63, 64, 16383, 16384, 2 ** 30, 2 ** 40]) {
      const decoded = decodeLegacyFrame(encodeLegacyFrame(ts, new Uint8Array([9, 8])));
      expect(decoded.timestamp).toBe(ts);
      expect([...decoded.payload]).toEqual([9, 8]);
    }
  });
});

describe('hang broadcast writer', () => {
  it('publishes a catalog and one group per GOP with presentation timestamps', async () => {
    const origin = new Origin();
    const registry = new PublisherRegistry(origin, { reconnectGraceMs: 0 });
    const sink = registry.open('live/demo', { protocol: 'test', remoteAddress: '127.0.0.1' });
    sink.setTrack('video', video);
    sink.setTrack('audio', audio);

    const broadcast = origin.get('live/demo')!;
    const catalogSub = broadcast.subscribe(CATALOG_TRACK)!;
    const catalogGroup = (await catalogSub.nextGroup())!;
    const tracks = parseCatalog((await catalogGroup.reader().readFrame())!);
    expect(tracks.get('video')).toMatchObject({ kind: 'video', codec: 'avc1.64001f', codedWidth: 320, codedHeight: 240 });
    expect([...(tracks.get('video') as { description: Uint8Array }).description]).toEqual([1, 0x64, 0, 0x1f]);
    expect(tracks.get('audio')).toMatchObject({ kind: 'audio', codec: 'mp4a.40.2', sampleRate: 48000, numberOfChannels: 2 });

    const videoSub = broadcast.subscribe('video')!;
    sink.writeFrame('video', frame(0, false, 9)); // before any keyframe: dropped
    sink.writeFrame('video', frame(0, true, 1, 66_000));
    sink.writeFrame('video', frame(33_000, false, 2, 99_000));
    sink.writeFrame('video', frame(66_000, true, 3));
    const [g0, g1] = await groups(videoSub, 2);
    expect(g0!.done).toBe(true);
    expect(await drainGroup(g0!)).toEqual([
      { timestamp: 66_000, payload: [1] },
      { timestamp: 132_000, payload: [2] },
    ]);
    expect(await drainGroup(g1!)).toEqual([{ timestamp: 66_000, payload: [3] }]);
  });

  it('a new codec description starts a new group at the next keyframe and republishes the catalog', async () => {
    const origin = new Origin();
    const registry = new PublisherRegistry(origin);
    const sink = registry.open('live/sps', { protocol: 'test', remoteAddress: '' });
    sink.setTrack('video', video);
    const broadcast = origin.get('live/sps')!;
    const sub = broadcast.subscribe('video')!;
    sink.writeFrame('video', frame(0, true, 1));
    sink.writeFrame('video', frame(1000, false, 2));
    sink.setTrack('video', { ...video, codedWidth: 640, codedHeight: 480 });
    sink.writeFrame('video', frame(2000, false, 3)); // not a keyframe: must wait
    sink.writeFrame('video', frame(3000, true, 4));
    const [g0, g1] = await groups(sub, 2);
    expect((await drainGroup(g0!)).map((f) => f.payload[0])).toEqual([1, 2]);
    expect((await drainGroup(g1!)).map((f) => f.payload[0])).toEqual([4]);
    const catalog = parseCatalog(broadcast.getTrack(CATALOG_TRACK)!.latest!.frames[0]!);
    expect(catalog.get('video')).toMatchObject({ codedWidth: 640 });
  });

  it('publishes a changed description with the group it starts, not before (issue 24.3)', () => {
    const origin = new Origin();
    const sink = new PublisherRegistry(origin).open('live/order', { protocol: 'test', remoteAddress: '' });
    sink.setTrack('video', video);
    const broadcast = origin.get('live/order')!;
    const catalogTrack = broadcast.getTrack(CATALOG_TRACK)!;
    const joinPoint = () => ({
      width: (parseCatalog(catalogTrack.latest!.frames[0]!).get('video') as { codedWidth: number }).codedWidth,
      group: broadcast.getTrack('video')!.latest?.sequence,
    });
    sink.writeFrame('video', frame(0, true, 1));
    sink.writeFrame('video', frame(1000, false, 2));
    expect(joinPoint()).toEqual({ width: 320, group: 0 });
    const catalogs = catalogTrack.latestSequence;
    // The new description arrives ahead of its keyframe: a viewer joining now still starts at
    // group 0, so the catalog must still describe group 0.
    sink.setTrack('video', { ...video, codedWidth: 640, codedHeight: 480 });
    expect(joinPoint()).toEqual({ width: 320, group: 0 });
    sink.writeFrame('video', frame(2000, false, 3)); // dropped: a new description starts at a keyframe
    expect(joinPoint()).toEqual({ width: 320, group: 0 });
    sink.writeFrame('video', frame(3000, true, 4));
    expect(joinPoint()).toEqual({ width: 640, group: 1 });
    expect(catalogTrack.latestSequence).toBe(catalogs + 1);
    // Changed and changed back before a keyframe: no new catalog.
    sink.setTrack('video', { ...video, codedWidth: 160, codedHeight: 120 });
    sink.setTrack('video', { ...video, codedWidth: 640, codedHeight: 480 });
    sink.writeFrame('video', frame(4000, true, 5));
    expect(joinPoint()).toEqual({ width: 640, group: 2 });
    expect(catalogTrack.latestSequence).toBe(catalogs + 1);
  });

  it('groups audio by duration', async () => {
    const origin = new Origin();
    const sink = new PublisherRegistry(origin).open('live/a', { protocol: 'test', remoteAddress: '' });
    sink.setTrack('audio', audio);
    const sub = origin.get('live/a')!.subscribe('audio')!;
    for (let i = 0; i < 50; i++) sink.writeFrame('audio', frame(i * 21_333, true, i));
    const [g0, g1] = await groups(sub, 2);
    expect(g0!.frames.length).toBe(24); // 24 × 21.333 ms ≥ 500 ms
    expect(g1!.sequence).toBe(1);
  });

  it('refuses a second publisher, or hands over with takeover', () => {
    const origin = new Origin();
    const registry = new PublisherRegistry(origin);
    registry.open('live/x', { protocol: 'rtmp', remoteAddress: 'a' });
    expect(() => registry.open('live/x', { protocol: 'rtmp', remoteAddress: 'b' })).toThrow(PublishRefusedError);

    const takeover = new PublisherRegistry(new Origin(), { takeover: true });
    const terminated: string[] = [];
    takeover.open('live/y', { protocol: 'rtmp', remoteAddress: 'a' }, (reason) => terminated.push(reason));
    takeover.open('live/y', { protocol: 'rtmp', remoteAddress: 'b' });
    expect(terminated).toEqual(['taken over by a new publisher']);
  });

  it('keeps the broadcast through a reconnect within the grace period, timestamps monotonic', async () => {
    vi.useFakeTimers();
    const origin = new Origin();
    const registry = new PublisherRegistry(origin, { reconnectGraceMs: 5000 });
    const first = registry.open('live/r', { protocol: 'rtmp', remoteAddress: '' });
    first.setTrack('video', video);
    const broadcast = origin.get('live/r')!;
    const sub = broadcast.subscribe('video')!;
    first.writeFrame('video', frame(0, true, 1));
    first.writeFrame('video', frame(40_000, false, 2));
    first.close('socket closed');
    vi.advanceTimersByTime(3000);
    expect(broadcast.ended).toBe(false);

    const second = registry.open('live/r', { protocol: 'rtmp', remoteAddress: '' });
    second.setTrack('video', video);
    second.writeFrame('video', frame(0, true, 3)); // the new encoder's clock restarts at 0
    const [g0, g1] = await groups(sub, 2);
    const t0 = await drainGroup(g0!);
    const t1 = await drainGroup(g1!);
    expect(t1[0]!.payload).toEqual([3]);
    expect(t1[0]!.timestamp).toBeGreaterThan(t0.at(-1)!.timestamp);
    expect(origin.get('live/r')).toBe(broadcast);

    second.close();
    vi.advanceTimersByTime(5001);
    expect(broadcast.ended).toBe(true);
    expect(await sub.nextGroup()).toBeUndefined();
  });
});
