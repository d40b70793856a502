/**
 * Our moq-lite client (src/moq/lite/client.ts) against our own server session, through the real
 * gateway over WebSocket/QMux, for each way a version is chosen: moq-lite-04, moq-lite-03 and
 * `moql` (SETUP → lite-02).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broadcast, RelayError, RelayErrorCode, type Announcement, type Track } from '../../src/relay/index.ts';
import { connectLite, LiteConnectError, type LiteClient } from '../../src/moq/lite/client.ts';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { loadSigningKey } from '../../src/auth/keys.ts';
import { mintToken } from '../../src/auth/mint.ts';

let gw: Awaited<ReturnType<typeof startGateway>>;
const clients: LiteClient[] = [];

beforeAll(async () => {
  gw = await startGateway({ rtmpPort: -1 });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await gw?.stop();
});

async function connect(protocols: string[]): Promise<LiteClient> {
  const client = await within(connectLite(`${gw.httpUrl}/`, { protocols }), 'connect');
  clients.push(client);
  return client;
}

function frame(g: number, f: number): Uint8Array {
  return new Uint8Array(50 + ((g * 7 + f * 13) % 400)).map((_, i) => (g * 31 + f * 17 + i) & 0xff);
}

/** Reads groups from a relay track until it ends; resolves with the frames per group sequence. */
async function drain(track: Track, groups: number): Promise<Map<number, Uint8Array[]>> {
  const subscription = track.subscribe();
  const out = new Map<number, Uint8Array[]>();
  try {
    while (out.size < groups) {
      const group = await subscription.nextGroup();
      if (!group) break;
      const reader = group.reader();
      const frames: Uint8Array[] = [];
      for (let f = await reader.readFrame(); f; f = await reader.readFrame()) frames.push(f);
      out.set(group.sequence, frames);
    }
  } finally {
    subscription.close();
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  { protocol: 'moq-lite-04', version: 'moq-lite-04' },
  { protocol: 'moq-lite-03', version: 'moq-lite-03' },
  { protocol: 'moql', version: 'moq-lite-02' },
])('lite client over $protocol', ({ protocol, version }) => {
  it('subscribes byte-exact, follows announcements, and ends with the broadcast', async () => {
    const name = `client/${protocol}`;
    const client = await connect([protocol]);
    expect(client.stats().version).toBe(version);

    const announced = client.announced('client');
    const seen: Announcement[] = [];
    const following = (async () => {
      for await (const a of announced) {
        seen.push(a);
        if (!a.active) break;
      }
    })();

    const broadcast = new Broadcast(name);
    const source = broadcast.createTrack('video');
    gw.gateway.origin.publish(broadcast);

    const track = client.subscribe(name, 'video', 60);
    const receiving = drain(track, 4);
    await until(() => source.subscriberCount > 0, 'server subscribed to the source track');
    for (let g = 0; g < 4; g++) {
      const group = source.appendGroup();
      for (let f = 0; f < 8; f++) {
        group.writeFrame(frame(g, f));
        await sleep(2);
      }
      group.close();
    }
    const received = await within(receiving, 'groups');
    expect([...received.keys()]).toEqual([0, 1, 2, 3]);
    for (const [g, frames] of received) expect(frames).toEqual(Array.from({ length: 8 }, (_, f) => frame(g, f)));
    expect(client.stats().groupsReceived).toBe(4);

    // The relay ending the broadcast ends the client's track cleanly and withdraws the announcement.
    const keepAlive = track.subscribe();
    broadcast.close();
    expect(await within(track.closed(), 'track end')).toBeUndefined();
    keepAlive.close();
    await within(following, 'announcements');
    expect(seen).toEqual([
      { path: name, active: true },
      { path: name, active: false },
    ]);
    await until(() => client.stats().subscriptions === 0, 'subscription gone');
  });
});

