/**
 * An MSF catalog (draft-ietf-moq-msf §5) describing a hang broadcast's legacy renditions as LOC
 * tracks: the IETF view of the same groups. Codec descriptions (avcC, AudioSpecificConfig, ...)
 * become inline base64 init data referenced by `initRef`, the way @moq/msf and @moq/watch read it.
 * H.264/H.265 tracks are `avc3`/`hev1`: their key frames carry the parameter sets too (see
 * ../loc/in-band.ts).
 *
 * No `timescale`: it is optional (MSF "Timescale") and every LOC object carries its own Timescale
 * property (LOC "Timescale"), as MSF's LOC examples do. A catalog timescale also makes Shaka
 * Player 5.2.12 build an init segment for LOC tracks, which its LOC transmuxer cannot take (its
 * AAC and Opus paths read the start time of a null segment reference and throw, so audio never
 * plays).
 */
import type { TrackInfo } from '../frame.ts';
import { locCodecString } from '../loc/in-band.ts';
import { type MsfCatalog, type MsfInitData, type MsfTrack, MSF_VERSION } from './catalog.ts';

export interface MsfFromHangOptions {
  /** Wall-clock ms for `generatedAt`; omitted when undefined. */
  generatedAt?: number;
  /**
   * The measured frame rate of a video track the hang catalog gives none for (WHIP). MSF
   * "Framerate" is optional, but Shaka Player 5.2.12 derives a LOC video frame's duration from it
   * and skips a video track without one.
   */
  measuredFramerate?: (name: string) => number | undefined;
}

export function msfCatalogFromTracks(tracks: ReadonlyMap<string, TrackInfo>, options: MsfFromHangOptions = {}): MsfCatalog {
  const msfTracks: MsfTrack[] = [];
  const initDataList: MsfInitData[] = [];
  for (const [name, info] of tracks) {
    const track: MsfTrack = {
      name,
      packaging: 'loc',
      isLive: true,
      role: info.kind,
      codec: locCodecString(info),
      renderGroup: 1,
    };
    if (info.kind === 'video') {
      if (info.codedWidth > 0) track.width = info.codedWidth;
      if (info.codedHeight > 0) track.height = info.codedHeight;
      const framerate = info.framerate || options.measuredFramerate?.(name);
      if (framerate) track.framerate = framerate;
    } else {
      if (info.sampleRate > 0) track.samplerate = info.sampleRate;
      if (info.numberOfChannels > 0) track.channelConfig = String(info.numberOfChannels);
    }
    if (info.bitrate) track.bitrate = Math.round(info.bitrate);
    if (info.description && info.description.byteLength > 0) {
      const id = `init-${name}`;
      initDataList.push({ id, type: 'inline', data: Buffer.from(info.description).toString('base64') });
      track.initRef = id;
    }
    msfTracks.push(track);
  }
  const catalog: MsfCatalog = { version: MSF_VERSION, tracks: msfTracks };
  if (options.generatedAt !== undefined) catalog.generatedAt = options.generatedAt;
  if (initDataList.length > 0) catalog.initDataList = initDataList;
  return catalog;
}
