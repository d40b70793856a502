/**
 * The relay bridged between hang and IETF: a hang broadcast (catalog.json + legacy frames) read by
 * IETF subscribers as MSF + LOC, and IETF publishers (PUBLISH_NAMESPACE and PUBLISH) read by relay
 * subscribers as catalog.json + legacy frames. Payload bytes must survive both ways unchanged.
 */
import { describe, expect, it } from 'vitest';
import { CATALOG_TRACK, encodeCatalog, parseCatalog } from '../../src/media/hang/catalog.ts';
import { decodeLegacyFrame, encodeLegacyFrame } from '../../src/media/hang/container.ts';
import type { TrackInfo } from '../../src/media/frame.ts';
import { LocPropertyType } from '../../src/media/loc/properties.ts';
import { encodeMsfCatalog, type MsfCatalog, parseMsfCatalog } from '../../src/media/msf/catalog.ts';
import { Broadcast, type Group, Origin, type Track } from '../../src/relay/index.ts';
import type { IetfVersion } from '../../src/moq/ietf/index.ts';
import { ietfFixtures } from '../helpers/ietf-fixtures.ts';
import { RawIetfClient } from '../helpers/ietf-raw-client.ts';
import { startIetfServer } from '../helpers/ietf-server.ts';

const utf8 = new TextEncoder();
const bytes = (text: string): Uint8Array => utf8.encode(text);

const AVCC = Uint8Array.of(0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00, 0x1f, 0x01, 0x00, 0x02, 0x68, 0xee);
const ASC = Uint8Array.of(0x11, 0x90);
const TRACKS = new Map<string, TrackInfo>([
  ['video', { kind: 'video', codec: 'avc1.64001f', description: AVCC, codedWidth: 1280, codedHeight: 720, framerate: 30, bitrate: 2_000_000 }],
  ['audio', { kind: 'audio', codec: 'mp4a.40.2', description: ASC, sampleRate: 48_000, numberOfChannels: 2, bitrate: 128_000 }],
]);

interface HangSource {
  broadcast: Broadcast;
  catalog: Track;
  video: Track;
  audio: Track;
}

function hangBroadcast(origin: Origin, path: string): HangSource {
  const broadcast = new Broadcast(path);
  const catalog = broadcast.createTrack(CATALOG_TRACK, { priority: 100 });
  const video = broadcast.createTrack('video', { priority: 60 });
  const audio = broadcast.createTrack('audio', { priority: 80 });
  origin.publish(broadcast);
  const group = catalog.appendGroup();
  group.writeFrame(encodeCatalog(TRACKS));
  group.close();
  return { broadcast, catalog, video, audio };
}

/** Payloads that are not valid varints or JSON on purpose: they must pass untouched. */
function payload(seed: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff);
}

function writeGroup(track: Track, frames: { ts: number; payload: Uint8Array }[], close = true): Group {
  const group = track.appendGroup();
  for (const frame of frames) group.writeFrame(encodeLegacyFrame(frame.ts, frame.payload));
  if (close) group.close();
  return group;
}

function extensionValue(object: { extensions: { type: bigint; value: bigint | Uint8Array }[] }, type: bigint): bigint | Uint8Array | undefined {
  return object.extensions.find((pair) => pair.type === type)?.value;
}

const { servers, clients } = ietfFixtures();

async function setup(version: IetfVersion, options: { largestObjectJoinsGroup?: boolean; implementation?: string } = {}) {
  const { implementation, ...serverOptions } = options;
  const origin = new Origin();
  const server = await startIetfServer({ protocols: [version === 'draft-16' ? 'moqt-16' : 'moql'], origin, ...serverOptions });
  servers.push(server);
  const client = await RawIetfClient.connect(server.url, version, { implementation });
  clients.push(client);
  return { origin, server, client };
}

const NS = [bytes('live'), bytes('demo')];

