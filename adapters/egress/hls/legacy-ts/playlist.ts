/**
 * Playlists of the MPEG-TS rendition, HLS version 3 (RFC 8216 §4.3; no LL-HLS tags): a
 * multivariant playlist with one variant, and its media playlist of whole segments.
 */
import type { LegacyTsPackager } from './packager.ts';

const legacyUri = {
  multivariant: 'legacy.m3u8',
  media: 'legacy-media.m3u8',
  segment: (session: string, msn: number): string => `legacy-${session}-${msn}.ts`,
};

export function renderLegacyMultivariant(packager: LegacyTsPackager): string {
  // In-band parameter sets (no description in the catalog) say what the stream really is.
  const inBand = packager.inBandConfig;
  const codecs = [inBand?.codec ?? packager.video?.[1].codec, packager.audio?.[1].codec].filter((c) => c !== undefined);
  const measured = packager.listed().reduce((peak, s) => Math.max(peak, (s.bytes.byteLength * 8) / s.durationS), 0);
  const declared = (packager.video?.[1].bitrate ?? 0) + (packager.audio?.[1].bitrate ?? 0);
  const bandwidth = Math.round(Math.max(measured, declared) || 2_000_000);
  const video = packager.video?.[1];
  const size = inBand ? { width: inBand.width, height: inBand.height } : video && { width: video.codedWidth, height: video.codedHeight };
  const resolution = size ? `,RESOLUTION=${size.width}x${size.height}` : '';
  return `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},CODECS="${codecs.join(',')}"${resolution}\n${legacyUri.media}\n`;
}

export function renderLegacyMedia(packager: LegacyTsPackager, session: string): string {
  const segments = packager.listed();
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${packager.targetDuration}`, `#EXT-X-MEDIA-SEQUENCE:${segments[0]?.msn ?? 0}`];
  lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${packager.discontinuitySequence}`);
  for (const segment of segments) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.wallClockMs).toISOString()}`);
    lines.push(`#EXTINF:${segment.durationS.toFixed(3)},`, legacyUri.segment(session, segment.msn));
  }
  if (packager.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
