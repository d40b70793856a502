/**
 * A track an IETF publisher pushes with PUBLISH (draft-16 §9.11): the relay accepts it with
 * PUBLISH_OK and stores its objects in a relay track until PUBLISH_DONE.
 */
import type { Track } from '../../../relay/track.ts';
import type { ObjectToFrame } from '../media-bridge.ts';
import { sleep } from '../session/timers.ts';
import { IngestGroups } from './groups.ts';
import type { IngestSink } from './sink.ts';

const DONE_GRACE_MS = 2_000;

export class PublishedTrack implements IngestSink {
  readonly groups: IngestGroups;
  readonly label: string;
  #openStreams = 0;
  #streamsSeen = 0;
  #ending = false;

  constructor(
    readonly requestId: number,
    readonly trackAlias: number,
    readonly track: Track,
    private readonly resolveFormat: () => Promise<ObjectToFrame>,
  ) {
    this.groups = new IngestGroups(track);
    this.label = track.name;
  }

  format(): Promise<ObjectToFrame> {
    return this.resolveFormat();
  }

  fillFor(): Promise<void> | undefined {
    return undefined;
  }

  streamOpened(): void {
    this.#openStreams++;
    this.#streamsSeen++;
  }

  streamClosed(): void {
    this.#openStreams--;
  }

  endOfTrack(): void {
    void this.end(undefined);
  }

  /** PUBLISH_DONE: wait for the streams it counted (§9.12), bounded, then end the relay track. */
  async end(streamCount: bigint | undefined): Promise<void> {
    if (this.#ending) return;
    this.#ending = true;
    const deadline = Date.now() + DONE_GRACE_MS;
    const expected = streamCount !== undefined && streamCount < BigInt(Number.MAX_SAFE_INTEGER) ? Number(streamCount) : undefined;
    while (Date.now() < deadline && (this.#openStreams > 0 || (expected !== undefined && this.#streamsSeen < expected))) await sleep(50);
    this.groups.closeAll();
    this.track.close();
  }
}
