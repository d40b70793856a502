import { hlsUri } from './hls-urls.ts';
import type { PlaylistWindow, SegmentEntry } from './playlist-window.ts';

export interface RenditionReport {
  track: string;
  lastMsn: number;
  lastPart: number;
}

export interface MediaPlaylistContext {
  session: string;
  /** Maps a segment's start (broadcast µs) to wall-clock ms for EXT-X-PROGRAM-DATE-TIME. */
  wallClockMs: (timeUs: number) => number;
  /** The other renditions' positions (EXT-X-RENDITION-REPORT, RFC 8216bis §4.4.5.4). */
  reports: RenditionReport[];
}

/** Enough digits that summed EXTINF/part durations track the media timeline. */
function seconds(value: number): string {
  return value.toFixed(5);
}

/**
 * A Low-Latency HLS media playlist (RFC 8216bis §4.4, §6.2.5): sliding window of segments,
 * EXT-X-PART lines for the last three target durations, a preload hint for the next part,
 * blocking reload and part hold-back advertised, EXT-X-ENDLIST when the broadcast is over.
 */
export function renderMediaPlaylist(window: PlaylistWindow, context: MediaPlaylistContext): string {
  const target = window.targetDuration ?? 1;
  const partTarget = window.options.partTarget;
  const segments = window.segments;
  const first = segments[0];
  const lines = [
    '#EXTM3U',
    // Version 9 covers everything used here (EXT-X-MAP in media playlists needs 6; §7).
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(partTarget)}`,
    // PART-HOLD-BACK at least twice, and here three times, PART-TARGET (§4.4.3.8).
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(3 * partTarget)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first?.msn ?? 0}`,
  ];
  if (window.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${window.discontinuitySequence}`);

  const partsFrom = firstSegmentWithParts(segments, 3 * target);
  let initVersion: number | undefined;
  segments.forEach((segment, i) => {
    if (segment.parts.length === 0) return;
    if (segment.discontinuity && i > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.initVersion !== initVersion) {
      initVersion = segment.initVersion;
      lines.push(`#EXT-X-MAP:URI="${hlsUri.init(context.session, initVersion)}"`);
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(context.wallClockMs(segment.startUs)).toISOString()}`);
    if (i >= partsFrom) {
      for (const part of segment.parts) {
        const independent = part.independent ? ',INDEPENDENT=YES' : '';
        lines.push(`#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${hlsUri.part(context.session, segment.msn, part.index)}"${independent}`);
      }
    }
    if (segment.complete) {
      lines.push(`#EXTINF:${seconds(segment.duration)},`, hlsUri.segment(context.session, segment.msn));
    }
  });

  if (window.ended) {
    lines.push('#EXT-X-ENDLIST');
  } else {
    const next = nextPart(window);
    if (next) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hlsUri.part(context.session, next.msn, next.part)}"`);
    for (const report of context.reports) {
      lines.push(`#EXT-X-RENDITION-REPORT:URI="${hlsUri.siblingPlaylist(report.track)}",LAST-MSN=${report.lastMsn},LAST-PART=${report.lastPart}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Index of the first segment within `horizon` seconds of the end: older ones lose their parts (§4.4.4.9). */
function firstSegmentWithParts(segments: readonly SegmentEntry[], horizon: number): number {
  let total = 0;
  for (let i = segments.length - 1; i >= 0; i--) {
    total += segments[i]!.duration;
    if (total > horizon) return i; // the segment straddling the horizon keeps its parts
  }
  return 0;
}

/** The part that will come next: in the open segment, or the first of the next one. */
function nextPart(window: PlaylistWindow): { msn: number; part: number } | undefined {
  const current = window.current;
  if (!current) return undefined;
  return current.complete ? { msn: current.msn + 1, part: 0 } : { msn: current.msn, part: current.parts.length };
}
