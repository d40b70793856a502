/**
 * Outgoing packet memory of one UDP socket, and the grouping of packets into GSO trains.
 * quiche writes each packet into the next free region of a staging buffer (no copy); the
 * consecutive packets of one connection to one peer that have the same size (the last may be
 * shorter) form a train, which the batched socket sends as one message with UDP_SEGMENT
 * (Linux udp(7) GSO). All trains queued during one event-loop turn leave together in one
 * native call (sendmmsg) from a microtask, so connections serviced in the same pass share it.
 *
 * When the socket copies synchronously (native) the staging buffer is reused after every
 * flush; otherwise (node:dgram, whose libuv may still hold a packet) a full buffer is
 * replaced by a fresh one and lives until its last send completes.
 */
import type { HostPort } from './native-quiche.ts';
import type { UdpSocket } from './udp-socket.ts';

const STAGE_BYTES = 1024 * 1024;
/** A GSO message stays below the 64 KiB IP datagram limit, headers included. */
const MAX_TRAIN_BYTES = 65_000;
/** Kernel limit on segments per GSO send (UDP_MAX_SEGMENTS, 64 before Linux 6.x). */
const MAX_TRAIN_SEGMENTS = 64;
const MAX_TRAINS = 1024;

export class PacketTrains {
  readonly #socket: UdpSocket;
  #stage = Buffer.allocUnsafeSlow(STAGE_BYTES);
  /** Where the next region starts. */
  #offset = 0;
  readonly #trains = new Int32Array(MAX_TRAINS * 4);
  #count = 0;
  readonly #peers: HostPort[] = [];
  // The open train.
  #start = 0;
  #length = 0;
  #segment = 0;
  #peer: HostPort | undefined;
  #flushQueued = false;

  constructor(socket: UdpSocket) {
    this.#socket = socket;
  }

  /** A writable region of `size` bytes for the next packet. */
  region(size: number): Buffer {
    const reuse = this.#socket.reusesSendBuffer;
    // Everything written so far has been handed to the kernel: start over.
    if (reuse && this.#count === 0 && this.#peer === undefined) this.#offset = 0;
    if (this.#stage.byteLength - this.#offset < size) {
      this.flush();
      if (reuse && size <= this.#stage.byteLength) this.#offset = 0;
      else {
        this.#stage = Buffer.allocUnsafeSlow(Math.max(STAGE_BYTES, size));
        this.#offset = 0;
      }
    }
    return this.#stage.subarray(this.#offset, this.#offset + size);
  }

  /** The first `length` bytes of the last region are a packet for `to`; it leaves this turn. */
  commit(length: number, to: HostPort): void {
    if (length <= 0) return;
    const at = this.#offset;
    this.#offset += length;
    const peer = this.#peer;
    if (
      peer !== undefined &&
      at === this.#start + this.#length &&
      length <= this.#segment &&
      this.#length + length <= MAX_TRAIN_BYTES &&
      this.#length < this.#segment * MAX_TRAIN_SEGMENTS &&
      to.port === peer.port &&
      to.host === peer.host
    ) {
      this.#length += length;
      if (length < this.#segment) this.#closeTrain(); // a shorter packet ends a train
    } else {
      this.#closeTrain();
      this.#start = at;
      this.#length = length;
      this.#segment = length;
      this.#peer = to;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushFromMicrotask);
    }
  }

  readonly #flushFromMicrotask = (): void => {
    this.#flushQueued = false;
    this.flush();
  };

  #closeTrain(): void {
    const peer = this.#peer;
    if (peer === undefined) return;
    this.#peer = undefined;
    let slot = this.#peers.length - 1;
    const last = this.#peers[slot];
    if (last === undefined || last.port !== peer.port || last.host !== peer.host) slot = this.#peers.push(peer) - 1;
    const base = this.#count * 4;
    this.#trains[base] = this.#start;
    this.#trains[base + 1] = this.#length;
    this.#trains[base + 2] = this.#segment;
    this.#trains[base + 3] = slot;
    if (++this.#count === MAX_TRAINS) this.flush();
  }

  /** Sends every queued train now. */
  flush(): void {
    this.#closeTrain();
    if (this.#count > 0) {
      this.#socket.sendBatch({ data: this.#stage, trains: this.#trains, count: this.#count, peers: this.#peers });
      this.#count = 0;
      this.#peers.length = 0;
    }
  }
}
