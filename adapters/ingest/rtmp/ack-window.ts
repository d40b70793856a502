/**
 * Acknowledgement bookkeeping (RTMP 1.0, 5.4.3-5.4.4): the peer's Window Acknowledgement Size
 * says after how many received bytes it wants an Acknowledgement carrying the total received
 * so far. node-media-server never sends one; encoders that honour the window then stall on
 * long streams, so the session feeds every received byte through here.
 */
export class AckWindow {
  /** librtmp's and ffmpeg's default window, used until the peer announces one. */
  static readonly DEFAULT_WINDOW = 2_500_000;

  private windowSize = AckWindow.DEFAULT_WINDOW;
  private received = 0;
  private lastAcked = 0;

  setWindowSize(size: number): void {
    // 0 would mean "acknowledge every byte"; treat nonsense as the default.
    this.windowSize = size > 0 ? size : AckWindow.DEFAULT_WINDOW;
  }

  /** Count bytes; returns the sequence number to acknowledge (32-bit, wrapping) or null. */
  onBytes(count: number): number | null {
    this.received += count;
    if (this.received - this.lastAcked < this.windowSize) return null;
    this.lastAcked = this.received;
    return this.received % 2 ** 32;
  }
}
