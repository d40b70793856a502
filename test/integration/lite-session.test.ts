/**
 * moq-lite sessions end to end over an in-memory WebTransport pair: the reference client
 * (@moq/lite 0.2.2) against serveLiteSession for lite-02 (`moql` SETUP), lite-03 and lite-04,
 * plus raw-wire clients for the failure and slow-subscriber cases.
 */
import { afterEach, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import type QmuxSession from '@moq/qmux';
import { Broadcast, Origin, type Group, type TrackSubscription } from '../../src/relay/index.ts';
import { encodeSubscribe, encodeSubscribeUpdate, readSubscribeResponse } from '../../src/moq/lite/subscribe.ts';
import { encodeFetch } from '../../src/moq/lite/fetch.ts';
import type { WebTransportLike } from '../../src/moq/lite/web-transport.ts';
import { encodeClientSetup } from '../../src/moq/lite/setup-compat.ts';
import { LiteCloseCode } from '../../src/moq/lite/close-code.ts';
import { serveLiteSession, type LiteSession } from '../../src/moq/lite/session.ts';
import { LiteVersion } from '../../src/moq/lite/version.ts';
import { ByteWriter } from '../../src/wire/byte-writer.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';
import { memoryTransportPair, type MemoryTransport } from './lite-memory-transport.ts';

const text = (value: string) => new TextEncoder().encode(value);
const str = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));
const path = (value: string) => value as Moq.Path.Valid;

