/**
 * Incremental parser of one moq-lite group stream (draft-lcurley-moq-lite §Group): stream type
 * varint, GROUP header (length-prefixed, skipped), then FRAMEs (varint size + payload) until FIN.
 * Bytes may split anywhere. Only the first HEAD_BYTES of each frame are copied (for the stamp);
 * the rest is skipped without a copy: this is all the parsing a viewer of the bench needs.
 */
import { HEAD_BYTES } from './tally.ts';

const Phase = { StreamType: 0, HeaderLength: 1, Header: 2, FrameSize: 3, Frame: 4 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export class GroupParser {
  #phase: Phase = Phase.StreamType;
  /** Varint being read: bytes still expected (0 = at its first byte) and the value so far. */
  #varLeft = 0;
  #varValue = 0;
  /** Bytes left in the header being skipped, or in the frame being read. */
  #left = 0;
  #size = 0;
  readonly #head = new Uint8Array(HEAD_BYTES);
  #headLength = 0;

  constructor(readonly onFrame: (head: Uint8Array, size: number) => void) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.byteLength;
    while (i < n) {
      if (this.#phase === Phase.Frame || this.#phase === Phase.Header) {
        const take = Math.min(this.#left, n - i);
        if (this.#phase === Phase.Frame && this.#headLength < HEAD_BYTES) {
          const copy = Math.min(take, HEAD_BYTES - this.#headLength);
          this.#head.set(chunk.subarray(i, i + copy), this.#headLength);
          this.#headLength += copy;
        }
        i += take;
        this.#left -= take;
        if (this.#left === 0) this.#endOfPart();
        continue;
      }
      // A varint byte (RFC 9000 §16).
      const byte = chunk[i++]!;
      if (this.#varLeft === 0) {
        this.#varLeft = (1 << (byte >> 6)) - 1;
        this.#varValue = byte & 0x3f;
      } else {
        this.#varValue = this.#varValue * 256 + byte;
        this.#varLeft--;
      }
      if (this.#varLeft === 0) this.#endOfVarint(this.#varValue);
    }
  }

  #endOfVarint(value: number): void {
    switch (this.#phase) {
      case Phase.StreamType:
        this.#phase = Phase.HeaderLength;
        return;
      case Phase.HeaderLength:
        this.#left = value;
        this.#phase = value === 0 ? Phase.FrameSize : Phase.Header;
        return;
      case Phase.FrameSize:
        this.#size = value;
        this.#left = value;
        this.#headLength = 0;
        this.#phase = Phase.Frame;
        if (value === 0) this.#endOfPart();
        return;
    }
  }

  #endOfPart(): void {
    if (this.#phase === Phase.Frame) this.onFrame(this.#head.subarray(0, this.#headLength), this.#size);
    this.#phase = Phase.FrameSize;
  }
}
