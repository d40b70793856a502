/**
 * Parameter sets in the LOC payload (src/media/loc/in-band.ts) and what the MSF catalog says about
 * them (src/media/msf/from-hang.ts), with records from ffmpeg 5.1 (libx264, libx265).
 */
import { describe, expect, it } from 'vitest';
import type { TrackInfo, VideoTrackInfo } from '../../src/media/frame.ts';
import { estimateFramerate } from '../../src/media/frame-rate.ts';
import { buildAvcC } from '../../src/media/h264.ts';
import { buildHvcC } from '../../src/media/h265.ts';
import { inBandParameterSets, locCodecString } from '../../src/media/loc/in-band.ts';
import { msfCatalogFromTracks } from '../../src/media/msf/from-hang.ts';
import { peerQuirks } from '../../src/moq/ietf/session/peer.ts';

const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const SPS = fromHex('6764000dacd94141fb0110000003001000000303c0f1429960');
const PPS = fromHex('68ebe3cb22c0');
const AVCC = buildAvcC([SPS], [PPS]);
const VPS = fromHex('40010c01ffff01600000030090000003000003003c959809');
const HSPS = fromHex('42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10');
const HPPS = fromHex('4401c172b46240');
const HVCC = buildHvcC([VPS], [HSPS], [HPPS]);

const video = (codec: string, description?: Uint8Array): VideoTrackInfo => ({ kind: 'video', codec, ...(description ? { description } : {}), codedWidth: 320, codedHeight: 240, framerate: 30 });
/** NAL units with `size`-byte big-endian lengths. */
const prefixed = (units: Uint8Array[], size = 4): Uint8Array =>
  Uint8Array.from(units.flatMap((unit) => [...Array.from({ length: size }, (_, i) => (unit.length >>> (8 * (size - 1 - i))) & 0xff), ...unit]));

describe('LOC parameter sets in band', () => {
  const idr = Uint8Array.of(0x65, 0x88, 0x84, 0x00);
  const slice = Uint8Array.of(0x41, 0x9a, 0x02);
  const sei = Uint8Array.of(0x06, 0x05, 0x01, 0x00);

  it('H.264: an IDR access unit gets SPS and PPS in front, in the stream NAL length size', () => {
    const sets = inBandParameterSets(video('avc1.64000d', AVCC))!;
    expect(sets.codec).toBe('avc3.64000d');
    const key = prefixed([sei, idr]);
    expect(sets.needsParameterSets(key)).toBe(true);
    expect([...sets.withParameterSets(key)]).toEqual([...prefixed([SPS, PPS, sei, idr])]);
    // Not for other frames, nor for a key frame that already has them, nor for malformed lengths.
    expect(sets.needsParameterSets(prefixed([slice]))).toBe(false);
    expect(sets.needsParameterSets(prefixed([SPS, PPS, idr]))).toBe(false);
    expect(sets.needsParameterSets(Uint8Array.of(0, 0, 0, 9, 0x65))).toBe(false);
    expect(sets.needsParameterSets(new Uint8Array(0))).toBe(false);

    // An avcC with 2-byte NAL lengths (lengthSizeMinusOne = 1): the frames and our prefix use 2.
    const short = AVCC.slice();
    short[4] = 0xfd;
    const twoByte = inBandParameterSets(video('avc1.64000d', short))!;
    expect(twoByte.needsParameterSets(prefixed([idr]))).toBe(false); // read with 2-byte lengths: no IDR
    expect([...twoByte.withParameterSets(prefixed([idr], 2))]).toEqual([...prefixed([SPS, PPS, idr], 2)]);
  });

  it('H.265: an IRAP access unit gets VPS, SPS and PPS in front; the track becomes hev1', () => {
    const sets = inBandParameterSets(video('hvc1.1.6.L60.90', HVCC))!;
    expect(sets.codec).toBe('hev1.1.6.L60.90');
    const cra = Uint8Array.of(0x2a, 0x01, 0xaf); // type 21 (CRA)
    const trail = Uint8Array.of(0x02, 0x01, 0xd0); // type 1
    expect(sets.needsParameterSets(prefixed([cra]))).toBe(true);
    expect([...sets.withParameterSets(prefixed([cra]))]).toEqual([...prefixed([VPS, HSPS, HPPS, cra])]);
    expect(sets.needsParameterSets(prefixed([trail]))).toBe(false);
  });

  it('leaves other tracks alone and labels only in-band H.264/H.265 tracks avc3/hev1', () => {
    expect(inBandParameterSets(video('av01.0.08M.08', Uint8Array.of(0x81, 0, 0, 0)))).toBeUndefined();
    expect(inBandParameterSets(video('avc1.64000d'))).toBeUndefined(); // Annex B: already in band
    expect(inBandParameterSets(video('avc1.64000d', Uint8Array.of(1, 2, 3)))).toBeUndefined();
    const audio: TrackInfo = { kind: 'audio', codec: 'mp4a.40.2', description: Uint8Array.of(0x11, 0x90), sampleRate: 48_000, numberOfChannels: 2 };
    expect(inBandParameterSets(audio)).toBeUndefined();

    expect(locCodecString(video('avc1.64000d', AVCC))).toBe('avc3.64000d');
    expect(locCodecString(video('avc1.64000d'))).toBe('avc3.64000d');
    expect(locCodecString(video('avc3.64000d', AVCC))).toBe('avc3.64000d');
    expect(locCodecString(video('hvc1.1.6.L60.90'))).toBe('hev1.1.6.L60.90');
    // A description we cannot read: parameter sets stay out of band, so the label stays too.
    expect(locCodecString(video('avc1.64000d', Uint8Array.of(1, 2, 3)))).toBe('avc1.64000d');
    expect(locCodecString(video('vp09.00.10.08'))).toBe('vp09.00.10.08');
    expect(locCodecString(audio)).toBe('mp4a.40.2');
  });

  it('the MSF catalog says avc3, keeps the avcC in initDataList and has no timescale', () => {
    const catalog = msfCatalogFromTracks(new Map([['video', video('avc1.64000d', AVCC)]]));
    const track = catalog.tracks[0]!;
    expect(track).toMatchObject({ name: 'video', packaging: 'loc', codec: 'avc3.64000d', framerate: 30 });
    expect(track).not.toHaveProperty('timescale');
    expect(catalog.initDataList).toEqual([{ id: track.initRef, type: 'inline', data: Buffer.from(AVCC).toString('base64') }]);
  });
});