/** Fails a hung await with a clear message instead of the test timeout. */
async function within<T>(promise: Promise<T>, what: string, ms = 3000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function readGroup(group: { readFrame(): Promise<Uint8Array | undefined> }): Promise<string[]> {
  const frames: string[] = [];
  for (;;) {
    const frame = await group.readFrame();
    if (!frame) return frames;
    frames.push(str(frame)!);
  }
}

interface Setup {
  origin: Origin;
  client: MemoryTransport;
  server: MemoryTransport;
  session: LiteSession;
}

// Compile-time (tsc checks it): native WebTransport and @moq/qmux sessions fit the session's transport type.
expectTypeOf<WebTransport>().toExtend<WebTransportLike>();
expectTypeOf<QmuxSession>().toExtend<WebTransportLike>();

beforeAll(() => {
  // The reference client logs every step; keep errors visible, drop the chatter.
  for (const level of ['debug', 'log', 'info', 'warn'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  // It also reports its own connection ending (our test cleanup) as an error.
  const error = console.error.bind(console);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    if (String(args[0]).startsWith('fatal error running connection')) return;
    error(...args);
  });
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function start(protocol: string, options: { root?: string; subscriberQueueBytes?: number; origin?: Origin } = {}): Setup {
  const origin = options.origin ?? new Origin();
  const [client, server] = memoryTransportPair(protocol);
  const session = serveLiteSession(server, {
    protocol,
    origin,
    root: options.root ?? '',
    limits: options.subscriberQueueBytes === undefined ? {} : { subscriberQueueBytes: options.subscriberQueueBytes },
  });
  cleanups.push(() => session.close());
  return { origin, client, server, session };
}

async function connectReference(client: MemoryTransport): Promise<Moq.Connection.Established> {
  const connection = await within(
    Moq.Connection.connect(new URL('http://localhost/'), { transport: client as unknown as WebTransport }),
    'reference client connect',
  );
  cleanups.push(() => connection.close());
  return connection;
}

const VERSIONS = [
  { protocol: 'moql', name: 'moq-lite-02', version: LiteVersion.Draft02 },
  { protocol: '', name: 'moq-lite-02', version: LiteVersion.Draft02 },
  { protocol: 'moq-lite-03', name: 'moq-lite-03', version: LiteVersion.Draft03 },
  { protocol: 'moq-lite-04', name: 'moq-lite-04', version: LiteVersion.Draft04 },
];

describe.each(VERSIONS)('reference client over protocol "$protocol"', ({ protocol, name, version }) => {
  it('negotiates the version', async () => {
    const { client, session } = start(protocol);
    const connection = await connectReference(client);
    expect(connection.version).toBe(name);
    expect(await within(session.ready, 'session ready')).toBe(version);
    expect(session.stats().version).toBe(name);
  });

  it('subscribes to a relay broadcast and receives groups, then a clean end', async () => {
    const { origin, client, session } = start(protocol, { root: 'live' });
    const broadcast = new Broadcast('live/demo');
    origin.publish(broadcast);
    const track = broadcast.createTrack('video', { priority: 2 });
    const first = track.appendGroup();
    first.writeFrame(text('k0'));
    first.writeFrame(text('d0'));

    const connection = await connectReference(client);
    // Paths are relative to the session root ('live').
    const remoteTrack = connection.consume(path('demo')).subscribe('video', 60);
    const g0 = await within(remoteTrack.nextGroupOrdered(), 'group 0');
    expect(g0?.sequence).toBe(0);
    first.writeFrame(text('d1'));
    first.close();
    expect(await within(readGroup(g0!), 'group 0 frames')).toEqual(['k0', 'd0', 'd1']);

    const second = track.appendGroup();
    second.writeFrame(text('k1'));
    second.close();
    const g1 = await within(remoteTrack.nextGroupOrdered(), 'group 1');
    expect(g1?.sequence).toBe(1);
    expect(await within(readGroup(g1!), 'group 1 frames')).toEqual(['k1']);
    expect(session.stats().subscriptions).toBe(1);
    expect(session.stats().groupsSent).toBeGreaterThanOrEqual(2);

    broadcast.close();
    expect(await within(remoteTrack.nextGroupOrdered(), 'end of track')).toBeUndefined();
    await until(() => session.stats().subscriptions === 0, 'subscription released');
  });

  it('streams announcements under a prefix (active, then ended)', async () => {
    const { origin, client } = start(protocol);
    const early = new Broadcast('live/early');
    origin.publish(early);
    origin.publish(new Broadcast('other/x'));
    const connection = await connectReference(client);
    const announced = connection.announced(path('live'));
    expect(await within(announced.next(), 'initial announcement')).toEqual({ path: 'live/early', active: true });

    const late = new Broadcast('live/late');
    origin.publish(late);
    expect(await within(announced.next(), 'new broadcast')).toEqual({ path: 'live/late', active: true });
    early.close();
    expect(await within(announced.next(), 'ended broadcast')).toEqual({ path: 'live/early', active: false });
  });

  it('publishes a client broadcast into the relay with one upstream per track', async () => {
    const { origin, client, session } = start(protocol, { root: 'room' });
    const connection = await connectReference(client);
    const published = new Moq.Broadcast();
    connection.publish(path('alice'), published);

    const watcher = origin.watch('room');
    expect(await within(watcher.next(), 'relay announcement')).toEqual({ path: 'room/alice', active: true });
    const relayBroadcast = origin.get('room/alice');
    expect(relayBroadcast).toBeDefined();

    const first = relayBroadcast!.subscribe('audio', 80)!;
    const second = relayBroadcast!.subscribe('audio', 80)!;
    const request = await within(published.requested(), 'upstream track request');
    expect(request?.track.name).toBe('audio');
    expect(session.stats().upstreamSubscriptions).toBe(1);

    const group = request!.track.appendGroup();
    group.writeFrame(text('opus-0'));
    group.writeFrame(text('opus-1'));
    group.close();
    for (const subscription of [first, second]) {
      const received = await within(subscription.nextGroup(), 'relay group');
      expect(received?.sequence).toBe(0);
      expect(await within(readGroup(received!.reader()), 'relay frames')).toEqual(['opus-0', 'opus-1']);
    }
    expect(session.stats().groupsReceived).toBe(1);

    // The publisher going away ends its broadcast cleanly for relay subscribers.
    connection.close();
    expect(await within(relayBroadcast!.closed(), 'broadcast end')).toBeUndefined();
    expect(await within(first.nextGroup(), 'track end')).toBeUndefined();
    expect(await within(watcher.next(), 'relay unannouncement')).toEqual({ path: 'room/alice', active: false });
    watcher.close();
  });

  it('ends the upstream subscription when the last relay subscriber leaves', async () => {
    const { origin, client, session } = start(protocol);
    const connection = await connectReference(client);
    const published = new Moq.Broadcast();
    connection.publish(path('bob'), published);
    await until(() => origin.get('bob') !== undefined, 'client broadcast published');

    const subscription = origin.get('bob')!.subscribe('video', 60)!;
    const request = await within(published.requested(), 'upstream request');
    expect(session.stats().upstreamSubscriptions).toBe(1);
    subscription.close();
    expect(await within(request!.track.closed, 'client track closed by unsubscribe')).toBeUndefined();
    await until(() => session.stats().upstreamSubscriptions === 0, 'upstream released');

    // A new subscriber asks the client again.
    origin.get('bob')!.subscribe('video', 60);
    const again = await within(published.requested(), 'second upstream request');
    expect(again?.track.name).toBe('video');
  });
});

/** Raw-wire helpers for cases the reference client cannot produce. */
async function openBidi(client: MemoryTransport, ...chunks: Uint8Array[]) {
  const stream = await client.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  for (const chunk of chunks) void writer.write(chunk).catch(() => undefined);
  return { reader: new StreamReader(stream.readable), writer };
}

function subscribeRequest(version: LiteVersion, id: number, broadcast: string, track: string, priority = 1): Uint8Array {
  const body = encodeSubscribe({ id, broadcast, track, priority, ordered: false, maxLatency: 0 }, version);
  return new ByteWriter().varint(2).bytes(body).finish();
}

describe('malformed input closes only that session', () => {
  it('a bad SUBSCRIBE closes the session with a ProtocolError reason', async () => {
    const origin = new Origin();
    const bystander = start('moq-lite-04', { origin });
    const victim = start('moq-lite-04', { origin });
    await openBidi(victim.client, Uint8Array.of(2, 3, 0xff, 0xff, 0xff));
    const info = await within(victim.session.closed, 'session closed');
    expect(info.code).toBe(LiteCloseCode.protocolViolation);
    expect(info.reason).toMatch(/unexpected-end|trailing|value-too-large/);
    expect(victim.client.isClosed).toBe(true);
    expect(bystander.client.isClosed).toBe(false);
  });

  it('an oversized control message is refused without reading it', async () => {
    const { client, session } = start('moq-lite-03');
    await openBidi(client, new ByteWriter().varint(2).varint(1_000_000).finish());
    const info = await within(session.closed, 'session closed');
    expect(info.reason).toMatch(/message-too-large/);
  });

  it('a CLIENT_SETUP without a lite version closes with unsupported-version', async () => {
    const { client, session } = start('moql');
    const setup = encodeClientSetup({ versions: [0xff00000e], parameters: { varints: new Map(), bytes: new Map() } });
    await openBidi(client, new ByteWriter().varint(0x20).bytes(setup).finish());
    const info = await within(session.closed, 'session closed');
    expect(info.code).toBe(LiteCloseCode.unsupportedVersion);
    expect(info.reason).toMatch(/0xff00000e/);
  });

  it('an unknown stream type resets only that stream on lite-03+', async () => {
    const { client, session } = start('moq-lite-04');
    const { reader } = await openBidi(client, Uint8Array.of(0x3f));
    await expect(within(reader.atEnd(), 'reset')).rejects.toThrow(/aborted/);
    expect(client.isClosed).toBe(false);
    expect(session.stats().version).toBe('moq-lite-04');
  });

  it('a SUBSCRIBE for an unknown broadcast is reset, the session lives on', async () => {
    const { client, session } = start('moq-lite-04');
    const { reader } = await openBidi(client, subscribeRequest(LiteVersion.Draft04, 0, 'nope', 'video'));
    await expect(within(reader.varint(), 'reset')).rejects.toThrow(/aborted/);
    expect(client.isClosed).toBe(false);
    expect(session.stats().subscriptions).toBe(0);
  });
});

describe('raw lite-04 requests', () => {
  it('SUBSCRIBE_UPDATE raises the send order of later groups', async () => {
    const { origin, client } = start('moq-lite-04');
    const broadcast = new Broadcast('b');
    origin.publish(broadcast);
    const track = broadcast.createTrack('t');
    const { reader, writer } = await openBidi(client, subscribeRequest(LiteVersion.Draft04, 1, 'b', 't', 10));
    await within(readSubscribeResponse(reader, LiteVersion.Draft04, 1024), 'SUBSCRIBE_OK');
    const unis = client.incomingUnidirectionalStreams.getReader();
    track.appendGroup().close();
    await within(unis.read(), 'group 0');
    await writer.write(encodeSubscribeUpdate({ priority: 200, ordered: false, maxLatency: 0 }, LiteVersion.Draft04));
    await new Promise((resolve) => setTimeout(resolve, 10));
    track.appendGroup().close();
    await within(unis.read(), 'group 1');
    const [low, high] = client.peer.sendOrders;
    expect(high! - low!).toBeGreaterThan(2 ** 40);
  });

  it('a client FIN unsubscribes and is answered with a FIN', async () => {
    const { origin, client, session } = start('moq-lite-04');
    const broadcast = new Broadcast('b');
    origin.publish(broadcast);
    broadcast.createTrack('t');
    const { reader, writer } = await openBidi(client, subscribeRequest(LiteVersion.Draft04, 1, 'b', 't'));
    await within(readSubscribeResponse(reader, LiteVersion.Draft04, 1024), 'SUBSCRIBE_OK');
    expect(session.stats().subscriptions).toBe(1);
    await writer.close();
    expect(await within(reader.atEnd(), 'FIN')).toBe(true);
    await until(() => session.stats().subscriptions === 0, 'released');
    expect(broadcast.tracks()[0]!.subscriberCount).toBe(0);
  });

  it('FETCH returns a cached group as frames, or resets', async () => {
    const { origin, client } = start('moq-lite-03');
    const broadcast = new Broadcast('b');
    origin.publish(broadcast);
    const track = broadcast.createTrack('t');
    const group = track.appendGroup();
    group.writeFrame(text('x'));
    group.writeFrame(text('yz'));
    group.close();
    const fetch = (sequence: number) =>
      new ByteWriter().varint(3).bytes(encodeFetch({ broadcast: 'b', track: 't', priority: 1, group: sequence }, LiteVersion.Draft03)).finish();
    const { reader } = await openBidi(client, fetch(0));
    expect(str(await within(reader.message(), 'frame 1'))).toBe('x');
    expect(str(await within(reader.message(), 'frame 2'))).toBe('yz');
    expect(await within(reader.atEnd(), 'FIN')).toBe(true);
    const missing = await openBidi(client, fetch(5));
    await expect(within(missing.reader.atEnd(), 'reset')).rejects.toThrow(/aborted/);
  });
});

describe('slow subscriber', () => {
  it('keeps queued bytes within subscriberQueueBytes by resetting old groups', async () => {
    const limit = 256 * 1024;
    const { origin, client, session } = start('moq-lite-04', { subscriberQueueBytes: limit });
    const broadcast = new Broadcast('live/big');
    origin.publish(broadcast);
    const track = broadcast.createTrack('video');
    const { reader } = await openBidi(client, subscribeRequest(LiteVersion.Draft04, 7, 'live/big', 'video'));
    const response = await within(readSubscribeResponse(reader, LiteVersion.Draft04, 1024), 'SUBSCRIBE_OK');
    expect(response.kind).toBe('ok');

    // The client never reads its group streams while 40 groups of 64 KiB frames go out.
    const frame = new Uint8Array(64 * 1024);
    for (let sequence = 0; sequence < 40; sequence++) {
      const group = track.appendGroup();
      for (let i = 0; i < 4; i++) group.writeFrame(frame);
      group.close();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await until(() => session.stats().groupsDropped > 0, 'groups dropped');
    const stats = session.stats();
    expect(stats.peakQueuedBytes).toBeLessThanOrEqual(limit);
    expect(stats.queuedBytes).toBeLessThanOrEqual(limit);
    expect(stats.groupsDropped + stats.groupsSkipped).toBeGreaterThan(0);

    // Newer groups went out with a higher send order (newest first).
    const orders = client.peer.sendOrders;
    expect(orders.at(-1)!).toBeGreaterThan(orders[0]!);

    // What the client still gets are whole groups: each stream is complete or reset.
    const unis = client.incomingUnidirectionalStreams.getReader();
    let complete = 0;
    let reset = 0;
    for (let i = 0; i < orders.length; i++) {
      const next = await within(unis.read(), 'group stream');
      if (next.done) break;
      const groupReader = new StreamReader(next.value);
      try {
        expect(await groupReader.varint()).toBe(0);
        const header = await groupReader.message();
        expect(header[0]).toBe(7);
        let frames = 0;
        while ((await groupReader.messageOrEnd(1 << 20)) !== undefined) frames++;
        expect(frames).toBe(4);
        complete++;
      } catch (error) {
        expect(String(error)).toMatch(/aborted/);
        reset++;
      }
    }
    expect(reset).toBeGreaterThan(0);
    expect(complete).toBeGreaterThan(0);
  });
});

describe('session close', () => {
  it('close() ends the transport and reports the reason', async () => {
    const { client, session } = start('moq-lite-03');
    await within(session.ready, 'ready');
    session.close(LiteCloseCode.normal, 'bye');
    expect(await within(session.closed, 'closed')).toEqual({ code: 0, reason: 'bye' });
    expect(await within(client.closed, 'client closed')).toEqual({ closeCode: 0, reason: 'bye' });
  });

  it('goAway() opens a Goaway stream (0x5) with an empty URI on lite-04, and nothing before lite-04', async () => {
    const { client, session } = start('moq-lite-04');
    await within(session.ready, 'ready');
    session.goAway();
    // The session's own ANNOUNCE_PLEASE (0x1) comes first; the Goaway stream after it.
    const incoming = client.incomingBidirectionalStreams.getReader();
    let first: number[] = [];
    while (first[0] !== 0x05) {
      const stream = (await within(incoming.read(), 'the Goaway stream')).value!;
      first = [...(await within(stream.readable.getReader().read(), 'its bytes')).value!];
    }
    // Stream type 0x5, then GOAWAY { Message Length = 1, New Session URI = "" (length 0) }.
    expect(first).toEqual([0x05, 0x01, 0x00]);
    incoming.releaseLock();

    const older = start('moq-lite-03');
    await within(older.session.ready, 'ready');
    older.session.goAway();
    const streams = older.client.incomingBidirectionalStreams.getReader();
    const types: number[] = [];
    const reading = (async () => {
      for (;;) {
        const next = await streams.read();
        if (next.done) return;
        types.push((await next.value.readable.getReader().read()).value![0]!);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(types).toEqual([0x01]); // its ANNOUNCE_PLEASE only
    older.session.close();
    await reading.catch(() => undefined);
  });

  it('a relay subscription to a closed session ends cleanly', async () => {
    const { origin, client, session } = start('moq-lite-04');
    const connection = await connectReference(client);
    const published = new Moq.Broadcast();
    connection.publish(path('carol'), published);
    await until(() => origin.get('carol') !== undefined, 'published');
    const subscription: TrackSubscription = origin.get('carol')!.subscribe('video', 60)!;
    await within(published.requested(), 'upstream request');
    session.close(LiteCloseCode.normal, 'server shutdown');
    const next: Group | undefined = await within(subscription.nextGroup(), 'clean end');
    expect(next).toBeUndefined();
    expect(origin.get('carol')).toBeUndefined();
  });
});
