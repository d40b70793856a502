/**
 * Outgoing packet memory shared by all connections of one UDP socket. quiche writes each
 * packet into the next free region; the region is handed to the socket and never rewritten
 * (libuv may still hold it), so when a slab is used up a fresh one is allocated and the old
 * one lives until its last send completes. One slab per socket instead of per connection
 * keeps idle connections cheap.
 */
const SLAB_BYTES = 256 * 1024;

export class PacketSlab {
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  #offset = 0;

  /** A writable region of `size` bytes that no queued packet uses. */
  region(size: number): Buffer {
    if (this.#slab.byteLength - this.#offset < size) {
      this.#slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, size));
      this.#offset = 0;
    }
    return this.#slab.subarray(this.#offset, this.#offset + size);
  }

  /** The first `length` bytes of the last region now belong to a packet in flight. */
  commit(length: number): void {
    this.#offset += length;
  }
}
