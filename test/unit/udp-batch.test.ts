/**
 * The batched UDP addon (native/udp/udp_batch.c) through its sockets: a burst of GSO trains
 * crosses into the kernel in one call and arrives byte-exact, the kernel splits a train into
 * datagrams on loopback, the GRO control data is parsed, a connected socket hears ICMP port
 * unreachable, and the node:dgram fallback carries the same batch.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchedUdpSocket } from '../../src/transport/quic/batched-udp-socket.ts';
import { DgramUdpSocket } from '../../src/transport/quic/dgram-udp-socket.ts';
import type { HostPort } from '../../src/transport/quic/native-quiche.ts';
import { nativeUdp, udpMode } from '../../src/transport/quic/native-udp.ts';
import { PacketTrains } from '../../src/transport/quic/packet-trains.ts';
import type { UdpSocket } from '../../src/transport/quic/udp-socket.ts';

const forcedDgram = process.env.MOQ_GATEWAY_UDP === 'dgram';
const addon = nativeUdp;
const open: UdpSocket[] = [];
const sockets: dgram.Socket[] = [];

afterEach(async () => {
  for (const socket of open.splice(0)) await socket.close();
  for (const socket of sockets.splice(0)) socket.close();
});

/** Packet i: `size` bytes, all (i & 0xff), first two bytes i. */
function packet(i: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(i & 0xff);
  bytes[0] = i >> 8;
  bytes[1] = i & 0xff;
  return bytes;
}

/** Sizes of a burst: two trains of full packets with a short tail each, then single packets. */
const SIZES = [...Array(40).fill(1350), 700, ...Array(10).fill(1200), 1200, 90, 1350, 64];

function queue(trains: PacketTrains, to: HostPort): void {
  for (const [i, size] of SIZES.entries()) {
    trains.region(1350).set(packet(i, size));
    trains.commit(size, to);
  }
}

function collect(socket: UdpSocket, expected: number): Promise<Uint8Array[]> {
  const received: Uint8Array[] = [];
  return new Promise((resolve) => {
    socket.onPackets = (buffer, offsets, count) => {
      for (let i = 0; i < count; i++) received.push(Uint8Array.from(buffer.subarray(offsets[i * 2]!, offsets[i * 2]! + offsets[i * 2 + 1]!)));
      if (received.length >= expected) resolve(received);
    };
  });
}

const sortByIndex = (packets: Uint8Array[]): Uint8Array[] => [...packets].sort((a, b) => ((a[0]! << 8) | a[1]!) - ((b[0]! << 8) | b[1]!));

/** Queues the burst on `sender`, flushes it once, and expects every packet at `receiver` byte-exact. */
async function expectBurstDelivered(sender: UdpSocket, receiver: UdpSocket): Promise<void> {
  const arrived = collect(receiver, SIZES.length);
  const trains = new PacketTrains(sender);
  queue(trains, receiver.local);
  trains.flush();
  const received = sortByIndex(await arrived);
  expect(received.map((p) => p.byteLength)).toEqual(SIZES);
  for (const [i, p] of received.entries()) expect(p).toEqual(packet(i, SIZES[i]!));
}

