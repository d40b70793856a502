/**
 * The published @moq/lite 0.2.2 client against the running gateway over WebSocket, with each
 * framing it offers forced in turn: web-transport-ws (`webtransport`) and QMux (`qmux-00`).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Moq from '@moq/lite';
import { WebSocket } from 'ws';
import { restrictWebSocketProtocols } from '../helpers/polyfills.ts';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { decodeLegacyFrame, encodeLegacyFrame } from '../../src/media/hang/container.ts';

const path = (value: string) => value as Moq.Path.Valid;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Frame `f` of group `g`: known bytes (varying sizes) behind a legacy timestamp. */
function syntheticFrame(g: number, f: number): Uint8Array {
  const payload = new Uint8Array(100 + ((g * 7 + f * 13) % 900)).map((_, i) => (g * 31 + f * 17 + i) & 0xff);
  return encodeLegacyFrame((g * 10 + f) * 33_333, payload);
}

async function readGroup(group: { readFrame(): Promise<Uint8Array | undefined> }): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for (let frame = await group.readFrame(); frame; frame = await group.readFrame()) frames.push(frame);
  return frames;
}

let gw: Awaited<ReturnType<typeof startGateway>>;
const connections: Moq.Connection.Established[] = [];

beforeAll(async () => {
  for (const level of ['debug', 'log', 'info', 'warn'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  gw = await startGateway({ rtmpPort: -1 });
});

afterAll(async () => {
  for (const c of connections) c.close();
  await gw?.stop();
});

async function connect(): Promise<Moq.Connection.Established> {
  const connection = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'connect');
  connections.push(connection);
  return connection;
}

describe.each([
  { framing: 'webtransport', keep: (p: string) => p.startsWith('webtransport') },
  { framing: 'qmux-00', keep: (p: string) => p.startsWith('qmux-00') },
])('@moq/lite over WebSocket with $framing framing', ({ framing, keep }) => {
  let restore: () => void;
  beforeAll(() => {
    restore = restrictWebSocketProtocols(keep);
  });
  afterAll(() => restore());

  it('relays a published broadcast byte-exact, with timestamps, to a second client', async () => {
    const name = `synthetic-${framing}`;
    const publisher = await connect();
    const broadcast = new Moq.Broadcast();
    publisher.publish(path(name), broadcast);
    await until(() => gw.gateway.origin.get(name) !== undefined, 'broadcast announced to the relay');

    const subscriber = await connect();
    const track = subscriber.consume(path(name)).subscribe('video', 60);
    const request = await within(broadcast.requested(), 'upstream request');
    expect(request?.track.name).toBe('video');

    const GROUPS = 5;
    const FRAMES = 10;
    const receiving = (async () => {
      const out: Uint8Array[][] = [];
      while (out.length < GROUPS) {
        const group = await track.nextGroupOrdered();
        if (!group) break;
        out.push(await readGroup(group));
      }
      return out;
    })();
    // Paced like live media (a relay delivers newest-first: a burst of whole groups written
    // faster than a viewer reads would rightly skip the older ones).
    for (let g = 0; g < GROUPS; g++) {
      const group = request!.track.appendGroup();
      for (let f = 0; f < FRAMES; f++) {
        group.writeFrame(syntheticFrame(g, f));
        await sleep(3);
      }
      group.close();
    }
    const received = await within(receiving, 'all groups');
    expect(received).toHaveLength(GROUPS);
    for (let g = 0; g < GROUPS; g++) {
      expect(received[g]).toHaveLength(FRAMES);
      for (let f = 0; f < FRAMES; f++) {
        expect(Buffer.from(received[g]![f]!).equals(Buffer.from(syntheticFrame(g, f)))).toBe(true);
        expect(decodeLegacyFrame(received[g]![f]!).timestamp).toBe((g * 10 + f) * 33_333);
      }
    }

    // A late joiner starts at the latest group, from its first frame.
    const late = await connect();
    const lateTrack = late.consume(path(name)).subscribe('video', 60);
    const first = await within(lateTrack.nextGroupOrdered(), 'late join group');
    expect(first?.sequence).toBe(GROUPS - 1);
    const firstFrame = await within(first!.readFrame(), 'late join frame');
    expect(Buffer.from(firstFrame!).equals(Buffer.from(syntheticFrame(GROUPS - 1, 0)))).toBe(true);

    // The publisher leaving ends the subscription cleanly.
    request!.track.close();
    publisher.close();
    await until(() => gw.gateway.origin.get(name) === undefined, 'broadcast removed');
    expect(await within(track.nextGroupOrdered(), 'end of track')).toBeUndefined();
  });
});

describe('malformed input over WebSocket', () => {
  it('closes only the offending session with a reason; others keep working', async () => {
    const healthy = await connect();
    const broadcast = new Moq.Broadcast();
    healthy.publish(path('still-alive'), broadcast);
    await until(() => gw.gateway.origin.get('still-alive') !== undefined, 'healthy publisher announced');

    // web-transport-ws framing, moq-lite-04: open bidi stream 0 (client-initiated) with garbage.
    const bad = new WebSocket(gw.wsUrl, ['webtransport.moq-lite-04']);
    await new Promise((resolve, reject) => {
      bad.once('open', resolve);
      bad.once('error', reject);
    });
    const frames: Buffer[] = [];
    bad.on('message', (data: Buffer) => frames.push(data));
    const closed = new Promise<{ code: number }>((resolve) => bad.once('close', (code) => resolve({ code })));
    // STREAM frame (0x08) on stream 0: a SUBSCRIBE (type 2) whose length claims 1 MiB, over
    // the control-message limit — a protocol violation that ends the session.
    bad.send(Buffer.from([0x08, 0x00, 0x02, 0x80, 0x10, 0x00, 0x00, 0x01, 0x02]));
    await within(closed, 'bad session closed');
    // The session said why, in a web-transport-ws CLOSE frame (0x1d) before the socket closed.
    const closeFrame = frames.find((f) => f[0] === 0x1d);
    expect(closeFrame?.toString('latin1')).toMatch(/too large|exceeds|limit/i);

    // An unsupported subprotocol is refused at the upgrade.
    const refused = new WebSocket(gw.wsUrl, ['nonsense']);
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('error', () => resolve(-1));
    });
    expect(status).toBe(400);

    expect(gw.gateway.origin.get('still-alive')).toBeDefined();
    const viewer = await connect();
    const track = viewer.consume(path('still-alive')).subscribe('video', 60);
    const request = await within(broadcast.requested(), 'upstream request after the bad session');
    const group = request!.track.appendGroup();
    group.writeFrame(new Uint8Array([1, 2, 3]));
    group.close();
    const got = await within(track.nextGroupOrdered(), 'group after the bad session');
    expect([...(await got!.readFrame())!]).toEqual([1, 2, 3]);
  });
});
