import { renderMultivariantPlaylist, type AudioRendition, type VideoVariant } from '../multivariant-playlist.ts';
import type { RecordingIndex, RecordingTrack } from './recording-files.ts';

function bandwidth(track: RecordingTrack): number {
  let peak = 0;
  for (const s of track.segments) if (s.durationUs > 0) peak = Math.max(peak, (s.bytes * 8 * 1e6) / s.durationUs);
  return Math.round(peak) || 128_000;
}

/** The multivariant playlist of a recording: the same shape as live HLS (separate audio rendition). */
export function renderRecordingMultivariant(index: RecordingIndex): string | undefined {
  const video: VideoVariant[] = [];
  const audio: AudioRendition[] = [];
  for (const [label, track] of index.tracks) {
    const latest = track.inits.get(track.segments.at(-1)!.initVersion)!;
    if (latest.kind === 'video') video.push({ track: label, codecs: latest.codecs, bandwidth: bandwidth(track), width: latest.width ?? 0, height: latest.height ?? 0 });
    else audio.push({ track: label, codecs: latest.codecs, bandwidth: bandwidth(track), channels: latest.channels ?? 2 });
  }
  if (video.length === 0 && audio.length === 0) return undefined;
  return renderMultivariantPlaylist(video, audio);
}

/**
 * A recorded track's media playlist (RFC 8216bis §4.4.3): VOD with EXT-X-ENDLIST once the
 * recording ended, EVENT while it is still being written (§4.4.3.5: a VOD playlist never changes).
 * Each init version is an EXT-X-MAP; a changed configuration or timeline is a discontinuity.
 */
export function renderRecordingMediaPlaylist(track: RecordingTrack, ended: boolean): string {
  const target = Math.max(1, ...track.segments.map((s) => Math.ceil(s.durationUs / 1e6)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-PLAYLIST-TYPE:${ended ? 'VOD' : 'EVENT'}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  let map: number | undefined;
  let previousSeq: number | undefined;
  for (const s of track.segments) {
    // A gap (a segment lost to a crash) or a new init segment: the decoder must reset.
    const gap = previousSeq !== undefined && s.seq !== previousSeq + 1;
    if (previousSeq !== undefined && (s.discontinuity || gap || s.initVersion !== map)) lines.push('#EXT-X-DISCONTINUITY');
    if (s.initVersion !== map) {
      lines.push(`#EXT-X-MAP:URI="${s.file.slice(0, 1)}-init${s.initVersion}.mp4"`);
      map = s.initVersion;
    }
    lines.push(`#EXTINF:${(s.durationUs / 1e6).toFixed(5)},`, s.file);
    previousSeq = s.seq;
  }
  if (ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
