/**
 * Hang track descriptions from an MSF catalog (draft-ietf-moq-msf §5): the LOC audio and video
 * tracks an IETF publisher offers, for the relay's `catalog.json`. Tracks in other packagings,
 * without a codec, or of other roles are left out (their objects pass through untouched).
 */
import type { TrackInfo } from '../frame.ts';
import { type MsfCatalog, msfInitData, type MsfTrack } from './catalog.ts';

export function tracksFromMsfCatalog(catalog: MsfCatalog): Map<string, TrackInfo> {
  const tracks = new Map<string, TrackInfo>();
  for (const track of catalog.tracks) {
    if (track.packaging !== 'loc' || typeof track.codec !== 'string') continue;
    const role = track.role ?? guessRole(track.codec);
    const description = decodeBase64(msfInitData(catalog, track));
    if (role === 'video') {
      tracks.set(track.name, {
        kind: 'video',
        codec: track.codec,
        ...(description ? { description } : {}),
        codedWidth: positive(track.width),
        codedHeight: positive(track.height),
        ...(positive(track.framerate) ? { framerate: track.framerate } : {}),
        ...(positive(track.bitrate) ? { bitrate: track.bitrate } : {}),
      });
    } else if (role === 'audio') {
      tracks.set(track.name, {
        kind: 'audio',
        codec: track.codec,
        ...(description ? { description } : {}),
        sampleRate: positive(track.samplerate) || 48_000,
        numberOfChannels: channels(track) || 2,
        ...(positive(track.bitrate) ? { bitrate: track.bitrate } : {}),
      });
    }
  }
  return tracks;
}

/** LOC track names of the catalog (the ones whose objects carry LOC properties). */
export function locTrackNames(catalog: MsfCatalog): Set<string> {
  return new Set(catalog.tracks.filter((track) => track.packaging === 'loc').map((track) => track.name));
}

function guessRole(codec: string): 'video' | 'audio' | undefined {
  if (/^(avc[13]|hvc1|hev1|av01|vp0?8|vp09)/.test(codec)) return 'video';
  if (/^(mp4a|opus|flac|mp3|ac-3|ec-3|pcm)/.test(codec)) return 'audio';
  return undefined;
}

function positive(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function channels(track: MsfTrack): number {
  const parsed = Number.parseInt(track.channelConfig ?? '', 10);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : 0;
}

function decodeBase64(data: string | undefined): Uint8Array | undefined {
  if (!data || !/^[A-Za-z0-9+/=\s]+$/.test(data)) return undefined;
  const bytes = new Uint8Array(Buffer.from(data, 'base64'));
  return bytes.byteLength > 0 ? bytes : undefined;
}
