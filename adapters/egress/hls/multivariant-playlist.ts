import { hlsUri } from './hls-urls.ts';

export interface VideoVariant {
  track: string;
  codecs: string;
  /** Peak bits per second of the video alone. */
  bandwidth: number;
  width: number;
  height: number;
  framerate?: number;
}

export interface AudioRendition {
  track: string;
  codecs: string;
  bandwidth: number;
  channels: number;
}

function quoted(value: string): string {
  return `"${value.replace(/["\r\n]/g, '_')}"`;
}

/** Audio renditions are grouped by codec: a variant's CODECS must cover every rendition of its group. */
function audioGroups(audio: readonly AudioRendition[]): Map<string, AudioRendition[]> {
  const groups = new Map<string, AudioRendition[]>();
  // AAC first: it plays everywhere, Opus-in-fMP4 does not (see README).
  const ordered = [...audio].sort((a, b) => Number(a.codecs === 'opus') - Number(b.codecs === 'opus'));
  for (const rendition of ordered) {
    const id = rendition.codecs === 'opus' ? 'audio-opus' : `audio-${rendition.codecs.replace(/[^a-z0-9]/gi, '')}`;
    const list = groups.get(id) ?? [];
    list.push(rendition);
    groups.set(id, list);
  }
  return groups;
}

/**
 * The multivariant playlist (RFC 8216bis §4.4.6): one variant per video rendition and audio
 * codec, audio as separate renditions (EXT-X-MEDIA TYPE=AUDIO). Separate rather than muxed
 * because each relay track is its own CMAF track (ISO/IEC 23000-19 §7.3.1 allows one track per
 * CMAF track file): renditions are packaged independently, only when watched, and audio-only
 * or alternative-codec players pick what they can decode.
 */
export function renderMultivariantPlaylist(video: readonly VideoVariant[], audio: readonly AudioRendition[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:9'];
  const groups = audioGroups(audio);
  // Audio as alternative renditions only next to video; alone, each is a variant itself.
  for (const [groupId, renditions] of video.length > 0 ? groups : []) {
    renditions.forEach((r, i) => {
      const defaults = i === 0 ? 'DEFAULT=YES,AUTOSELECT=YES' : 'DEFAULT=NO,AUTOSELECT=YES';
      lines.push(
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=${quoted(groupId)},NAME=${quoted(r.track)},${defaults},CHANNELS="${r.channels}",URI=${quoted(hlsUri.mediaPlaylist(r.track))}`,
      );
    });
  }
  if (video.length > 0) {
    for (const v of video) {
      const groupList: [string | undefined, AudioRendition[]][] = groups.size > 0 ? [...groups] : [[undefined, []]];
      for (const [groupId, renditions] of groupList) {
        const audioBandwidth = Math.max(0, ...renditions.map((r) => r.bandwidth));
        const codecs = [v.codecs, ...(renditions[0] ? [renditions[0].codecs] : [])].join(',');
        const attributes = [
          `BANDWIDTH=${Math.round(v.bandwidth + audioBandwidth)}`,
          `CODECS=${quoted(codecs)}`,
          `RESOLUTION=${v.width}x${v.height}`,
          ...(v.framerate ? [`FRAME-RATE=${v.framerate.toFixed(3)}`] : []),
          ...(groupId ? [`AUDIO=${quoted(groupId)}`] : []),
        ];
        lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, hlsUri.mediaPlaylist(v.track));
      }
    }
  } else {
    // Audio only: each rendition is a variant of its own.
    for (const renditions of groups.values()) {
      for (const r of renditions) {
        lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${Math.round(r.bandwidth)},CODECS=${quoted(r.codecs)}`, hlsUri.mediaPlaylist(r.track));
      }
    }
  }
  return lines.join('\n') + '\n';
}