describe.skipIf(forcedDgram)('batched UDP addon', () => {
  it('is loaded (native/build.mjs ran on npm ci) and reports GSO/GRO in udpMode()', () => {
    expect(addon).toBeDefined();
    const socket = new BatchedUdpSocket(addon!, { host: '127.0.0.1', port: 0 });
    open.push(socket);
    expect(udpMode()).toEqual({ mode: 'batched', reason: expect.stringMatching(/GSO (on|off), GRO (on|off)/) });
  });

  it('sends a burst of trains in one native call and receives it byte-exact through recvmmsg/GRO', async () => {
    const receiver = new BatchedUdpSocket(addon!, { host: '127.0.0.1', port: 0 });
    const sender = new BatchedUdpSocket(addon!, { host: '127.0.0.1', port: 0 });
    open.push(receiver, sender);
    await expectBurstDelivered(sender, receiver);
    expect(sender.counters()).toMatchObject({ sendCalls: 1 });
    // Three trains: 40 × 1350 + 700; 11 × 1200 + 90; 1350 + 64 (a shorter packet ends a train).
    if (sender.counters().gso) expect(sender.counters().sentMessages).toBe(3);
    expect(receiver.counters().receivedDatagrams).toBe(SIZES.length);
    expect(receiver.counters().receiveCalls).toBeLessThan(SIZES.length);
  });

  it('hands the kernel GSO trains that it splits into separate datagrams on loopback', async () => {
    const receiver = dgram.createSocket('udp4');
    sockets.push(receiver);
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const sender = new BatchedUdpSocket(addon!, { host: '127.0.0.1', port: 0 });
    open.push(sender);
    const sizes: number[] = [];
    const done = new Promise<void>((resolve) =>
      receiver.on('message', (message) => {
        sizes.push(message.byteLength);
        if (sizes.length === 41) resolve();
      }),
    );
    const trains = new PacketTrains(sender);
    for (let i = 0; i < 41; i++) {
      const size = i < 40 ? 1350 : 700;
      trains.region(1350).set(packet(i, size));
      trains.commit(size, { host: '127.0.0.1', port: receiver.address().port });
    }
    trains.flush();
    await done;
    expect(sizes).toEqual([...Array(40).fill(1350), 700]);
    const counters = sender.counters();
    expect(counters.sendCalls).toBe(1); // one sendmmsg for the burst
    expect(counters.sentMessages).toBe(counters.gso ? 1 : 41); // one GSO message for the train
  });

  it('parses the UDP_GRO control message into equal segments and a short tail', () => {
    const control = new Uint8Array(24);
    const view = new DataView(control.buffer);
    view.setBigUint64(0, 20n, true);
    view.setInt32(8, 17, true); // SOL_UDP
    view.setInt32(12, 104, true); // UDP_GRO
    view.setInt32(16, 1200, true);
    const out = new Int32Array(30);
    expect(addon!.groSegments(control, 3000, out)).toBe(3);
    expect([...out.subarray(0, 9)]).toEqual([0, 1200, 0, 1200, 1200, 0, 2400, 600, 0]);
    expect(addon!.groSegments(new Uint8Array(0), 1350, out)).toBe(1);
    view.setBigUint64(0, 200n, true); // cmsg_len past the buffer
    expect(addon!.groSegments(control, 3000, out)).toBe(-1);
  });

  it('tells a connected socket that nobody listens at its peer (ICMP port unreachable)', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const port = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = new BatchedUdpSocket(addon!, { host: '0.0.0.0', port: 0, connectTo: { host: '127.0.0.1', port } });
    open.push(client);
    const unreachable = new Promise<void>((resolve) => {
      client.onUnreachable = resolve;
    });
    const trains = new PacketTrains(client);
    const timer = setInterval(() => {
      trains.region(100).fill(1);
      trains.commit(100, { host: '127.0.0.1', port });
    }, 20);
    await unreachable.finally(() => clearInterval(timer));
  });
});

describe('node:dgram fallback', () => {
  it('carries the same burst of trains, one datagram per packet', async () => {
    const receiver = await DgramUdpSocket.bind({ host: '127.0.0.1', port: 0 });
    const sender = await DgramUdpSocket.bind({ host: '127.0.0.1', port: 0 });
    open.push(receiver, sender);
    await expectBurstDelivered(sender, receiver);
  });

  it('is chosen with MOQ_GATEWAY_UDP=dgram, and udpMode() says so', () => {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', '-e', "import('./src/transport/quic/native-udp.ts').then((m) => process.stdout.write(JSON.stringify(m.udpMode())))"],
      { env: { ...process.env, MOQ_GATEWAY_UDP: 'dgram' }, encoding: 'utf8' },
    );
    expect(JSON.parse(output)).toEqual({ mode: 'dgram', reason: 'MOQ_GATEWAY_UDP=dgram' });
  });
});
