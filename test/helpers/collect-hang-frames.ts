/** Reads a hang track over @moq/lite frame by frame until it ends or `stop` resolves. */
import type * as Moq from '@moq/lite';
import { decodeLegacyFrame } from '../../src/media/hang/container.ts';

export interface ReceivedFrame {
  group: number;
  /** The frame's place in its group. */
  index: number;
  timestamp: number;
  payload: Uint8Array;
}

export async function collectHangFrames(track: Moq.Track, stop: Promise<unknown>): Promise<ReceivedFrame[]> {
  const frames: ReceivedFrame[] = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  while (!stopped) {
    const group = await Promise.race([track.nextGroupOrdered(), stop.then(() => undefined)]);
    if (!group) break;
    let index = 0;
    for (;;) {
      const frame = await Promise.race([group.readFrame(), stop.then(() => undefined)]);
      if (!frame) break;
      const decoded = decodeLegacyFrame(frame);
      frames.push({ group: group.sequence, index: index++, timestamp: decoded.timestamp, payload: decoded.payload });
    }
  }
  return frames;
}
