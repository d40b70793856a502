/**
 * Where the objects of one IETF-published track go: a relay track, the conversion into relay
 * frames, and bookkeeping for the data streams that carry it.
 */
import type { Track } from '../../../relay/track.ts';
import type { ObjectToFrame } from '../media-bridge.ts';
import type { IngestGroups } from './groups.ts';

export interface IngestSink {
  readonly track: Track;
  readonly groups: IngestGroups;
  /** For logs. */
  readonly label: string;
  /** The conversion, once the publisher's catalog says what the track carries. */
  format(): Promise<ObjectToFrame>;
  /** A joining FETCH that is filling the head of `groupId`, if one is in flight. */
  fillFor(groupId: number): Promise<void> | undefined;
  streamOpened(): void;
  streamClosed(): void;
  /** END_OF_TRACK status seen on a stream or datagram. */
  endOfTrack(): void;
}
