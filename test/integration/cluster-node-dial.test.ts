/**
 * How a node reaches another: raw QUIC (node token in the moql SETUP PATH, dev certificate
 * pinned from /certificate.sha256), and WebSocket when the other node has no QUIC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import { dialNode } from '../../src/cluster/node-dial.ts';
import { Broadcast } from '../../src/relay/index.ts';
import { startGateway, until, within } from '../helpers/gateway.ts';

const SECRET = 'node-dial-secret-at-least-32-bytes-long!!';

describe.each([
  { quic: true, expected: 'quic' },
  { quic: false, expected: 'websocket' },
])('dialNode to a node with QUIC $quic', ({ quic, expected }) => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    gw = await startGateway({ authKey: SECRET, quic });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it(`connects over ${expected} with the node token and receives a group`, async () => {
    const broadcast = new Broadcast('live/dial');
    const source = broadcast.createTrack('video');
    gw.gateway.origin.publish(broadcast);
    const token = await mintToken(await loadSigningKey(SECRET), { root: '', get: '', expiresAt: Math.floor(Date.now() / 1000) + 60 });
    const { client, transport } = await within(dialNode(`${gw.httpUrl}/`, { token, connectTimeoutMs: 3000 }), 'dial');
    try {
      expect(transport).toBe(expected);
      const subscription = client.subscribe('live/dial', 'video').subscribe();
      await until(() => source.subscriberCount === 1, 'subscribed upstream');
      const group = source.appendGroup();
      group.writeFrame(new Uint8Array([9, 9, 9]));
      group.close();
      const received = await within(subscription.nextGroup(), 'group');
      expect(await received!.reader().readFrame()).toEqual(new Uint8Array([9, 9, 9]));
    } finally {
      client.close();
      broadcast.close();
    }
  });

  it('is refused without the node token, on every transport it tries', async () => {
    await expect(within(dialNode(`${gw.httpUrl}/`, { connectTimeoutMs: 3000 }), 'dial without token')).rejects.toThrow();
  });
});
