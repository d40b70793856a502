/**
 * Session behaviour over a real QMux WebSocket: malformed input closes only the offending session
 * with the right termination code, request ID flow control, authorization, namespace discovery,
 * TRACK_STATUS, REQUEST_UPDATE / UNSUBSCRIBE and GOAWAY.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATALOG_TRACK, encodeCatalog } from '../../src/media/hang/catalog.ts';
import { encodeLegacyFrame } from '../../src/media/hang/container.ts';
import { Broadcast, Origin } from '../../src/relay/index.ts';
import { SessionErrorCode, type Authorize, type IetfVersion } from '../../src/moq/ietf/index.ts';
import type { ControlMessage } from '../../src/moq/ietf/messages.ts';
import type { AuthToken } from '../../src/moq/ietf/wire/token.ts';
import { frameControlMessage } from '../../src/moq/ietf/wire/control-framing.ts';
import { ietfFixtures } from '../helpers/ietf-fixtures.ts';
import { RawIetfClient } from '../helpers/ietf-raw-client.ts';
import { type IetfTestServer, startIetfServer } from '../helpers/ietf-server.ts';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const { servers, clients } = ietfFixtures();

async function start(version: IetfVersion, options: { authorize?: Authorize } = {}) {
  const origin = new Origin();
  const server = await startIetfServer({ protocols: [version === 'draft-16' ? 'moqt-16' : 'moql'], origin, ...options });
  servers.push(server);
  return { origin, server, connect: () => connect(server, version) };
}

async function connect(server: IetfTestServer, version: IetfVersion): Promise<RawIetfClient> {
  const client = await RawIetfClient.connect(server.url, version);
  clients.push(client);
  return client;
}

async function closeCode(client: RawIetfClient): Promise<number | undefined> {
  const info = await Promise.race([
    client.session.closed.then(
      (closed) => closed.closeCode,
      () => -1,
    ),
    new Promise<undefined>((resolve) => setTimeout(resolve, 3000)),
  ]);
  return info;
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

const subscribe = (requestId: number, namespace: string[], name: string, extra: Partial<{ forward: boolean; subscriberPriority: number; tokens: AuthToken[] }> = {}): ControlMessage =>
  ({
    type: 'subscribe',
    requestId,
    namespace: namespace.map(text),
    name: text(name),
    subscriberPriority: extra.subscriberPriority ?? 128,
    forward: extra.forward ?? true,
    filter: { type: 'nextGroupStart' },
    parameters: { authorizationTokens: extra.tokens ?? [] },
  });

describe.each(['draft-16', 'draft-14'] as const)('IETF session (%s)', (version) => {
  it('closes with PROTOCOL_VIOLATION on an unknown control message, and keeps serving others', async () => {
    const { connect } = await start(version);
    const bad = await connect();
    await bad.sendRaw(frameControlMessage(0x3f00, Uint8Array.of(1, 2, 3)));
    expect(await closeCode(bad)).toBe(SessionErrorCode.protocolViolation);
    const good = await connect();
    await good.send(subscribe(good.requestId(), ['nothing'], 'here'));
    await good.next('request_error');
  });

  it('closes with PROTOCOL_VIOLATION on a malformed SUBSCRIBE (33 namespace fields)', async () => {
    const { connect } = await start(version);
    const client = await connect();
    const body = new Uint8Array([0x00, 33, ...Array.from({ length: 33 }, () => [1, 0x61]).flat(), 0x00]);
    await client.sendRaw(frameControlMessage(0x03, body));
    expect(await closeCode(client)).toBe(SessionErrorCode.protocolViolation);
  });

  it('closes with INVALID_REQUEST_ID when a request skips an ID', async () => {
    const { connect } = await start(version);
    const client = await connect();
    await client.send(subscribe(2, ['a'], 'b'));
    expect(await closeCode(client)).toBe(SessionErrorCode.invalidRequestId);
  });

  it('closes on an unknown data stream type; ignores a stream for an unknown alias', async () => {
    const { connect } = await start(version);
    const client = await connect();
    await client.publishSubgroup({ trackAlias: 99, groupId: 0, subgroupId: 0, publisherPriority: 1, hasExtensions: false, endOfGroup: true }, [
      { objectId: 0, status: 'normal', extensions: [], payload: Uint8Array.of(1) },
    ]);
    await client.send(subscribe(client.requestId(), ['x'], 'y'));
    await client.next('request_error');
    const stream = await client.session.createUnidirectionalStream();
    const writer = stream.getWriter();
    await writer.write(Uint8Array.of(0x3e, 0x00));
    expect(await closeCode(client)).toBe(SessionErrorCode.protocolViolation);
  });

  it('closes on a second GOAWAY and when the control stream ends', async () => {
    const { connect } = await start(version);
    const client = await connect();
    await client.send({ type: 'goaway', uri: '' });
    await client.send({ type: 'goaway', uri: '' });
    expect(await closeCode(client)).toBe(SessionErrorCode.protocolViolation);
    const finisher = await connect();
    await finisher.finishControl();
    expect(await closeCode(finisher)).toBe(SessionErrorCode.protocolViolation);
  });

  it('hands AUTHORIZATION_TOKEN values to authorize and refuses what it rejects', async () => {
    const seen: [string, string, string | undefined][] = [];
    const authorize: Authorize = (action, path, token) => {
      const value = token && new TextDecoder().decode(token);
      seen.push([action, path, value]);
      return value === 'secret';
    };
    const { origin, connect } = await start(version, { authorize });
    liveBroadcast(origin, 'live/a');
    const client = await connect();
    const denied = client.requestId();
    await client.send(subscribe(denied, ['live', 'a'], 'video'));
    const refusal = await client.next('request_error', (m) => m.requestId === denied);
    expect(refusal.code).toBe(0x1);
    const allowed = client.requestId();
    await client.send(subscribe(allowed, ['live', 'a'], 'video', { tokens: [{ aliasType: 'useValue', tokenType: 0n, value: text('secret') }] }));
    await client.next('subscribe_ok', (m) => m.requestId === allowed);
    const announce = client.requestId();
    await client.send({ type: 'publish_namespace', requestId: announce, namespace: [text('mine')], parameters: { authorizationTokens: [{ aliasType: 'useValue', tokenType: 0n, value: text('nope') }] } });
    await client.next('request_error', (m) => m.requestId === announce);
    expect(seen).toEqual([
      ['subscribe', 'live/a', undefined],
      ['subscribe', 'live/a', 'secret'],
      ['publish', 'mine', 'nope'],
    ]);
  });

  it('SUBSCRIBE_NAMESPACE reports broadcasts as they come and go', async () => {
    const { origin, connect } = await start(version);
    const first = liveBroadcast(origin, 'live/one');
    const client = await connect();
    const requestId = client.requestId();
    const message: ControlMessage = { type: 'subscribe_namespace', requestId, prefix: [text('live')], options: 'namespace', parameters: { authorizationTokens: [] } };
    if (version === 'draft-16') {
      const stream = await client.openRequestStream(message);
      await client.until(() => (stream.messages.length >= 2 ? true : undefined));
      expect(stream.messages[0]).toMatchObject({ type: 'request_ok', requestId });
      expect(stream.messages[1]).toEqual({ type: 'namespace', suffix: [text('one')] });
      liveBroadcast(origin, 'live/two');
      first.broadcast.close();
      await client.until(() => (stream.messages.length >= 4 ? true : undefined));
      expect(stream.messages.slice(2)).toEqual([
        { type: 'namespace', suffix: [text('two')] },
        { type: 'namespace_done', suffix: [text('one')] },
      ]);
    } else {
      await client.send(message);
      await client.next('request_ok', (m) => m.requestId === requestId);
      const announced = await client.next('publish_namespace');
      expect(announced.namespace).toEqual([text('live'), text('one')]);
      expect(announced.requestId % 2).toBe(1);
      await client.send({ type: 'request_ok', kind: 'publish_namespace', requestId: announced.requestId, parameters: { authorizationTokens: [] } });
      first.broadcast.close();
      const done = await client.next('publish_namespace_done');
      expect(done.namespace).toEqual([text('live'), text('one')]);
    }
  });

  it('answers TRACK_STATUS with the Largest Object', async () => {
    const { origin, connect } = await start(version);
    const { video } = liveBroadcast(origin, 'live/s');
    const group = video.appendGroup();
    group.writeFrame(encodeLegacyFrame(0, Uint8Array.of(1)));
    group.writeFrame(encodeLegacyFrame(1, Uint8Array.of(2)));
    const client = await connect();
    const requestId = client.requestId();
    await client.send({ type: 'track_status', requestId, namespace: [text('live'), text('s')], name: text('video'), parameters: { authorizationTokens: [] } });
    if (version === 'draft-16') {
      const ok = await client.next('request_ok', (m) => m.requestId === requestId);
      expect(ok.parameters.largest).toEqual({ group: 0, object: 1 });
    } else {
      const ok = await client.next('track_status_ok', (m) => m.requestId === requestId);
      expect(ok.largest).toEqual({ group: 0, object: 1 });
    }
  });

  it('UNSUBSCRIBE stops delivery without PUBLISH_DONE; forward=0 holds objects back', async () => {
    const { origin, connect } = await start(version);
    const { video } = liveBroadcast(origin, 'live/u');
    const client = await connect();
    const held = client.requestId();
    await client.send(subscribe(held, ['live', 'u'], 'video', { forward: false }));
    const heldOk = await client.next('subscribe_ok', (m) => m.requestId === held);
    const g0 = video.appendGroup();
    g0.writeFrame(encodeLegacyFrame(0, Uint8Array.of(1)));
    g0.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.subgroups.filter((s) => s.header.trackAlias === heldOk.trackAlias)).toHaveLength(0);

    // Forward again (SUBSCRIBE_UPDATE / REQUEST_UPDATE): the next group flows.
    const update = client.requestId();
    await client.send({ type: 'request_update', requestId: update, existingRequestId: held, forward: true, subscriberPriority: 5, filter: version === 'draft-14' ? { type: 'absoluteStart', start: { group: 0, object: 0 } } : undefined, parameters: { authorizationTokens: [] } });
    // draft-14 SUBSCRIBE_UPDATE has no reply: give it time to land before the next group.
    if (version === 'draft-16') await client.next('request_ok', (m) => m.requestId === update);
    else await new Promise((resolve) => setTimeout(resolve, 100));
    const g1 = video.appendGroup();
    g1.writeFrame(encodeLegacyFrame(1, Uint8Array.of(2)));
    g1.close();
    await client.until(() => client.subgroups.find((s) => s.header.trackAlias === heldOk.trackAlias && s.objects.length === 1));

    await client.send({ type: 'unsubscribe', requestId: held });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const g2 = video.appendGroup();
    g2.writeFrame(encodeLegacyFrame(2, Uint8Array.of(3)));
    g2.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.subgroups.filter((s) => s.header.trackAlias === heldOk.trackAlias)).toHaveLength(1);
    expect(client.received.some((m) => m.type === 'publish_done')).toBe(false);
  });

  it('grants more request IDs with MAX_REQUEST_ID as they are used', async () => {
    const origin = new Origin();
    const server = await startIetfServer({ protocols: [version === 'draft-16' ? 'moqt-16' : 'moql'], origin });
    servers.push(server);
    const client = await connect(server, version);
    const setup = await client.next('server_setup');
    const initial = setup.parameters.maxRequestId!;
    for (let i = 0; i < initial / 2 + 2; i++) await client.send(subscribe(client.requestId(), ['none'], 't'));
    const grant = await client.next('max_request_id');
    expect(grant.maxRequestId).toBeGreaterThan(initial);
    await client.until(() => (client.received.filter((m) => m.type === 'request_error').length === initial / 2 + 2 ? true : undefined));
  });

  it('survives random garbage on the control stream and on data streams', async () => {
    const { origin, server, connect } = await start(version);
    liveBroadcast(origin, 'live/f');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.boolean(), async (garbage, onDataStream) => {
        const client = await connect();
        if (onDataStream) {
          const writer = (await client.session.createUnidirectionalStream()).getWriter();
          await writer.write(garbage);
          await writer.close();
        } else {
          await client.sendRaw(garbage);
        }
        // Either the bytes were (by chance) acceptable, or the session closed with a code.
        const code = await Promise.race([closeCode(client), new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 150))]);
        expect(code === 'open' || typeof code === 'number').toBe(true);
        client.close();
      }),
      { numRuns: 25 },
    );
    // The server still serves a well-behaved client.
    const client = await connect();
    const requestId = client.requestId();
    await client.send(subscribe(requestId, ['live', 'f'], 'video'));
    await client.next('subscribe_ok', (m) => m.requestId === requestId);
    expect(server.sessions.length).toBeGreaterThan(25);
  });

  it('sends GOAWAY when asked', async () => {
    const { server, connect } = await start(version);
    const client = await connect();
    server.sessions[0]!.goAway('https://elsewhere.example/');
    expect((await client.next('goaway')).uri).toBe('https://elsewhere.example/');
  });
});
