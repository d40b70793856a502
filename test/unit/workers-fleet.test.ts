/**
 * Under --workers N any worker answers the API for all (app/workers/fleet-api.ts) through the
 * supervisor's relay (app/workers/fleet-relay.ts), which also sums per-address session counts.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiBroadcast, ApiSession } from '../../src/http/api-types.ts';
import { mergeBroadcasts, mergeSessions } from '../../app/workers/fleet-api.ts';
import { FleetRelay } from '../../app/workers/fleet-relay.ts';

const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 0, 0, s)).toISOString();

function broadcast(path: string, subscribers: Record<string, number>, publisher?: string, viewers?: number): ApiBroadcast {
  const tracks = Object.entries(subscribers).map(([name, n]) => ({ name, kind: publisher ? 'video' : 'unknown', codec: publisher ? 'avc1.64001f' : 'unknown', bitrate: publisher ? 1000 : 0, subscribers: n }));
  return {
    path,
    tracks,
    publisher: publisher ? { protocol: publisher, remoteAddress: '192.0.2.1', connected: true } : { protocol: 'cluster', remoteAddress: '', connected: true },
    viewers: viewers ?? Math.max(0, ...tracks.map((t) => t.subscribers)),
    startedAt: at(0),
    uptimeSeconds: 1,
  };
}

describe('mergeBroadcasts', () => {
  it("counts each relayed copy's viewers and not the upstream link it holds on the owner", () => {
    // Owner: 2 viewers of video + 1 link from worker 1; worker 1: 3 viewers of video, 1 of audio.
    const merged = mergeBroadcasts([
      { worker: 0, broadcasts: [broadcast('live/a', { video: 3, audio: 1 }, 'rtmp')] },
      { worker: 1, broadcasts: [broadcast('live/a', { video: 3, audio: 1 })] },
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ path: 'live/a', worker: 0, viewers: 5, publisher: { protocol: 'rtmp' } });
    expect(merged[0]!.tracks).toEqual([
      { name: 'video', kind: 'video', codec: 'avc1.64001f', bitrate: 1000, subscribers: 5 },
      { name: 'audio', kind: 'video', codec: 'avc1.64001f', bitrate: 1000, subscribers: 1 },
    ]);
  });

  it('adds up copies relayed from another node (no owner among the workers), and keeps broadcasts only one worker holds', () => {
    const merged = mergeBroadcasts([
      { worker: 0, broadcasts: [broadcast('remote/x', { video: 2 }), broadcast('live/only0', { video: 1 }, 'whip')] },
      { worker: 1, broadcasts: [broadcast('remote/x', { video: 4 })] },
    ]);
    const byPath = new Map(merged.map((b) => [b.path, b]));
    expect(byPath.get('remote/x')).toMatchObject({ viewers: 6 });
    expect(byPath.get('remote/x')!.worker).toBeUndefined();
    expect(byPath.get('live/only0')).toMatchObject({ viewers: 1, worker: 0 });
  });

  it('adds up sessions, not the busiest track: a video-only and an audio-only viewer are two', () => {
    // Worker 1: one viewer of video, another of audio; the owner: only the link, on both tracks.
    const merged = mergeBroadcasts([
      { worker: 0, broadcasts: [broadcast('live/a', { video: 1, audio: 1 }, 'rtmp', 1)] },
      { worker: 1, broadcasts: [broadcast('live/a', { video: 1, audio: 1 }, undefined, 2)] },
    ]);
    expect(merged[0]).toMatchObject({ viewers: 2, worker: 0 });
  });

  it('never goes below zero when a link outlives its last viewer', () => {
    const merged = mergeBroadcasts([
      { worker: 1, broadcasts: [broadcast('live/a', { video: 0 })] },
      { worker: 0, broadcasts: [broadcast('live/a', { video: 0 }, 'rtmp')] },
    ]);
    expect(merged[0]).toMatchObject({ viewers: 0, worker: 0, publisher: { protocol: 'rtmp' } });
  });
});

describe('mergeSessions', () => {
  it('lists every worker’s sessions by start time and keeps the latest 100 closed', () => {
    const session = (id: number, s: number, worker: number): ApiSession => ({ id, protocol: 'moq-lite-04', transport: 'quic', remoteAddress: '192.0.2.2', startedAt: at(s), worker });
    const closed = (id: number, s: number) => ({ ...session(id, 0, id % 2), closedAt: at(s), reason: '' });
    const merged = mergeSessions([
      { sessions: [session(1, 5, 0), session(3, 1, 0)], closed: Array.from({ length: 80 }, (_, i) => closed(2 * i + 1, i)) },
      { sessions: [session(2, 3, 1)], closed: Array.from({ length: 80 }, (_, i) => closed(2 * i + 2, i + 0.5)) },
    ]);
    expect(merged.sessions.map((s) => s.id)).toEqual([3, 2, 1]);
    expect(merged.closed).toHaveLength(100);
    expect(merged.closed.at(-1)!.id).toBe(160);
    expect(merged.closed.map((c) => c.closedAt)).toEqual([...merged.closed.map((c) => c.closedAt)].sort());
  });
});

/** A forked worker as the supervisor sees it: what it was sent. */
function fakeWorker(): ChildProcess & { sent: unknown[] } {
  const sent: unknown[] = [];
  return { connected: true, sent, send: (message: unknown, callback?: (error: Error | null) => void) => (sent.push(message), callback?.(null), true) } as unknown as ChildProcess & { sent: unknown[] };
}

