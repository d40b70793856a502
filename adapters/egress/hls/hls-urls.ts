/**
 * URL layout under `/hls/<broadcast>/` (relative URIs in the playlists, RFC 8216bis §4.1):
 *
 *   index.m3u8                          multivariant playlist
 *   <track>/media.m3u8                  media playlist of one rendition (relay track)
 *   <track>/<session>-init<v>.mp4       init segment, version v (EXT-X-MAP)
 *   <track>/<session>-<msn>.m4s         media segment
 *   <track>/<session>-<msn>.<part>.m4s  partial segment (EXT-X-PART)
 *   legacy.m3u8                         MPEG-TS multivariant playlist (HLS version 3)
 *   legacy-media.m3u8                   its media playlist
 *   legacy-<session>-<msn>.ts           its segments (audio and video muxed)
 *
 * `<session>` changes whenever the packaging restarts (idle timeout, new publisher), so a
 * media URL always names the same bytes and can be cached for long.
 * Track names that are not plain URL tokens are written as `~` + base64url(UTF-8).
 */
export type HlsResource =
  | { kind: 'multivariant' }
  | { kind: 'media-playlist'; track: string }
  | { kind: 'init'; track: string; session: string; version: number }
  | { kind: 'segment'; track: string; session: string; msn: number }
  | { kind: 'part'; track: string; session: string; msn: number; part: number }
  | { kind: 'legacy-multivariant' }
  | { kind: 'legacy-media' }
  | { kind: 'legacy-segment'; session: string; msn: number };

export interface HlsRequestPath {
  broadcast: string;
  resource: HlsResource;
}

const PLAIN_TRACK = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const LEGACY_SEGMENT = /^legacy-([a-z0-9]+)-(\d+)\.ts$/;
const MEDIA_FILE = /^([a-z0-9]+)-(?:init(\d+)\.mp4|(\d+)\.m4s|(\d+)\.(\d+)\.m4s)$/;

export function trackPathSegment(track: string): string {
  return PLAIN_TRACK.test(track) ? track : `~${Buffer.from(track, 'utf8').toString('base64url')}`;
}

function trackFromPathSegment(segment: string): string | undefined {
  if (PLAIN_TRACK.test(segment)) return segment;
  if (!segment.startsWith('~')) return undefined;
  const name = Buffer.from(segment.slice(1), 'base64url').toString('utf8');
  return name.length > 0 ? name : undefined;
}

export const hlsUri = {
  mediaPlaylist: (track: string): string => `${trackPathSegment(track)}/media.m3u8`,
  /** From one media playlist to a sibling rendition's (EXT-X-RENDITION-REPORT). */
  siblingPlaylist: (track: string): string => `../${trackPathSegment(track)}/media.m3u8`,
  init: (session: string, version: number): string => `${session}-init${version}.mp4`,
  segment: (session: string, msn: number): string => `${session}-${msn}.m4s`,
  part: (session: string, msn: number, part: number): string => `${session}-${msn}.${part}.m4s`,
};

/** Parse the path after `/hls/` (already percent-decoded, no query). */
export function parseHlsPath(subpath: string): HlsRequestPath | undefined {
  const segments = subpath.split('?')[0]!.split('/').filter((s) => s.length > 0);
  const file = segments.pop();
  if (!file) return undefined;
  if (file === 'index.m3u8') {
    return segments.length > 0 ? { broadcast: segments.join('/'), resource: { kind: 'multivariant' } } : undefined;
  }
  // The MPEG-TS rendition's files sit beside index.m3u8 (no track folder).
  const legacy = LEGACY_SEGMENT.exec(file);
  if (segments.length > 0 && (file === 'legacy.m3u8' || file === 'legacy-media.m3u8' || legacy)) {
    const broadcast = segments.join('/');
    if (legacy) return { broadcast, resource: { kind: 'legacy-segment', session: legacy[1]!, msn: Number.parseInt(legacy[2]!, 10) } };
    return { broadcast, resource: { kind: file === 'legacy.m3u8' ? 'legacy-multivariant' : 'legacy-media' } };
  }
  const trackSegment = segments.pop();
  if (!trackSegment || segments.length === 0) return undefined;
  const track = trackFromPathSegment(trackSegment);
  if (track === undefined) return undefined;
  const broadcast = segments.join('/');
  if (file === 'media.m3u8') return { broadcast, resource: { kind: 'media-playlist', track } };
  const m = MEDIA_FILE.exec(file);
  if (!m) return undefined;
  const session = m[1]!;
  const int = (s: string) => Number.parseInt(s, 10);
  if (m[2] !== undefined) return { broadcast, resource: { kind: 'init', track, session, version: int(m[2]) } };
  if (m[3] !== undefined) return { broadcast, resource: { kind: 'segment', track, session, msn: int(m[3]) } };
  return { broadcast, resource: { kind: 'part', track, session, msn: int(m[4]!), part: int(m[5]!) } };
}
