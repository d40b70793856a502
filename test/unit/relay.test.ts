import { describe, expect, it } from 'vitest';
import { Broadcast, Group, Origin, RelayError, Track } from '../../src/relay/index.ts';

const bytes = (...values: number[]) => new Uint8Array(values);

async function readAll(group: import('../../src/relay/index.ts').Group): Promise<number[][]> {
  const reader = group.reader();
  const frames: number[][] = [];
  for (let frame = await reader.readFrame(); frame; frame = await reader.readFrame()) frames.push([...frame]);
  return frames;
}

describe('relay core', () => {
  it('delivers groups and frames in order, byte-exact, and ends cleanly', async () => {
    const track = new Track('video');
    const sub = track.subscribe();
    const g0 = track.appendGroup();
    g0.writeFrame(bytes(1, 2));
    g0.writeFrame(bytes(3));
    g0.close();
    const g1 = track.appendGroup();
    g1.writeFrame(bytes(4));
    g1.close();
    track.close();

    const first = await sub.nextGroup();
    expect(first?.sequence).toBe(0);
    expect(await readAll(first!)).toEqual([[1, 2], [3]]);
    const second = await sub.nextGroup();
    expect(second?.sequence).toBe(1);
    expect(await readAll(second!)).toEqual([[4]]);
    expect(await sub.nextGroup()).toBeUndefined();
  });

  it('a late joiner starts at the latest group, from its first frame', async () => {
    const track = new Track('video');
    for (let i = 0; i < 5; i++) {
      const g = track.appendGroup();
      g.writeFrame(bytes(i, 0));
      g.writeFrame(bytes(i, 1));
      if (i < 4) g.close();
    }
    const late = track.subscribe();
    const group = await late.nextGroup();
    expect(group?.sequence).toBe(4);
    const reader = group!.reader();
    expect([...(await reader.readFrame())!]).toEqual([4, 0]);
    expect([...(await reader.readFrame())!]).toEqual([4, 1]);
  });

  it('a stalled subscriber loses old groups, stays bounded, and does not delay another', async () => {
    const track = new Track('video', { maxPendingGroups: 2 });
    const stalled = track.subscribe();
    const live = track.subscribe();
    const received: number[] = [];
    const reading = (async () => {
      for (let g = await live.nextGroup(); g; g = await live.nextGroup()) received.push(g.sequence);
    })();
    for (let i = 0; i < 50; i++) {
      const g = track.appendGroup();
      g.writeFrame(new Uint8Array(1000));
      g.close();
      await Promise.resolve();
      await Promise.resolve();
    }
    track.close();
    await reading;
    expect(received).toEqual([...Array(50).keys()]);
    expect(stalled.pendingGroups).toBeLessThanOrEqual(2);
    expect(stalled.droppedGroups).toBe(48);
    // What the stalled one still gets is the newest.
    expect((await stalled.nextGroup())?.sequence).toBe(48);
  });

  it('newestFirst skips to the live edge', async () => {
    const track = new Track('video');
    const sub = track.subscribe();
    for (let i = 0; i < 3; i++) track.appendGroup().close();
    expect((await sub.nextGroup({ newestFirst: true }))?.sequence).toBe(2);
    expect(sub.droppedGroups).toBe(2);
  });

  it('cache keeps at most the current and previous group and respects its byte bound', () => {
    const track = new Track('video', { cacheBytes: 1500 });
    for (let i = 0; i < 4; i++) {
      const g = track.appendGroup();
      g.writeFrame(new Uint8Array(1000));
      g.close();
    }
    expect(track.cachedGroups().map((g) => g.sequence)).toEqual([3]);
    const roomy = new Track('audio', { cacheBytes: 1 << 20 });
    for (let i = 0; i < 4; i++) roomy.appendGroup().close();
    expect(roomy.cachedGroups().map((g) => g.sequence)).toEqual([2, 3]);
  });

  it('an oversized group is aborted instead of growing without bound', async () => {
    const track = new Track('video', { maxGroupBytes: 10 });
    const sub = track.subscribe();
    const g = track.appendGroup();
    g.writeFrame(new Uint8Array(8));
    expect(() => g.writeFrame(new Uint8Array(8))).toThrow(RelayError);
    const got = await sub.nextGroup();
    const reader = got!.reader();
    await reader.readFrame();
    await expect(reader.readFrame()).rejects.toThrow(/exceeds/);
  });

  it('publisher abort ends subscriptions with the error', async () => {
    const broadcast = new Broadcast('live/demo');
    const track = broadcast.createTrack('video');
    const sub = broadcast.subscribe('video')!;
    track.appendGroup().writeFrame(bytes(1));
    broadcast.abort(new RelayError('publisher gone', 0x10));
    const group = await sub.nextGroup();
    const reader = group!.reader();
    await expect(reader.readFrame()).resolves.toEqual(bytes(1));
    await expect(reader.readFrame()).rejects.toThrow('publisher gone');
    await expect(sub.nextGroup()).rejects.toThrow('publisher gone');
  });

  it('on-demand tracks: one upstream per track, shared, dropped when the last subscriber leaves', async () => {
    const requests: string[] = [];
    const broadcast = new Broadcast('remote/a', {
      onTrackRequest: (name) => {
        requests.push(name);
        return name === 'missing' ? undefined : new Track(name);
      },
    });
    const subs = Array.from({ length: 20 }, () => broadcast.subscribe('video')!);
    expect(requests).toEqual(['video']);
    expect(broadcast.subscribe('missing')).toBeUndefined();
    const upstream = broadcast.getTrack('video')!;
    for (const s of subs) s.close();
    expect(upstream.ended).toBe(true);
    broadcast.subscribe('video');
    expect(requests).toEqual(['video', 'missing', 'video']);
  });

  it('counts subscribers by owner across tracks, and the bytes every group received', () => {
    const broadcast = new Broadcast('live/x');
    const video = broadcast.createTrack('video');
    broadcast.createTrack('audio');
    const viewer = {};
    const a = broadcast.subscribe('video', 0, viewer)!;
    broadcast.subscribe('audio', 0, viewer);
    const anonymous = broadcast.subscribe('audio')!;
    expect(broadcast.subscriberOwners()).toEqual(new Set([viewer, anonymous]));
    a.close();
    expect(broadcast.subscriberOwners().size).toBe(2); // still on audio
    const g0 = video.appendGroup();
    g0.writeFrame(bytes(1, 2, 3));
    g0.close();
    // A late (older) group is counted too, though it is not cached.
    video.appendGroup(5).writeFrame(bytes(4));
    video.appendGroup(2).writeFrame(bytes(5, 6));
    expect(video.bytesReceived).toBe(6);
  });

  it('origin announces by segment prefix and refuses duplicates', async () => {
    const origin = new Origin();
    const a = new Broadcast('live/a');
    origin.publish(a);
    const watcher = origin.watch('live');
    const other = origin.watch('lively');
    expect(await watcher.next()).toEqual({ path: 'live/a', active: true });
    expect(() => origin.publish(new Broadcast('live/a'))).toThrow(/already published/);
    origin.publish(new Broadcast('lively/x'));
    const b = new Broadcast('live/b');
    origin.publish(b);
    expect(await watcher.next()).toEqual({ path: 'live/b', active: true });
    a.close();
    await a.closed();
    await Promise.resolve();
    expect(await watcher.next()).toEqual({ path: 'live/a', active: false });
    expect(origin.get('live/a')).toBeUndefined();
    expect(origin.get('/live/b/')).toBe(b);
    expect(await other.next()).toEqual({ path: 'lively/x', active: true });
    watcher.close();
    expect(await watcher.next()).toBeUndefined();
  });

  it('group listeners are called synchronously on each frame and at the end, then forgotten', () => {
    const group = new Group(0);
    const events: string[] = [];
    const listener = { onFrame: () => events.push(`frame ${group.frames.length}`), onEnd: () => events.push(`end ${group.error?.code ?? 'ok'}`) };
    const gone = { onFrame: () => events.push('gone'), onEnd: () => events.push('gone') };
    group.listen(listener);
    group.listen(gone);
    group.unlisten(gone);
    group.writeFrame(bytes(1));
    group.writeFrame(bytes(2));
    expect(events).toEqual(['frame 1', 'frame 2']);
    group.abort(new RelayError('evicted', 7));
    group.abort(new RelayError('again', 8));
    expect(events).toEqual(['frame 1', 'frame 2', 'end 7']);
    group.listen(listener); // a done group takes no listeners
    expect(events).toHaveLength(3);
  });
});
