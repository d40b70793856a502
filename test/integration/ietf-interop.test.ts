/**
 * Interop with the published @moq/net client over QMux WebSocket, for draft-18 (`qmux-01.moqt-18`;
 * @moq/net does not offer moqt-19 over WebSocket), draft-16 (`moqt-16`) and
 * draft-14 (`moql`: CLIENT_SETUP offers [lite-02, lite-01, draft-14], the server picks draft-14).
 * The cases are moq-interop-runner's: setup-only, announce-only, publish-namespace-done,
 * subscribe-error, announce-subscribe, subscribe-before-announce.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type IetfTestServer, startIetfServer } from '../helpers/ietf-server.ts';

type MoqNet = typeof import('@moq/net');
type Connection = Awaited<ReturnType<MoqNet['Connection']['connect']>>;
let Moq: MoqNet;

beforeAll(async () => {
  Moq = await import('@moq/net');
  // @moq/net logs every control message at debug level.
  console.debug = () => undefined;
});

const servers: IetfTestServer[] = [];
const connections: Connection[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.close();
  for (const server of servers.splice(0)) await server.close();
});

const NAMESPACE = 'moq-test/interop';
const TRACK = 'test-track';

async function serve(protocol: string): Promise<IetfTestServer> {
  const server = await startIetfServer({ protocols: [protocol] });
  servers.push(server);
  return server;
}

async function connect(server: IetfTestServer): Promise<Connection> {
  const connection = await withTimeout(Moq.Connection.connect(server.url, { websocket: { delay: 0 } }), 5000, 'connect');
  connections.push(connection);
  return connection;
}

/** A @moq/net publisher of NAMESPACE with one track; other requested tracks are refused. */
function publisher(connection: Connection) {
  const broadcast = new Moq.Broadcast.Producer();
  const track = broadcast.createTrack(TRACK);
  void (async () => {
    for (;;) {
      const request = await broadcast.requested();
      if (!request) return;
      request.reject(new Error('no such track'));
    }
  })();
  connection.publish(Moq.Path.from(NAMESPACE), broadcast);
  return { broadcast, track };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const cases = [
  { name: 'draft-18', protocol: 'moqt-18', version: 'moq-transport-18', session: 'draft-18' },
  { name: 'draft-16', protocol: 'moqt-16', version: 'moq-transport-16', session: 'draft-16' },
  { name: 'draft-14', protocol: 'moql', version: 'moq-transport-14', session: 'draft-14' },
] as const;

describe.each(cases)('@moq/net interop, $name', ({ protocol, version, session }) => {
  it('setup-only', async () => {
    const server = await serve(protocol);
    const connection = await connect(server);
    expect(connection.version).toBe(version);
    expect(server.versions).toEqual([session]);
    connection.close();
    await withTimeout(server.sessions[0]!.closed, 2000, 'session end');
  });

  it('announce-only: PUBLISH_NAMESPACE becomes a relay broadcast', async () => {
    const server = await serve(protocol);
    publisher(await connect(server));
    await eventually(() => server.origin.get(NAMESPACE) !== undefined);
    expect(server.origin.get(NAMESPACE)?.info.protocol).toBe(protocol === 'moql' ? 'moq-00' : protocol);
  });

  it('publish-namespace-done: the broadcast ends with PUBLISH_NAMESPACE_DONE', async () => {
    const server = await serve(protocol);
    const { broadcast } = publisher(await connect(server));
    await eventually(() => server.origin.get(NAMESPACE) !== undefined);
    const relayed = server.origin.get(NAMESPACE)!;
    broadcast.close();
    await withTimeout(relayed.closed(), 3000, 'broadcast end');
    expect(server.origin.get(NAMESPACE)).toBeUndefined();
  });

  it('subscribe-error: SUBSCRIBE for an unknown namespace is refused', async () => {
    const server = await serve(protocol);
    const connection = await connect(server);
    const track = connection.consume(Moq.Path.from('nonexistent/namespace')).subscribe(TRACK);
    const closed = await withTimeout(Promise.resolve(track.closed), 3000, 'subscribe error');
    expect(closed).toBeInstanceOf(Error);
    expect(String(closed)).toMatch(/SUBSCRIBE error/);
  });

  it('announce-subscribe: the relay routes SUBSCRIBE to the publisher and relays its objects', async () => {
    const server = await serve(protocol);
    const { track } = publisher(await connect(server));
    await eventually(() => server.origin.get(NAMESPACE) !== undefined);

    const subscriber = await connect(server);
    const subscription = subscriber.consume(Moq.Path.from(NAMESPACE)).subscribe(TRACK);
    // The relay answers SUBSCRIBE once the publisher accepted its own upstream SUBSCRIBE (§8.4).
    await withTimeout(subscription.info(), 3000, 'SUBSCRIBE_OK');

    const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]), new Uint8Array(1000).fill(7)];
    const received = (async () => {
      const group = await subscription.recvGroup();
      const frames: Uint8Array[] = [];
      for (let frame = await group!.readFrame(); frame; frame = await group!.readFrame()) frames.push(frame.payload);
      return frames;
    })();
    // Groups start after the subscription, so a Largest Object join sees them from object 0.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const group = track.appendGroup();
    for (const payload of payloads) group.writeFrame({ payload, timestamp: Moq.Time.Timestamp.fromMicros(1000) });
    group.close();
    const frames = await withTimeout(received, 5000, 'objects');
    expect(frames.map((frame) => [...frame])).toEqual(payloads.map((payload) => [...payload]));
  });

  it('subscribe-before-announce: refused at once, then served once announced', async () => {
    const server = await serve(protocol);
    const subscriber = await connect(server);
    const early = subscriber.consume(Moq.Path.from(NAMESPACE)).subscribe(TRACK);
    expect(await withTimeout(Promise.resolve(early.closed), 3000, 'early refusal')).toBeInstanceOf(Error);

    await new Promise((resolve) => setTimeout(resolve, 500));
    publisher(await connect(server));
    await eventually(() => server.origin.get(NAMESPACE) !== undefined);
    const late = subscriber.consume(Moq.Path.from(NAMESPACE)).subscribe(TRACK);
    await withTimeout(late.info(), 3000, 'SUBSCRIBE_OK');
  });
});
