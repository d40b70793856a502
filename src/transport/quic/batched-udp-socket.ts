/**
 * The batched UdpSocket over the native addon (native-udp.ts): a burst of packet trains
 * leaves in one sendmmsg with UDP_SEGMENT per train, and everything readable arrives in one
 * recvmmsg (with UDP_GRO coalescing) and one call into JavaScript.
 */
import type { HostPort } from './native-quiche.ts';
import { ADDRESS_SLOT_BYTES, ECONNREFUSED, noteOffload, type NativeUdp, type NativeUdpHandle } from './native-udp.ts';
import { SOCKET_BUFFER_BYTES, type PacketBatch, type PacketsCallback, type UdpSocket, type UdpSocketOptions } from './udp-socket.ts';

/** 64 KiB slots per recvmmsg: servers read many peers at once, a client has one. */
const SERVER_RECEIVE_SLOTS = 32;
const CLIENT_RECEIVE_SLOTS = 8;
const SLOT_BYTES = 65535;
/** Datagrams one readable event may describe: every slot full of minimum-size QUIC packets. */
const MAX_DATAGRAMS_PER_SLOT = 64;
/** Cached sockaddrs of peers; cleared when it grows past this (a scan of spoofed sources). */
const MAX_CACHED_PEERS = 4096;

export class BatchedUdpSocket implements UdpSocket {
  readonly #addon: NativeUdp;
  readonly #handle: NativeUdpHandle;
  readonly #rx: Uint8Array;
  readonly #meta: Int32Array;
  readonly #connected: boolean;
  readonly #sockaddrs = new Map<string, Buffer>();
  #addresses = Buffer.alloc(0);
  /** Offsets of one source's datagrams, handed to onPackets. */
  #offsets = new Int32Array(0);
  #closed = false;
  readonly local: HostPort;
  readonly reusesSendBuffer = true;
  onPackets: PacketsCallback = () => {};
  onUnreachable: () => void = () => {};

  constructor(addon: NativeUdp, options: UdpSocketOptions) {
    this.#addon = addon;
    this.#connected = options.connectTo !== undefined;
    const slots = this.#connected ? CLIENT_RECEIVE_SLOTS : SERVER_RECEIVE_SLOTS;
    // Unzeroed: pages become resident only as datagrams land in them.
    this.#rx = new Uint8Array(Buffer.allocUnsafeSlow(slots * SLOT_BYTES).buffer);
    this.#meta = new Int32Array(slots * MAX_DATAGRAMS_PER_SLOT * 3);
    this.#offsets = new Int32Array(slots * MAX_DATAGRAMS_PER_SLOT * 2);
    const [handle, host, port, gso, gro] = addon.open(
      options.host,
      options.port,
      options.reusePort ?? false,
      options.connectTo?.host ?? null,
      options.connectTo?.port ?? 0,
      SOCKET_BUFFER_BYTES,
      this.#rx,
      this.#meta,
      this.#onReceive,
    );
    noteOffload(gso, gro);
    this.#handle = handle;
    this.local = { host, port };
  }

  get sendErrors(): number {
    return this.counters().sendErrors;
  }

  /** What the kernel saw: messages (a GSO train is one), sendmmsg/recvmmsg calls, datagrams. */
  counters(): { sentMessages: number; sendCalls: number; sendErrors: number; receivedDatagrams: number; receiveCalls: number; gso: boolean; gro: boolean } {
    const [sentMessages = 0, sendCalls = 0, sendErrors = 0, receivedDatagrams = 0, receiveCalls = 0, gso = 0, gro = 0] = this.#closed ? [] : this.#addon.stats(this.#handle);
    return { sentMessages, sendCalls, sendErrors, receivedDatagrams, receiveCalls, gso: gso === 1, gro: gro === 1 };
  }

  readonly #onReceive = (datagrams: number, sources: readonly (string | number)[], error: number): void => {
    if (error !== 0) {
      if (this.#connected && error === ECONNREFUSED) this.onUnreachable();
      return;
    }
    // Datagrams come grouped by message, in order; hand over each message's run at once.
    const meta = this.#meta;
    const offsets = this.#offsets;
    let index = 0;
    while (index < datagrams && !this.#closed) {
      const message = meta[index * 3 + 2]!;
      let count = 0;
      while (index < datagrams && meta[index * 3 + 2] === message) {
        offsets[count * 2] = meta[index * 3]!;
        offsets[count * 2 + 1] = meta[index * 3 + 1]!;
        count++;
        index++;
      }
      this.onPackets(this.#rx, offsets, count, { host: sources[message * 2] as string, port: sources[message * 2 + 1] as number });
    }
  };

  #sockaddr(peer: HostPort): Buffer {
    const key = `${peer.host} ${peer.port}`;
    let address = this.#sockaddrs.get(key);
    if (!address) {
      if (this.#sockaddrs.size >= MAX_CACHED_PEERS) this.#sockaddrs.clear();
      address = this.#addon.address(this.#handle, peer.host, peer.port);
      this.#sockaddrs.set(key, address);
    }
    return address;
  }

  sendBatch(batch: PacketBatch): void {
    if (this.#closed || batch.count === 0) return;
    if (!this.#connected) {
      if (this.#addresses.byteLength < batch.peers.length * ADDRESS_SLOT_BYTES) this.#addresses = Buffer.alloc(batch.peers.length * 2 * ADDRESS_SLOT_BYTES);
      for (const [index, peer] of batch.peers.entries()) this.#sockaddr(peer).copy(this.#addresses, index * ADDRESS_SLOT_BYTES);
    }
    const status = this.#addon.sendBatch(this.#handle, batch.data, batch.trains, batch.count, this.#addresses);
    if (status === -ECONNREFUSED) this.onUnreachable();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#addon.close(this.#handle);
    // uv_close completes on the next loop iteration.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