describe.each(['draft-16', 'draft-14'] as const)('hang broadcast → IETF subscriber (%s)', (version) => {
  it('serves the MSF catalog via SUBSCRIBE + joining FETCH', async () => {
    const { origin, client } = await setup(version);
    hangBroadcast(origin, 'live/demo');

    const subscribeId = client.requestId();
    await client.send({ type: 'subscribe', requestId: subscribeId, namespace: NS, name: bytes('catalog'), subscriberPriority: 0, forward: true, filter: { type: 'largestObject' }, parameters: { authorizationTokens: [] } });
    const ok = await client.next('subscribe_ok', (m) => m.requestId === subscribeId);
    expect(ok.largest).toEqual({ group: 0, object: 0 });

    const fetchId = client.requestId();
    await client.send({ type: 'fetch', requestId: fetchId, subscriberPriority: 0, range: { type: 'relativeJoining', joiningRequestId: subscribeId, joiningStart: 0 }, parameters: { authorizationTokens: [] } });
    const fetchOk = await client.next('fetch_ok', (m) => m.requestId === fetchId);
    expect(fetchOk.endLocation).toEqual({ group: 0, object: 1 });
    const fetched = await client.until(() => client.fetches.find((f) => f.requestId === fetchId && f.objects.length === 1));
    expect(fetched.objects[0]).toMatchObject({ groupId: 0, objectId: 0 });

    const msf: MsfCatalog = parseMsfCatalog(fetched.objects[0]!.payload);
    expect(msf.version).toBe('draft-01');
    const video = msf.tracks.find((t) => t.name === 'video')!;
    // avc3: the key frames carry the avcC's SPS/PPS too (LOC "Parameter Sets In Payload").
    expect(video).toMatchObject({ packaging: 'loc', role: 'video', codec: 'avc3.64001f', width: 1280, height: 720, framerate: 30, bitrate: 2_000_000, isLive: true });
    // No catalog timescale: every LOC object has its own (and Shaka cannot take one, see from-hang.ts).
    expect(video).not.toHaveProperty('timescale');
    const videoInit = msf.initDataList?.find((entry) => entry.id === video.initRef);
    expect(Buffer.from(videoInit!.data, 'base64')).toEqual(Buffer.from(AVCC));
    expect(msf.tracks.find((t) => t.name === 'audio')).toMatchObject({ packaging: 'loc', role: 'audio', codec: 'mp4a.40.2', samplerate: 48_000, channelConfig: '2' });
  });

  it('re-packages legacy frames as LOC objects, payload bytes untouched', async () => {
    const { origin, client } = await setup(version);
    const source = hangBroadcast(origin, 'live/demo');
    writeGroup(source.video, [{ ts: 0, payload: payload(0, 50) }]);

    const requestId = client.requestId();
    await client.send({ type: 'subscribe', requestId, namespace: NS, name: bytes('video'), subscriberPriority: 10, forward: true, filter: { type: 'nextGroupStart' }, parameters: { authorizationTokens: [] } });
    const ok = await client.next('subscribe_ok', (m) => m.requestId === requestId);
    expect(ok.largest).toEqual({ group: 0, object: 0 });

    const frames = [0, 1, 2, 3].map((i) => ({ ts: 1_000_000 + i * 33_333, payload: payload(i + 1, 100 + i * 1000) }));
    writeGroup(source.video, frames);
    const received = await client.until(() => client.subgroups.find((s) => s.header.groupId === 1 && s.objects.length === frames.length));
    expect(received.header).toMatchObject({ trackAlias: ok.trackAlias, subgroupId: 0, hasExtensions: true, endOfGroup: true });
    received.objects.forEach((object, i) => {
      expect(object.objectId).toBe(i);
      expect(Buffer.from(object.payload).equals(Buffer.from(frames[i]!.payload))).toBe(true);
      expect(extensionValue(object, LocPropertyType.timescale)).toBe(1_000_000n);
      expect(extensionValue(object, LocPropertyType.timestamp)).toBe(BigInt(frames[i]!.ts));
    });
    // The subscription's group 0 was before the filter: nothing from it arrives.
    expect(client.subgroups.some((s) => s.header.groupId === 0)).toBe(false);
  });

  it('puts the avcC parameter sets in front of each IDR access unit, other frames untouched', async () => {
    const { origin, client } = await setup(version);
    const source = hangBroadcast(origin, 'live/demo');
    const requestId = client.requestId();
    await client.send({ type: 'subscribe', requestId, namespace: NS, name: bytes('video'), subscriberPriority: 10, forward: true, filter: { type: 'nextGroupStart' }, parameters: { authorizationTokens: [] } });
    const ok = await client.next('subscribe_ok', (m) => m.requestId === requestId);
    const idr = Uint8Array.of(0, 0, 0, 3, 0x65, 0x88, 0x01);
    const p = Uint8Array.of(0, 0, 0, 2, 0x41, 0x9a);
    writeGroup(source.video, [
      { ts: 0, payload: idr },
      { ts: 33_333, payload: p },
    ]);
    const received = await client.until(() => client.subgroups.find((s) => s.header.trackAlias === ok.trackAlias && s.objects.length === 2));
    // SPS (4 bytes) and PPS (2 bytes) from AVCC, with the stream's 4-byte NAL lengths.
    const sps = [0, 0, 0, 4, 0x67, 0x64, 0x00, 0x1f];
    const pps = [0, 0, 0, 2, 0x68, 0xee];
    expect([...received.objects[0]!.payload]).toEqual([...sps, ...pps, ...idr]);
    expect([...received.objects[1]!.payload]).toEqual([...p]);

    // A new SPS (level 0x28) comes with a new catalog; the next key frame carries the new one.
    const avcc2 = Uint8Array.of(0x01, 0x64, 0x00, 0x28, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00, 0x28, 0x01, 0x00, 0x02, 0x68, 0xee);
    const catalog = source.catalog.appendGroup();
    catalog.writeFrame(encodeCatalog(new Map([...TRACKS, ['video', { ...TRACKS.get('video')!, codec: 'avc1.640028', description: avcc2 } as TrackInfo]])));
    catalog.close();
    writeGroup(source.video, [{ ts: 66_666, payload: idr }]);
    const next = await client.until(() => client.subgroups.find((s) => s.header.trackAlias === ok.trackAlias && s.header.groupId === received.header.groupId + 1 && s.objects.length === 1));
    expect([...next.objects[0]!.payload]).toEqual([0, 0, 0, 4, 0x67, 0x64, 0x00, 0x28, ...pps, ...idr]);
  });

  it('a Shaka Player peer: SUBSCRIBE_OK without Track Extensions, LOC Timestamp under id 0x06 (public and private); others unchanged', async () => {
    // Shaka Player 5.2.12 parses draft-16 Track Extensions as the next control message and reads
    // only LOC draft-03's Timestamp id (src/moq/ietf/session/peer.ts, src/media/loc/properties.ts).
    const shaka = await setup(version, { implementation: 'ShakaPlayer/v5.2.12' });
    const other = await setup(version);
    const sources = [hangBroadcast(shaka.origin, 'live/demo'), hangBroadcast(other.origin, 'live/demo')];
    const subscribe = async (client: RawIetfClient) => {
      const requestId = client.requestId();
      // Group Order 0 (undefined here): the publisher's preference, as Shaka sends it.
      await client.send({ type: 'subscribe', requestId, namespace: NS, name: bytes('video'), subscriberPriority: 0, forward: true, filter: { type: 'nextGroupStart' }, parameters: { authorizationTokens: [] } });
      return client.next('subscribe_ok', (m) => m.requestId === requestId);
    };
    const [shakaOk, otherOk] = [await subscribe(shaka.client), await subscribe(other.client)];
    for (const source of sources) writeGroup(source.video, [{ ts: 1_500_000, payload: payload(7, 40) }]);
    const objectOf = (client: RawIetfClient, alias: number) => client.until(() => client.subgroups.find((s) => s.header.trackAlias === alias && s.objects.length === 1)?.objects[0]);
    const [shakaObject, otherObject] = [await objectOf(shaka.client, shakaOk.trackAlias), await objectOf(other.client, otherOk.trackAlias)];
    expect(otherObject!.extensions).toEqual([
      { type: LocPropertyType.timescale, value: 1_000_000n },
      { type: LocPropertyType.timestamp, value: 1_500_000n },
    ]);
    expect(shakaObject!.extensions).toEqual([{ type: 0x06n, value: 1_500_000n }]);
    // And a LOC Private Properties block in front (count 1, type 0x06, varint 1 500 000), so
    // Shaka's guess at one never cuts into the codec data.
    expect([...shakaObject!.payload]).toEqual([1, 0x06, 0x80, 0x16, 0xe3, 0x60, ...payload(7, 40)]);
    expect([...otherObject!.payload]).toEqual([...payload(7, 40)]);
    if (version === 'draft-16') {
      expect(shakaOk.properties).toEqual({ other: [] });
      expect(otherOk.properties).toMatchObject({ publisherPriority: expect.any(Number), groupOrder: 'descending' });
    } else {
      // draft-14 SUBSCRIBE_OK has no Track Extensions; Shaka reads its Group Order byte fine.
      expect(shakaOk.groupOrder).toBe('descending');
    }
  });

  it('Largest Object joins after the last object; a joining FETCH brings the head', async () => {
    const { origin, client } = await setup(version);
    const source = hangBroadcast(origin, 'live/demo');
    const head = [0, 1].map((i) => ({ ts: i * 20_000, payload: payload(40 + i, 64) }));
    const group = writeGroup(source.audio, head, false);

    const requestId = client.requestId();
    await client.send({ type: 'subscribe', requestId, namespace: NS, name: bytes('audio'), subscriberPriority: 10, forward: true, filter: { type: 'largestObject' }, parameters: { authorizationTokens: [] } });
    expect((await client.next('subscribe_ok', (m) => m.requestId === requestId)).largest).toEqual({ group: 0, object: 1 });
    const tail = { ts: 40_000, payload: payload(42, 64) };
    group.writeFrame(encodeLegacyFrame(tail.ts, tail.payload));
    group.close();
    const live = await client.until(() => client.subgroups.find((s) => s.header.groupId === 0 && s.objects.length === 1));
    expect(live.objects[0]!.objectId).toBe(2);
    expect(Buffer.from(live.objects[0]!.payload).equals(Buffer.from(tail.payload))).toBe(true);

    const fetchId = client.requestId();
    await client.send({ type: 'fetch', requestId: fetchId, subscriberPriority: 10, range: { type: 'relativeJoining', joiningRequestId: requestId, joiningStart: 0 }, parameters: { authorizationTokens: [] } });
    const fetched = await client.until(() => client.fetches.find((f) => f.requestId === fetchId && f.objects.length === 2));
    expect(fetched.objects.map((o) => o.objectId)).toEqual([0, 1]);
    expect(fetched.objects.map((o) => extensionValue(o, LocPropertyType.timestamp))).toEqual([0n, 20_000n]);
    expect(fetched.objects.map((o) => Buffer.from(o.payload).equals(Buffer.from(head[o.objectId]!.payload)))).toEqual([true, true]);
  });

  it('ends the subscription with PUBLISH_DONE when the track ends', async () => {
    const { origin, client } = await setup(version);
    const source = hangBroadcast(origin, 'live/demo');
    const requestId = client.requestId();
    await client.send({ type: 'subscribe', requestId, namespace: NS, name: bytes('video'), subscriberPriority: 10, forward: true, filter: { type: 'nextGroupStart' }, parameters: { authorizationTokens: [] } });
    await client.next('subscribe_ok', (m) => m.requestId === requestId);
    writeGroup(source.video, [{ ts: 5, payload: payload(9, 9) }]);
    await client.until(() => client.subgroups.find((s) => s.objects.length === 1));
    source.broadcast.close();
    const done = await client.next('publish_done', (m) => m.requestId === requestId);
    expect(done.statusCode).toBe(0x2);
    expect(done.streamCount).toBe(1n);
  });
});

