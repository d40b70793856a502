import type { Origin } from '../../src/relay/index.ts';
import { HangBroadcastWriter } from '../../src/media/hang/publisher.ts';
import { fromHex } from '../../src/media/hex.ts';

/** x264 High profile 320x240 avcC and AAC-LC 48 kHz stereo AudioSpecificConfig. */
export const TEST_AVCC = fromHex('0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000468ef8fcbfdf8f800');
export const TEST_ASC = fromHex('1190');

const FRAME_US = 1_000_000 / 30;
const AUDIO_FRAME_US = (1024 * 1_000_000) / 48_000;

/**
 * A broadcast whose media time the test drives: 30 fps H.264 (opaque payloads, optional
 * B-frame reordering) and 48 kHz AAC frames, written through the lead's HangBroadcastWriter
 * as fast as the test asks. Packaging does not parse payloads, so fake bytes suffice here.
 */
export class SyntheticBroadcast {
  readonly writer: HangBroadcastWriter;
  #videoFrame = 0;
  #audioFrame = 0;

  constructor(
    origin: Origin,
    path: string,
    private readonly options: { gop?: number; bframes?: boolean; audio?: boolean } = {},
  ) {
    this.writer = new HangBroadcastWriter(origin, path, { protocol: 'synthetic' });
    this.writer.setTrack('video', { kind: 'video', codec: 'avc1.64000d', description: TEST_AVCC, codedWidth: 320, codedHeight: 240, framerate: 30 });
    if (options.audio ?? true) {
      this.writer.setTrack('audio', { kind: 'audio', codec: 'mp4a.40.2', description: TEST_ASC, sampleRate: 48000, numberOfChannels: 2 });
    }
  }

  /** Media time written so far, µs. */
  get timeUs(): number {
    return this.#videoFrame * FRAME_US;
  }

  /**
   * Write `ms` of media in 100 ms steps, yielding between them so subscribers keep up as they
   * would live (the relay drops the oldest groups of a subscriber more than a few behind).
   */
  async play(ms: number): Promise<void> {
    for (let done = 0; done < ms; done += 100) {
      this.advance(Math.min(100, ms - done));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Write media up to `ms` more at once, interleaving audio and video by time. */
  advance(ms: number): void {
    const until = this.timeUs + ms * 1000;
    while (this.timeUs < until) {
      const videoAt = this.#videoFrame * FRAME_US;
      while ((this.options.audio ?? true) && this.#audioFrame * AUDIO_FRAME_US <= videoAt) {
        const at = Math.round(this.#audioFrame * AUDIO_FRAME_US);
        this.writer.writeFrame('audio', { timestamp: at, compositionOffset: 0, keyframe: true, payload: Uint8Array.of(0x21, this.#audioFrame & 0xff) });
        this.#audioFrame++;
      }
      this.#writeVideo();
    }
  }

  /**
   * With B-frames, after each GOP's keyframe frames come in pairs: a P-frame shown one frame
   * later than its decode slot, then a B-frame shown one earlier; every PTS is shifted one frame
   * so PTS >= DTS, as encoders do.
   */
  #writeVideo(): void {
    const gop = this.options.gop ?? 30;
    const n = this.#videoFrame;
    const inGop = n % gop;
    const keyframe = inGop === 0;
    let ptsFrame = n;
    let compositionFrames = 0;
    if (this.options.bframes && !keyframe && inGop < gop - 1) {
      // inGop odd: P showing one later; inGop even: B showing one earlier.
      ptsFrame = inGop % 2 === 1 ? n + 1 : n - 1;
    }
    if (this.options.bframes) compositionFrames = 1; // constant shift keeps PTS >= DTS
    const dts = Math.round(n * FRAME_US);
    const pts = Math.round((ptsFrame + compositionFrames) * FRAME_US);
    const payload = Uint8Array.of(0, 0, 0, 2, keyframe ? 0x65 : 0x41, n & 0xff);
    this.writer.writeFrame('video', { timestamp: dts, compositionOffset: pts - dts, keyframe, payload });
    this.#videoFrame++;
  }

  close(): void {
    this.writer.close();
  }
}
