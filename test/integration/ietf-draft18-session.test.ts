/**
 * IETF moq-transport draft-18 and -19 sessions over a real QMux WebSocket (`qmux-00.moqt-18/19`), driven by
 * the raw test client: SETUP on a pair of uni control streams (draft-18 §3.3, §9.3), SUBSCRIBE /
 * FETCH / TRACK_STATUS each on its own bidi request stream with responses that carry no Request
 * ID, vi64 data streams — checked against a draft-16 client reading the same broadcast, object
 * for object and byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { CATALOG_TRACK, encodeCatalog, parseCatalog } from '../../src/media/hang/catalog.ts';
import { decodeLegacyFrame, encodeLegacyFrame } from '../../src/media/hang/container.ts';
import { LocPropertyType } from '../../src/media/loc/properties.ts';
import { encodeMsfCatalog, type MsfCatalog } from '../../src/media/msf/catalog.ts';
import { Broadcast, Origin } from '../../src/relay/index.ts';
import type { ControlMessage } from '../../src/moq/ietf/messages.ts';
import { ietfFixtures } from '../helpers/ietf-fixtures.ts';
import { RawIetfClient, type RequestStream } from '../helpers/ietf-raw-client.ts';
import { startIetfServer } from '../helpers/ietf-server.ts';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const { servers, clients } = ietfFixtures();

async function start() {
  const origin = new Origin();
  const server = await startIetfServer({ protocols: ['moqt-19', 'moqt-18', 'moqt-16'], origin });
  servers.push(server);
  const connect = async (version: 'draft-16' | 'draft-18' | 'draft-19') => {
    const client = await RawIetfClient.connect(server.url, version);
    clients.push(client);
    return client;
  };
  return { origin, server, connect };
}

function liveBroadcast(origin: Origin, path: string) {
  const broadcast = new Broadcast(path);
  const catalog = broadcast.createTrack(CATALOG_TRACK);
  const video = broadcast.createTrack('video');
  origin.publish(broadcast);
  const group = catalog.appendGroup();
  group.writeFrame(encodeCatalog(new Map([['video', { kind: 'video', codec: 'avc1.42e01e', codedWidth: 320, codedHeight: 240 }]])));
  group.close();
  return { broadcast, video };
}

const subscribe = (requestId: number, path: string[], name: string): ControlMessage => ({
  type: 'subscribe',
  requestId,
  namespace: path.map(text),
  name: text(name),
  subscriberPriority: 128,
  forward: true,
  filter: { type: 'nextGroupStart' },
  parameters: { authorizationTokens: [] },
});

const waitFor = <V>(client: RawIetfClient, request: RequestStream, pick: (m: ControlMessage) => V | undefined, what: string): Promise<V> =>
  client.until(() => {
    for (const m of request.messages) {
      const v = pick(m);
      if (v !== undefined) return v;
    }
    return undefined;
  }, 5000, what);

describe.each(['draft-18', 'draft-19'] as const)('IETF session (%s)', (version) => {
  it('exchanges SETUP on uni control streams and negotiates moqt-18', async () => {
    const { server, connect } = await start();
    const client = await connect(version);
    const setup = await client.next('server_setup');
    expect(setup.parameters.implementation).toBe('moq-gateway');
    expect(server.versions).toEqual([version]);
  });

  it('SUBSCRIBE on a request stream delivers the objects a draft-16 subscriber gets, byte for byte; FETCH returns them again', async () => {
    const { origin, connect } = await start();
    const { video } = liveBroadcast(origin, 'live/a');
    const d18 = await connect(version);
    const d16 = await connect('draft-16');

    const id18 = d18.requestId();
    const request = await d18.openRequestStream(subscribe(id18, ['live', 'a'], 'video'));
    const ok18 = await waitFor(d18, request, (m) => (m.type === 'subscribe_ok' ? m : undefined), 'SUBSCRIBE_OK on the request stream');
    expect(ok18.requestId).toBe(id18);
    const id16 = d16.requestId();
    await d16.send(subscribe(id16, ['live', 'a'], 'video'));
    const ok16 = await d16.next('subscribe_ok', (m) => m.requestId === id16);

    const frames = [Uint8Array.of(0x65, 1, 2, 3), new Uint8Array(300).fill(7), Uint8Array.of(9)];
    const group = video.appendGroup();
    for (const [i, frame] of frames.entries()) group.writeFrame(encodeLegacyFrame(i * 33_000, frame));
    group.close();

    const got18 = await d18.until(() => d18.subgroups.find((s) => s.header.trackAlias === ok18.trackAlias && s.objects.length === frames.length), 5000, 'draft-18 objects');
    const got16 = await d16.until(() => d16.subgroups.find((s) => s.header.trackAlias === ok16.trackAlias && s.objects.length === frames.length), 5000, 'draft-16 objects');
    expect(got18.header.groupId).toBe(got16.header.groupId);
    const shape = (objects: typeof got18.objects) => objects.map((o) => ({ id: o.objectId, status: o.status, payload: hex(o.payload), extensions: o.extensions.map((e) => [e.type, e.value instanceof Uint8Array ? hex(e.value) : e.value]) }));
    expect(shape(got18.objects)).toEqual(shape(got16.objects));
    expect(got18.objects.length).toBe(3);

    // A standalone FETCH of that group on its own request stream: FETCH_OK there, objects on a FETCH stream.
    const fetchId = d18.requestId();
    const fetch = await d18.openRequestStream({
      type: 'fetch',
      requestId: fetchId,
      subscriberPriority: 128,
      range: { type: 'standalone', namespace: [text('live'), text('a')], name: text('video'), start: { group: got18.header.groupId, object: 0 }, end: { group: got18.header.groupId, object: 0 } },
      parameters: { authorizationTokens: [] },
    });
    const fetchOk = await waitFor(d18, fetch, (m) => (m.type === 'fetch_ok' || m.type === 'request_error' ? m : undefined), 'FETCH_OK');
    expect(fetchOk.type).toBe('fetch_ok');
    const fetched = await d18.until(() => d18.fetches.find((f) => f.requestId === fetchId && f.objects.length === frames.length), 5000, 'fetched objects');
    expect(fetched.objects.map((o) => ({ id: o.objectId, status: o.status, payload: hex(o.payload), extensions: o.extensions.map((e) => [e.type, e.value instanceof Uint8Array ? hex(e.value) : e.value]) }))).toEqual(shape(got18.objects));

    // Finishing the SUBSCRIBE stream ends the subscription (§3.5.1): the next group is not sent.
    await request.writer.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = video.appendGroup();
    next.writeFrame(encodeLegacyFrame(0, Uint8Array.of(1)));
    next.close();
    await d16.until(() => d16.subgroups.filter((s) => s.header.trackAlias === ok16.trackAlias).length === 2 || undefined, 5000, 'draft-16 second group');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(d18.subgroups.filter((s) => s.header.trackAlias === ok18.trackAlias)).toHaveLength(1);
  });

  it('answers TRACK_STATUS with REQUEST_OK and LARGEST_OBJECT on the request stream', async () => {
    const { origin, connect } = await start();
    const { video } = liveBroadcast(origin, 'live/s');
    const group = video.appendGroup();
    group.writeFrame(encodeLegacyFrame(0, Uint8Array.of(1)));
    group.writeFrame(encodeLegacyFrame(1, Uint8Array.of(2)));
    const client = await connect(version);
    const requestId = client.requestId();
    const request = await client.openRequestStream({ type: 'track_status', requestId, namespace: [text('live'), text('s')], name: text('video'), parameters: { authorizationTokens: [] } });
    const ok = await waitFor(client, request, (m) => (m.type === 'request_ok' ? m : undefined), 'REQUEST_OK');
    expect(ok.requestId).toBe(requestId);
    expect(ok.parameters.largest).toEqual({ group: 0, object: 1 });
  });

  it('PUBLISH_NAMESPACE on a request stream: the relay subscribes upstream on streams it opens, MSF + LOC arrive as the relay track', async () => {
    const { origin, connect } = await start();
    const client = await connect(version);
    const announce = await client.openRequestStream({ type: 'publish_namespace', requestId: client.requestId(), namespace: [text('in'), text('cam')], parameters: { authorizationTokens: [] } });
    await waitFor(client, announce, (m) => (m.type === 'request_ok' ? m : undefined), 'REQUEST_OK');
    const broadcast = await client.until(() => origin.get('in/cam'), 5000, 'broadcast');

    const msf: MsfCatalog = { version: 'draft-01', tracks: [{ name: 'video', packaging: 'loc', isLive: true, role: 'video', codec: 'avc1.64001f', width: 640, height: 360, framerate: 25 }] };
    const catalogSubscription = broadcast.getTrack(CATALOG_TRACK, 100)!.subscribe();
    const catalogRequest = await client.until(() => client.incoming.find((r) => r.request.type === 'subscribe' && new TextDecoder().decode(r.request.name) === 'catalog'), 5000, 'SUBSCRIBE catalog');
    await client.reply(catalogRequest.stream, { type: 'subscribe_ok', requestId: 0, trackAlias: 7, expiresMs: 0, groupOrder: 'ascending', properties: { other: [] } });
    await client.publishSubgroup({ trackAlias: 7, groupId: 0, subgroupId: 0, publisherPriority: 0, hasExtensions: false, endOfGroup: true }, [{ objectId: 0, status: 'normal', extensions: [], payload: encodeMsfCatalog(msf) }]);
    const hang = parseCatalog((await (await catalogSubscription.nextGroup())!.reader().readFrame())!);
    expect(hang.get('video')).toMatchObject({ kind: 'video', codec: 'avc1.64001f', codedWidth: 640 });

    const videoSubscription = broadcast.getTrack('video', 60)!.subscribe();
    const videoRequest = await client.until(() => client.incoming.find((r) => r.request.type === 'subscribe' && new TextDecoder().decode(r.request.name) === 'video'), 5000, 'SUBSCRIBE video');
    await client.reply(videoRequest.stream, { type: 'subscribe_ok', requestId: 0, trackAlias: 8, expiresMs: 0, groupOrder: 'ascending', properties: { other: [] } });
    const objects = [0, 1, 2].map((i) => ({ objectId: i, status: 'normal' as const, extensions: [{ type: LocPropertyType.timestamp, value: BigInt(90_000 + i * 40_000) }], payload: new Uint8Array(200 + i).fill(i + 1) }));
    await client.publishSubgroup({ trackAlias: 8, groupId: 12, subgroupId: 0, publisherPriority: 0, hasExtensions: true, endOfGroup: true }, objects);
    const group = (await videoSubscription.nextGroup())!;
    expect(group.sequence).toBe(12);
    const reader = group.reader();
    for (const object of objects) {
      const frame = decodeLegacyFrame((await reader.readFrame())!);
      expect(frame.timestamp).toBe(Number(object.extensions[0]!.value));
      expect(hex(frame.payload)).toBe(hex(object.payload));
    }

    // Finishing the PUBLISH_NAMESPACE stream withdraws the namespace; the relay ends its upstream SUBSCRIBEs.
    await announce.writer.close();
    await broadcast.closed();
    await client.until(() => videoRequest.stream.ended || undefined, 5000, 'upstream SUBSCRIBE stream ended');
  });

  it('PUBLISH on a request stream is accepted without a SUBSCRIBE (PUBLISH_OK there); PUBLISH_DONE on it ends the track', async () => {
    const { origin, connect } = await start();
    const client = await connect(version);
    const ns = [text('live'), text('push')];
    const msf: MsfCatalog = { version: 'draft-01', tracks: [{ name: 'video', packaging: 'loc', isLive: true, role: 'video', codec: 'avc1.64001f', width: 640, height: 360, framerate: 25 }] };
    const catalogId = client.requestId();
    const catalogStream = await client.openRequestStream({ type: 'publish', requestId: catalogId, namespace: ns, name: text('catalog'), trackAlias: 20, forward: true, properties: { other: [], groupOrder: 'ascending' }, parameters: { authorizationTokens: [] } });
    // draft-18 answers with PUBLISH_OK (0x1E); draft-19 with REQUEST_OK, 0x1E being reserved.
    const okType = version === 'draft-18' ? 'publish_ok' : 'request_ok';
    const catalogOk = await waitFor(client, catalogStream, (m) => (m.type === okType || m.type === 'request_error' ? m : undefined), 'PUBLISH_OK');
    expect(catalogOk).toMatchObject({ type: okType, requestId: catalogId });
    const videoId = client.requestId();
    const videoStream = await client.openRequestStream({ type: 'publish', requestId: videoId, namespace: ns, name: text('video'), trackAlias: 21, forward: true, properties: { other: [], groupOrder: 'ascending' }, parameters: { authorizationTokens: [] } });
    await waitFor(client, videoStream, (m) => (m.type === okType ? m : undefined), 'PUBLISH_OK video');

    const broadcast = origin.get('live/push')!;
    const catalog = broadcast.getTrack(CATALOG_TRACK)!.subscribe();
    const video = broadcast.getTrack('video')!.subscribe();
    await client.publishSubgroup({ trackAlias: 20, groupId: 0, subgroupId: 0, publisherPriority: 0, hasExtensions: false, endOfGroup: true }, [{ objectId: 0, status: 'normal', extensions: [], payload: encodeMsfCatalog(msf) }]);
    expect(parseCatalog((await (await catalog.nextGroup())!.reader().readFrame())!).get('video')?.codec).toBe('avc1.64001f');
    const object = { objectId: 0, status: 'normal' as const, extensions: [{ type: LocPropertyType.timestamp, value: 123_456n }], payload: new Uint8Array(77).fill(5) };
    await client.publishSubgroup({ trackAlias: 21, groupId: 0, subgroupId: 0, publisherPriority: 0, hasExtensions: true, endOfGroup: true }, [object]);
    const frame = decodeLegacyFrame((await (await video.nextGroup())!.reader().readFrame())!);
    expect(frame.timestamp).toBe(123_456);
    expect(hex(frame.payload)).toBe(hex(object.payload));

    await client.reply(videoStream, { type: 'publish_done', requestId: videoId, statusCode: 0x2, streamCount: 1n, reason: 'done' });
    await client.reply(catalogStream, { type: 'publish_done', requestId: catalogId, statusCode: 0x2, streamCount: 1n, reason: 'done' });
    await broadcast.closed();
    expect(client.closed).toBe(false);
  });

  it('closes the session for a request message on the control stream', async () => {
    const { connect } = await start();
    const client = await connect(version);
    await client.send(subscribe(0, ['live', 'x'], 'video'));
    const info = await Promise.race([client.session.closed.then((c) => c.closeCode, () => -1), new Promise<undefined>((r) => setTimeout(r, 3000))]);
    expect(info).toBe(0x3);
  });
});

describe.each(['draft-18', 'draft-19'] as const)('gateway over %s', (version) => {
  it('negotiates qmux-00.moqt-1X on its WebSocket endpoint and serves a relay track', async () => {
    const { startGateway } = await import('../helpers/gateway.ts');
    const gw = await startGateway();
    try {
      const { video } = liveBroadcast(gw.gateway.origin, 'live/g');
      const client = await RawIetfClient.connect(new URL(gw.httpUrl), version);
      clients.push(client);
      expect((await client.next('server_setup')).parameters.implementation).toBeDefined();
      const requestId = client.requestId();
      const request = await client.openRequestStream(subscribe(requestId, ['live', 'g'], 'video'));
      const ok = await waitFor(client, request, (m) => (m.type === 'subscribe_ok' || m.type === 'request_error' ? m : undefined), 'SUBSCRIBE reply');
      expect(ok.type).toBe('subscribe_ok');
      const group = video.appendGroup();
      group.writeFrame(encodeLegacyFrame(0, new Uint8Array(200).fill(3)));
      group.close();
      const got = await client.until(() => client.subgroups.find((s) => s.objects.length === 1), 5000, 'object');
      expect(got.objects[0]!.payload.byteLength).toBeGreaterThanOrEqual(200);
      // And a peer offering 16 and 18 gets 16.
      const { chooseSubprotocol } = await import('../../src/transport/subprotocol.ts');
      expect(chooseSubprotocol(['qmux-00.moqt-18', 'qmux-00.moqt-16'])?.protocol).toBe('moqt-16');
      expect(chooseSubprotocol(['qmux-00.moqt-18'])?.protocol).toBe('moqt-18');
      expect(chooseSubprotocol(['qmux-00.moqt-18', 'qmux-00.moqt-19'])?.protocol).toBe('moqt-19');
    } finally {
      await gw.stop();
    }
  });
});