describe('FleetRelay', () => {
  afterEach(() => vi.useRealTimers());

  it("forwards a question to every other worker and hands back their answers; a silent worker is left out after 1 s", () => {
    vi.useFakeTimers();
    const workers = [fakeWorker(), fakeWorker(), fakeWorker()];
    const relay = new FleetRelay((index) => workers[index], 3);
    expect(relay.handle(0, { type: 'fleet-ask', id: 7, query: { kind: 'api-sessions' } })).toBe(true);
    expect(workers[0]!.sent).toEqual([]);
    const query = workers[1]!.sent[0] as { type: string; id: number };
    expect(query).toMatchObject({ type: 'fleet-query', query: { kind: 'api-sessions' } });
    expect(workers[2]!.sent[0]).toEqual(query);
    relay.handle(1, { type: 'fleet-answer', id: query.id, answer: { from: 1 } });
    relay.handle(1, { type: 'fleet-answer', id: query.id, answer: { from: 'again' } }); // only one answer per worker
    expect(workers[0]!.sent).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(workers[0]!.sent).toEqual([{ type: 'fleet-answers', id: 7, answers: [{ from: 1 }] }]);
    expect(relay.handle(0, { type: 'something-else' })).toBe(false);
  });

  it('answers at once when the last awaited worker answers or dies', () => {
    const workers = [fakeWorker(), fakeWorker(), fakeWorker()];
    const relay = new FleetRelay((index) => workers[index], 3);
    relay.handle(2, { type: 'fleet-ask', id: 1, query: { kind: 'kick-session', id: 4 } });
    const { id } = workers[0]!.sent[0] as { id: number };
    relay.handle(0, { type: 'fleet-answer', id, answer: true });
    relay.workerGone(1);
    expect(workers[2]!.sent).toEqual([{ type: 'fleet-answers', id: 1, answers: [true] }]);
  });

  it("tells each worker how many sessions the others hold per address, and forgets a dead worker's", () => {
    const workers = [fakeWorker(), fakeWorker(), fakeWorker()];
    const relay = new FleetRelay((index) => workers[index], 3);
    relay.handle(0, { type: 'limit-count', address: '192.0.2.9', count: 2 });
    relay.handle(1, { type: 'limit-count', address: '192.0.2.9', count: 1 });
    expect(workers[2]!.sent.at(-1)).toEqual({ type: 'limit-others', address: '192.0.2.9', count: 3 });
    expect(workers[0]!.sent.at(-1)).toEqual({ type: 'limit-others', address: '192.0.2.9', count: 1 });
    expect(workers[1]!.sent.at(-1)).toEqual({ type: 'limit-others', address: '192.0.2.9', count: 2 });
    expect(relay.limitsFor(2)).toEqual([{ type: 'limit-others', address: '192.0.2.9', count: 3 }]);
    relay.workerGone(0);
    expect(workers[2]!.sent.at(-1)).toEqual({ type: 'limit-others', address: '192.0.2.9', count: 1 });
    relay.handle(1, { type: 'limit-count', address: '192.0.2.9', count: 0 });
    expect(relay.limitsFor(2)).toEqual([]);
  });
});