describe.each([
  ['draft-16', 'moqt-16'],
  ['draft-14', 'moql'],
] as const)('hang broadcast → @moq/net subscriber (%s)', (_version, protocol) => {
  it('reads the MSF catalog and LOC payloads byte-exact (largestObjectJoinsGroup)', async () => {
    const Moq = await import('@moq/net');
    console.debug = () => undefined;
    const origin = new Origin();
    const server = await startIetfServer({ protocols: [protocol], origin, largestObjectJoinsGroup: true });
    servers.push(server);
    const source = hangBroadcast(origin, 'live/demo');
    const connection = await Moq.Connection.connect(server.url, { websocket: { delay: 0 } });
    try {
      const consumed = connection.consume(Moq.Path.from('live/demo'));
      const catalog = consumed.subscribe('catalog');
      const catalogGroup = await catalog.recvGroup();
      const msf = parseMsfCatalog((await catalogGroup!.readFrame())!.payload);
      expect(msf.tracks.map((t) => t.name).sort()).toEqual(['audio', 'video']);

      const video = consumed.subscribe('video');
      await video.info();
      const frames = [0, 1, 2].map((i) => ({ ts: i * 33_333, payload: payload(60 + i, 200 + i) }));
      writeGroup(source.video, frames);
      const group = await video.recvGroup();
      const received: string[] = [];
      for (let frame = await group!.readFrame(); frame; frame = await group!.readFrame()) received.push(Buffer.from(frame.payload).toString('hex'));
      expect(received).toEqual(frames.map((f) => Buffer.from(f.payload).toString('hex')));
    } finally {
      connection.close();
    }
  });
});

