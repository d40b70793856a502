/**
 * An MSF catalog (draft-ietf-moq-msf §5) describing a hang broadcast's legacy renditions as LOC
 * tracks: the IETF view of the same groups. Codec descriptions (avcC, AudioSpecificConfig, ...)
 * become inline base64 init data referenced by `initRef`, the way @moq/msf and @moq/watch read it.
 */
import type { TrackInfo } from '../frame.ts';
import { MICROSECONDS_PER_SECOND } from '../loc/properties.ts';
import { type MsfCatalog, type MsfInitData, type MsfTrack, MSF_VERSION } from './catalog.ts';

export interface MsfFromHangOptions {
  /** Wall-clock ms for `generatedAt`; omitted when undefined. */
  generatedAt?: number;
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
      codec: info.codec,
      // LOC timestamps carry Timescale 1e6 per object; say the same here for catalog readers.
      timescale: MICROSECONDS_PER_SECOND,
      renderGroup: 1,
    };
    if (info.kind === 'video') {
      if (info.codedWidth > 0) track.width = info.codedWidth;
      if (info.codedHeight > 0) track.height = info.codedHeight;
      if (info.framerate) track.framerate = info.framerate;
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
