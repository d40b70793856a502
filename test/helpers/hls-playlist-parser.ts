/** A small reader of media playlists (RFC 8216bis) for assertions in tests. */
export interface ParsedPart {
  duration: number;
  uri: string;
  independent: boolean;
}

export interface ParsedSegment {
  msn: number;
  /** Undefined for the open segment (parts only). */
  duration?: number;
  uri?: string;
  parts: ParsedPart[];
  programDateTime?: number;
  discontinuity: boolean;
  map?: string;
}

export interface ParsedMediaPlaylist {
  version?: number;
  targetDuration: number;
  partTarget?: number;
  serverControl: Record<string, string>;
  mediaSequence: number;
  discontinuitySequence: number;
  segments: ParsedSegment[];
  preloadHint?: string;
  renditionReports: Record<string, string>[];
  endList: boolean;
}

export function attributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  return out;
}

export function parseMediaPlaylist(text: string): ParsedMediaPlaylist {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '#EXTM3U') throw new Error('not a playlist');
  const out: ParsedMediaPlaylist = { targetDuration: NaN, serverControl: {}, mediaSequence: 0, discontinuitySequence: 0, segments: [], renditionReports: [], endList: false };
  let pending: ParsedSegment | undefined;
  let map: string | undefined;
  const current = (): ParsedSegment => (pending ??= { msn: out.mediaSequence + out.segments.length, parts: [], discontinuity: false, map });
  for (const line of lines.slice(1)) {
    const [tag, value = ''] = line.startsWith('#') ? [line.slice(0, line.indexOf(':') < 0 ? line.length : line.indexOf(':')), line.slice(line.indexOf(':') + 1)] : ['', line];
    switch (tag) {
      case '#EXT-X-VERSION': out.version = Number(value); break;
      case '#EXT-X-TARGETDURATION': out.targetDuration = Number(value); break;
      case '#EXT-X-PART-INF': out.partTarget = Number(attributes(value)['PART-TARGET']); break;
      case '#EXT-X-SERVER-CONTROL': out.serverControl = attributes(value); break;
      case '#EXT-X-MEDIA-SEQUENCE': out.mediaSequence = Number(value); break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE': out.discontinuitySequence = Number(value); break;
      case '#EXT-X-MAP': map = attributes(value).URI; if (pending) pending.map = map; break;
      case '#EXT-X-DISCONTINUITY': current().discontinuity = true; break;
      case '#EXT-X-PROGRAM-DATE-TIME': current().programDateTime = Date.parse(value); break;
      case '#EXT-X-PART': {
        const a = attributes(value);
        current().parts.push({ duration: Number(a.DURATION), uri: a.URI!, independent: a.INDEPENDENT === 'YES' });
        break;
      }
      case '#EXTINF': current().duration = Number(value.split(',')[0]); break;
      case '#EXT-X-PRELOAD-HINT': out.preloadHint = attributes(value).URI; break;
      case '#EXT-X-RENDITION-REPORT': out.renditionReports.push(attributes(value)); break;
      case '#EXT-X-ENDLIST': out.endList = true; break;
      case '': {
        const segment = current();
        segment.uri = line;
        segment.map ??= map;
        out.segments.push(segment);
        pending = undefined;
        break;
      }
      default: break;
    }
  }
  if (pending) out.segments.push(pending);
  return out;
}