describe('measured frame rate (WHIP video has none)', () => {
  it('is the median step of the presentation timestamps, in any order', () => {
    const at30 = Array.from({ length: 20 }, (_, i) => Math.round((i * 1_000_000) / 30));
    expect(estimateFramerate(at30)).toBe(30);
    // B-frame order, one late frame and one duplicate do not move the median.
    expect(estimateFramerate([0, 100_000, 33_333, 66_667, 133_333, 166_667, 266_667, 300_000, 300_000])).toBe(30);
    expect(estimateFramerate([0, 50_000, 100_000, 150_000])).toBe(20);
    expect(estimateFramerate([0, 40_000])).toBeUndefined(); // one step is not a rate
    expect(estimateFramerate([0, 1, 2, 3])).toBeUndefined(); // 1 MHz: a glitch
    expect(estimateFramerate([])).toBeUndefined();
  });

  it('fills the MSF catalog only where the source gave no frame rate', () => {
    const tracks = new Map<string, TrackInfo>([
      ['camera', { ...video('avc1.64000d', AVCC), framerate: undefined }],
      ['rtmp', video('avc1.64000d', AVCC)],
    ]);
    const catalog = msfCatalogFromTracks(tracks, { measuredFramerate: () => 19.5 });
    expect(catalog.tracks.map((t) => [t.name, t.framerate])).toEqual([
      ['camera', 19.5],
      ['rtmp', 30],
    ]);
  });
});

describe('IETF peer quirks', () => {
  it('only Shaka Player on draft 16 gets SUBSCRIBE_OK without Track Extensions', () => {
    expect(peerQuirks({ version: 'draft-16', implementation: 'ShakaPlayer/v5.2.12' }).dropsTrackExtensions).toBe(true);
    expect(peerQuirks({ version: 'draft-14', implementation: 'ShakaPlayer/v5.2.12' }).dropsTrackExtensions).toBe(false);
    expect(peerQuirks({ version: 'draft-16', implementation: 'moq-gateway' }).dropsTrackExtensions).toBe(false);
    expect(peerQuirks({ version: 'draft-16', implementation: undefined }).dropsTrackExtensions).toBe(false);
  });
});
