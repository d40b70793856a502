import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingRequestUfrag, looksLikeStun } from '../../adapters/ingest/whip/stun-username.ts';
import { UdpMux, type MuxedTransport } from '../../adapters/ingest/whip/udp-mux.ts';

/** A STUN message (RFC 8489 §5): type, transaction id, attributes as [type, value]. */
function stun(type: number, id: number, attributes: [number, Buffer][] = []): Buffer {
  const body = Buffer.concat(attributes.map(([t, v]) => Buffer.concat([Buffer.from([t >> 8, t & 255, v.length >> 8, v.length & 255]), v, Buffer.alloc((4 - (v.length % 4)) % 4)])));
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(body.length, 2);
  header.writeUInt32BE(0x2112a442, 4);
  header.writeUInt32BE(id, 16);
  return Buffer.concat([header, body]);
}
const USERNAME = 0x0006;
const binding = (username: string, id: number) => stun(0x0001, id, [[0x0024, Buffer.from([1, 2, 3, 4])], [USERNAME, Buffer.from(username)]]);

describe('STUN USERNAME of a Binding request', () => {
  it('is our ufrag: the part before the colon', () => {
    expect(bindingRequestUfrag(binding('srv1:cli1', 1))).toBe('srv1');
    expect(looksLikeStun(binding('a:b', 1))).toBe(true);
  });

  it('is absent from responses, malformed messages and other protocols', () => {
    expect(bindingRequestUfrag(stun(0x0101, 1, [[USERNAME, Buffer.from('srv1:cli1')]]))).toBeUndefined(); // success response
    expect(bindingRequestUfrag(binding('nocolon', 1))).toBeUndefined();
    expect(bindingRequestUfrag(binding(':cli', 1))).toBeUndefined();
    const truncated = binding('srv1:cli1', 1).subarray(0, 30);
    expect(bindingRequestUfrag(truncated)).toBeUndefined();
    const lying = binding('srv1:cli1', 1);
    lying.writeUInt16BE(0x00ff, 22); // attribute longer than the message
    expect(bindingRequestUfrag(lying)).toBeUndefined();
    expect(bindingRequestUfrag(Buffer.from([22, 254, 253, ...new Array(30).fill(0)]))).toBeUndefined(); // DTLS
    expect(looksLikeStun(Buffer.from([0x80, 0x6f, ...new Array(30).fill(0)]))).toBe(false); // RTP
  });
});

describe('UdpMux routing', () => {
  let mux: UdpMux;
  let alice: Socket;
  let bob: Socket;
  const received = new Map<MuxedTransport, Buffer[]>();

  const open = async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return socket;
  };
  const tap = (t: MuxedTransport) => {
    received.set(t, []);
    t.onData = (data) => received.get(t)!.push(data);
    return t;
  };
  const send = (from: Socket, data: Buffer) => new Promise<void>((r) => from.send(data, mux.port, '127.0.0.1', () => r()));
  const settle = () => new Promise((r) => setTimeout(r, 50));

  beforeAll(async () => {
    mux = await UdpMux.bind(0, '127.0.0.1');
    [alice, bob] = await Promise.all([open(), open()]);
  });
  afterAll(async () => {
    alice.close();
    bob.close();
    await mux.close();
  });

  it('by ufrag, then by the address that proved it, then by transaction id', async () => {
    const a = mux.createSession();
    const b = mux.createSession();
    const a1 = tap(mux.openTransport(a));
    const b1 = tap(mux.openTransport(b));
    a.setUfrag('aaaa');
    b.setUfrag('bbbb');
    expect(() => mux.createSession().setUfrag('aaaa')).toThrow(/already in use/);

    const dtls = Buffer.from([22, 254, 253, 1, 2, 3]);
    await send(alice, dtls); // before any Binding request: nobody's
    await send(alice, binding('aaaa:x', 1));
    await send(bob, binding('bbbb:y', 2));
    await send(alice, dtls);
    await settle();
    expect(received.get(a1)!.map((d) => d[0])).toEqual([0, 22]);
    expect(received.get(b1)!.map((d) => d[0])).toEqual([0]);
    expect(mux.stats()).toMatchObject({ sessions: 2, routedAddresses: 2, dropped: 1 });

    // Our check to bob from a's transport: bob's answer goes to a1 by its transaction id.
    const bobAddress = bob.address();
    await a1.send(stun(0x0001, 77, [[USERNAME, Buffer.from('y:aaaa')]]), ['127.0.0.1', bobAddress.port]);
    const request = await new Promise<Buffer>((r) => bob.once('message', (m) => r(m)));
    await send(bob, stun(0x0101, request.readUInt32BE(16)));
    await settle();
    expect(received.get(a1)!).toHaveLength(3);
    expect(received.get(b1)!).toHaveLength(1);

    // A closed session frees its ufrag and addresses.
    a.close();
    await send(alice, dtls);
    await send(alice, binding('aaaa:x', 3));
    await settle();
    expect(received.get(a1)!).toHaveLength(3);
    expect(mux.stats()).toMatchObject({ sessions: 1, routedAddresses: 1 });
    b.close();
    expect(mux.stats()).toMatchObject({ sessions: 0, routedAddresses: 0 });
  });
});