describe('lite client lifetimes', () => {
  it('a refused subscription aborts the track with the server code', async () => {
    const client = await connect(['moq-lite-04']);
    const track = client.subscribe('nothing/here', 'video');
    const error = await within(track.closed(), 'refusal');
    expect(error).toBeInstanceOf(RelayError);
    expect(error?.code).toBe(RelayErrorCode.notFound);
  });

  it('the last relay viewer leaving drops the upstream subscription', async () => {
    const broadcast = new Broadcast('client/idle');
    const source = broadcast.createTrack('audio');
    gw.gateway.origin.publish(broadcast);
    const client = await connect(['moq-lite-04']);
    const track = client.subscribe('client/idle', 'audio');
    const viewer = track.subscribe();
    await until(() => source.subscriberCount === 1, 'served');
    viewer.close();
    track.abort(new RelayError('no subscribers', RelayErrorCode.cancelled));
    await until(() => source.subscriberCount === 0 && client.stats().subscriptions === 0, 'unsubscribed upstream');
    broadcast.close();
  });

  it('close() ends tracks cleanly; the server closing ends them too', async () => {
    const broadcast = new Broadcast('client/close');
    broadcast.createTrack('video');
    gw.gateway.origin.publish(broadcast);
    const client = await connect(['moq-lite-04']);
    const track = client.subscribe('client/close', 'video');
    client.close();
    expect(await within(track.closed(), 'closed')).toBeUndefined();
    expect((await within(client.closed, 'session closed')).failed).toBe(false);

    const other = await connect(['moq-lite-03']);
    const second = other.subscribe('client/close', 'video');
    await until(() => other.stats().subscriptions === 1, 'subscribed');
    let closeSeen = false;
    const closed = other.closed.then((info) => {
      closeSeen = true;
      return info;
    });
    const kicked = await fetchSessions();
    expect(kicked.length).toBeGreaterThan(0);
    for (const session of kicked) await fetch(`${gw.httpUrl}/api/sessions/${session.id}`, { method: 'DELETE' });
    await within(closed, 'server closed the session');
    expect(closeSeen).toBe(true);
    expect(second.ended).toBe(true);
    broadcast.close();
  });

  it('a refused connection fails fast with LiteConnectError', async () => {
    const error = await connectLite('http://127.0.0.1:1/', { connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiteConnectError);
    expect(String(error)).toContain('127.0.0.1:1');
    expect(String(error)).toContain('ECONNREFUSED');
  });
});

describe('lite client with auth', () => {
  it('sends its token as ?jwt=: a bad one is refused with the HTTP status, a good one subscribes', async () => {
    const secret = 'lite-client-test-secret-0123456789abcdef';
    const secured = await startGateway({ rtmpPort: -1, authKey: secret });
    try {
      const refused = await connectLite(`${secured.httpUrl}/`, { token: 'not-a-jwt', connectTimeoutMs: 2000 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(LiteConnectError);
      expect(String(refused)).toMatch(/40[13]/);
      expect(String(refused)).not.toContain('not-a-jwt'); // tokens stay out of messages

      const broadcast = new Broadcast('secure/x');
      broadcast.createTrack('video');
      secured.gateway.origin.publish(broadcast);
      const token = await mintToken(await loadSigningKey(secret), { root: 'secure', get: '' });
      const client = await within(connectLite(`${secured.httpUrl}/`, { token }), 'connect with token');
      clients.push(client);
      client.subscribe('secure/x', 'video');
      await until(() => client.stats().subscriptions === 1 && broadcast.tracks()[0]!.subscriberCount === 1, 'served with the token');
      const denied = client.subscribe('other/y', 'video');
      expect((await within(denied.closed(), 'denied'))?.code).toBe(RelayErrorCode.unauthorized);
      broadcast.close();
    } finally {
      await secured.stop();
    }
  });
});

async function fetchSessions(): Promise<{ id: number }[]> {
  const response = await fetch(`${gw.httpUrl}/api/sessions`);
  const body = (await response.json()) as { sessions: { id: number }[] };
  return body.sessions;
}