describe.each(['draft-16', 'draft-14'] as const)('IETF publisher → relay subscriber (%s)', (version) => {
  const msf: MsfCatalog = {
    version: 'draft-01',
    tracks: [
      { name: 'video', packaging: 'loc', isLive: true, role: 'video', codec: 'avc1.64001f', width: 640, height: 360, framerate: 25, initRef: 'v' },
      { name: 'audio', packaging: 'loc', isLive: true, role: 'audio', codec: 'opus', samplerate: 48_000, channelConfig: '2' },
      { name: 'events', packaging: 'eventtimeline', isLive: true },
    ],
    initDataList: [{ id: 'v', type: 'inline', data: Buffer.from(AVCC).toString('base64') }],
  };

  it('PUBLISH_NAMESPACE: MSF becomes catalog.json, LOC objects become legacy frames', async () => {
    const { origin, client } = await setup(version);
    const announceId = client.requestId();
    await client.send({ type: 'publish_namespace', requestId: announceId, namespace: [bytes('live'), bytes('ietf')], parameters: { authorizationTokens: [] } });
    await client.next('request_ok', (m) => m.requestId === announceId);
    const broadcast = origin.get('live/ietf')!;
    expect(broadcast).toBeDefined();

    // A relay subscriber asks for catalog.json: the relay subscribes to the MSF catalog upstream.
    const catalogTrack = broadcast.getTrack(CATALOG_TRACK, 100)!;
    const catalogSubscription = catalogTrack.subscribe();
    const subscribe = await client.next('subscribe', (m) => Buffer.from(m.name).toString() === 'catalog');
    expect(subscribe.filter?.type).toBe('largestObject');
    await client.send({ type: 'subscribe_ok', requestId: subscribe.requestId, trackAlias: 7, expiresMs: 0, groupOrder: 'descending', properties: { other: [] } });
    await client.publishSubgroup({ trackAlias: 7, groupId: 0, subgroupId: 0, publisherPriority: 0, hasExtensions: false, endOfGroup: true }, [
      { objectId: 0, status: 'normal', extensions: [], payload: encodeMsfCatalog(msf) },
    ]);
    const catalogGroup = await catalogSubscription.nextGroup();
    const hang = parseCatalog((await catalogGroup!.reader().readFrame())!);
    expect([...hang.keys()].sort()).toEqual(['audio', 'video']);
    expect(hang.get('video')).toMatchObject({ kind: 'video', codec: 'avc1.64001f', codedWidth: 640, codedHeight: 360, framerate: 25 });
    expect(Buffer.from((hang.get('video') as { description?: Uint8Array }).description!)).toEqual(Buffer.from(AVCC));
    expect(hang.get('audio')).toMatchObject({ kind: 'audio', codec: 'opus', sampleRate: 48_000, numberOfChannels: 2 });

    // Media: LOC timestamp property → legacy varint prefix; payload bytes identical.
    const videoSubscription = broadcast.getTrack('video', 60)!.subscribe();
    const videoSubscribe = await client.next('subscribe', (m) => Buffer.from(m.name).toString() === 'video');
    await client.send({ type: 'subscribe_ok', requestId: videoSubscribe.requestId, trackAlias: 8, expiresMs: 0, groupOrder: 'descending', properties: { other: [] } });
    const objects = [0, 1, 2].map((i) => ({
      objectId: i,
      status: 'normal' as const,
      extensions: [{ type: LocPropertyType.timestamp, value: BigInt(90_000 + i * 40_000) }],
      payload: payload(70 + i, 300),
    }));
    await client.publishSubgroup({ trackAlias: 8, groupId: 12, subgroupId: 0, publisherPriority: 0, hasExtensions: true, endOfGroup: true }, objects);
    const videoGroup = (await videoSubscription.nextGroup())!;
    expect(videoGroup.sequence).toBe(12);
    const reader = videoGroup.reader();
    for (const object of objects) {
      const frame = decodeLegacyFrame((await reader.readFrame())!);
      expect(frame.timestamp).toBe(Number(object.extensions[0]!.value));
      expect(Buffer.from(frame.payload).equals(Buffer.from(object.payload))).toBe(true);
    }
    expect(await reader.readFrame()).toBeUndefined();

    // PUBLISH_NAMESPACE_DONE ends the broadcast; the relay unsubscribes upstream.
    await client.send(version === 'draft-16' ? { type: 'publish_namespace_done', requestId: announceId } : { type: 'publish_namespace_done', namespace: [bytes('live'), bytes('ietf')] });
    await broadcast.closed();
    await client.next('unsubscribe', (m) => m.requestId === videoSubscribe.requestId);
  });

  it('joining FETCH fills the head of a group the subscription joined mid-way', async () => {
    const { origin, client } = await setup(version);
    const announceId = client.requestId();
    await client.send({ type: 'publish_namespace', requestId: announceId, namespace: [bytes('raw')], parameters: { authorizationTokens: [] } });
    await client.next('request_ok', (m) => m.requestId === announceId);
    const subscription = origin.get('raw')!.getTrack('data', 0)!.subscribe();
    const subscribe = await client.next('subscribe', (m) => Buffer.from(m.name).toString() === 'data');
    await client.send({ type: 'subscribe_ok', requestId: subscribe.requestId, trackAlias: 3, expiresMs: 0, groupOrder: 'ascending', largest: { group: 4, object: 1 }, properties: { other: [] } });
    // The subscription's objects for group 4 start after Largest Object...
    const objects = [0, 1, 2, 3].map((i) => ({ objectId: i, status: 'normal' as const, extensions: [], payload: payload(90 + i, 20) }));
    await client.publishSubgroup({ trackAlias: 3, groupId: 4, subgroupId: 0, publisherPriority: 0, hasExtensions: false, endOfGroup: true }, objects.slice(2));
    // ...and the relay's joining FETCH brings objects 0 and 1.
    const fetch = await client.next('fetch', (m) => m.range.type === 'relativeJoining' && m.range.joiningRequestId === subscribe.requestId);
    await client.send({ type: 'fetch_ok', requestId: fetch.requestId, groupOrder: 'ascending', endOfTrack: false, endLocation: { group: 4, object: 2 }, properties: { other: [] } });
    await client.publishFetch(
      fetch.requestId,
      objects.slice(0, 2).map((o) => ({ ...o, groupId: 4, subgroupId: 0, publisherPriority: 0 })),
    );
    const group = (await subscription.nextGroup())!;
    expect(group.sequence).toBe(4);
    const reader = group.reader();
    const frames: Uint8Array[] = [];
    for (let frame = await reader.readFrame(); frame; frame = await reader.readFrame()) frames.push(frame);
    // No catalog upstream: objects are stored as opaque frames.
    expect(frames.map((f) => Buffer.from(f).toString('hex'))).toEqual(objects.map((o) => Buffer.from(o.payload).toString('hex')));
  });

  it('PUBLISH: pushed tracks become a relay broadcast', async () => {
    const { origin, client } = await setup(version);
    const ns = [bytes('live'), bytes('push')];
    const catalogId = client.requestId();
    await client.send({ type: 'publish', requestId: catalogId, namespace: ns, name: bytes('catalog'), trackAlias: 20, forward: true, properties: { other: [], groupOrder: 'ascending' }, parameters: { authorizationTokens: [] } });
    await client.next('publish_ok', (m) => m.requestId === catalogId);
    const videoId = client.requestId();
    await client.send({ type: 'publish', requestId: videoId, namespace: ns, name: bytes('video'), trackAlias: 21, forward: true, properties: { other: [], groupOrder: 'ascending' }, parameters: { authorizationTokens: [] } });
    await client.next('publish_ok', (m) => m.requestId === videoId);

    const broadcast = origin.get('live/push')!;
    const catalog = broadcast.getTrack(CATALOG_TRACK)!.subscribe();
    const video = broadcast.getTrack('video')!.subscribe();
    await client.publishSubgroup({ trackAlias: 20, groupId: 0, subgroupId: 0, publisherPriority: 0, hasExtensions: false, endOfGroup: true }, [
      { objectId: 0, status: 'normal', extensions: [], payload: encodeMsfCatalog(msf) },
    ]);
    const hang = parseCatalog((await (await catalog.nextGroup())!.reader().readFrame())!);
    expect(hang.get('video')?.codec).toBe('avc1.64001f');

    const object = { objectId: 0, status: 'normal' as const, extensions: [{ type: LocPropertyType.timestamp, value: 123_456n }], payload: payload(5, 77) };
    await client.publishSubgroup({ trackAlias: 21, groupId: 0, subgroupId: 0, publisherPriority: 0, hasExtensions: true, endOfGroup: true }, [object]);
    const frame = decodeLegacyFrame((await (await video.nextGroup())!.reader().readFrame())!);
    expect(frame.timestamp).toBe(123_456);
    expect(Buffer.from(frame.payload).equals(Buffer.from(object.payload))).toBe(true);

    await client.send({ type: 'publish_done', requestId: videoId, statusCode: 0x2, streamCount: 1n, reason: 'done' });
    await client.send({ type: 'publish_done', requestId: catalogId, statusCode: 0x2, streamCount: 1n, reason: 'done' });
    await broadcast.closed();
  });

  it('OBJECT_DATAGRAMs of a pushed track are stored as relay frames', async () => {
    const { origin, client } = await setup(version);
    const publishId = client.requestId();
    await client.send({ type: 'publish', requestId: publishId, namespace: [bytes('dg')], name: bytes('pings'), trackAlias: 30, forward: true, properties: { other: [] }, parameters: { authorizationTokens: [] } });
    await client.next('publish_ok', (m) => m.requestId === publishId);
    const subscription = origin.get('dg')!.getTrack('pings')!.subscribe();
    const writer = client.session.datagrams.writable.getWriter();
    const objects = [0, 1, 2].map((objectId) => ({ trackAlias: 30, groupId: 2, objectId, publisherPriority: 1, endOfGroup: objectId === 2, status: 'normal' as const, extensions: [], payload: payload(objectId, 16) }));
    // Datagrams are unreliable: QMux sheds a burst while its socket buffer drains, so pace them.
    for (const object of objects) {
      await writer.write(client.data.encodeDatagram(object));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const group = (await subscription.nextGroup())!;
    expect(group.sequence).toBe(2);
    const reader = group.reader();
    const frames: string[] = [];
    for (let frame = await reader.readFrame(); frame; frame = await reader.readFrame()) frames.push(Buffer.from(frame).toString('hex'));
    expect(frames).toEqual(objects.map((o) => Buffer.from(o.payload).toString('hex')));
  });

  it('an IETF subscriber gets OBJECT_DATAGRAMs of a pushed datagram track as datagrams (§10.2.1), byte-exact', async () => {
    const { server, client } = await setup(version);
    const publishId = client.requestId();
    await client.send({ type: 'publish', requestId: publishId, namespace: [bytes('dgs')], name: bytes('pings'), trackAlias: 31, forward: true, properties: { other: [] }, parameters: { authorizationTokens: [] } });
    await client.next('publish_ok', (m) => m.requestId === publishId);
    const viewer = await RawIetfClient.connect(server.url, version);
    clients.push(viewer);
    const requestId = viewer.requestId();
    await viewer.send({ type: 'subscribe', requestId, namespace: [bytes('dgs')], name: bytes('pings'), subscriberPriority: 0, forward: true, filter: { type: 'nextGroupStart' }, parameters: { authorizationTokens: [] } });
    const ok = await viewer.next('subscribe_ok', (m) => m.requestId === requestId);

    const writer = client.session.datagrams.writable.getWriter();
    const sent = [0, 1, 2].map((objectId) => ({ trackAlias: 31, groupId: 4, objectId, publisherPriority: 1, endOfGroup: objectId === 2, status: 'normal' as const, extensions: [], payload: payload(objectId + 10, 32) }));
    for (const object of sent) {
      await writer.write(client.data.encodeDatagram(object));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const received = await viewer.until(() => (viewer.datagrams.length >= sent.length ? viewer.datagrams : undefined), 5000, 'three datagrams');
    expect(received.map((d) => ({ alias: d.trackAlias, group: d.groupId, object: d.objectId, payload: Buffer.from(d.payload).toString('hex') }))).toEqual(
      sent.map((o) => ({ alias: ok.trackAlias, group: 4, object: o.objectId, payload: Buffer.from(o.payload).toString('hex') })),
    );
    // No subgroup stream carried them.
    expect(viewer.subgroups.filter((s) => s.header.trackAlias === ok.trackAlias)).toEqual([]);
  });
});
