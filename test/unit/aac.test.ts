import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aacCodecString,
  buildAudioSpecificConfig,
  parseAdtsHeader,
  parseAudioSpecificConfig,
  splitAdts,
} from '../../src/media/aac.ts';
import { MediaParseError } from '../../src/media/errors.ts';
import { fromHex, toHex } from '../../src/media/hex.ts';
import { ascFromEsds, findBox, fixtureDir, type FixtureDir } from './media-fixtures.ts';

interface Encoded {
  adts: Uint8Array;
  /** The ASC ffmpeg's aac_adtstoasc writes into MP4 for the same stream. */
  asc: Uint8Array;
  packetSizes: number[];
}

let fx: FixtureDir;
const cases = [
  { sampleRate: 48000, channels: 2 },
  { sampleRate: 44100, channels: 1 },
  { sampleRate: 22050, channels: 6 },
];
const encoded = new Map<string, Encoded>();

beforeAll(() => {
  fx = fixtureDir();
  for (const { sampleRate, channels } of cases) {
    const name = `a${sampleRate}x${channels}`;
    const args = ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${sampleRate}`, '-t', '0.5', '-ac', String(channels), '-c:a', 'aac', '-b:a', '64k'];
    const adts = fx.ffmpeg([...args, '-f', 'adts'], `${name}.aac`);
    const m4a = fx.ffmpeg(['-i', `${name}.aac`, '-c', 'copy'], `${name}.m4a`);
    const packetSizes = fx.probe(`${name}.m4a`, 'packet=size').packets!.map((p) => Number(p['size']));
    encoded.set(name, { adts, asc: ascFromEsds(findBox(m4a, 'esds')).slice(), packetSizes });
  }
}, 60_000);
afterAll(() => fx?.remove());

describe('AAC from ffmpeg ADTS', () => {
  for (const { sampleRate, channels } of cases) {
    it(`${sampleRate} Hz, ${channels} channel(s): header, ASC and payloads match ffmpeg's MP4`, () => {
      const e = encoded.get(`a${sampleRate}x${channels}`)!;
      const header = parseAdtsHeader(e.adts);
      expect(header).toMatchObject({ headerLength: 7, objectType: 2, sampleRate, channels, rawDataBlocks: 1 });
      expect(header.config).toEqual(e.asc);
      expect(parseAudioSpecificConfig(e.asc)).toEqual({ objectType: 2, sampleRate, channels, channelConfiguration: channels });
      expect(aacCodecString(e.asc)).toBe('mp4a.40.2');
      expect(buildAudioSpecificConfig(2, sampleRate, channels)).toEqual(e.asc);
      const frames = splitAdts(e.adts);
      expect(frames.map((f) => f.payload.length)).toEqual(e.packetSizes);
      expect(frames.every((f) => toHex(f.header.config) === toHex(e.asc))).toBe(true);
    });
  }

  it('reads the channel count from a program_config_element (ffmpeg, hexagonal layout)', () => {
    const m4a = fx.ffmpeg(
      ['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '0.3', '-af', 'aformat=channel_layouts=hexagonal', '-c:a', 'aac'],
      'hexagonal.m4a',
    );
    const asc = ascFromEsds(findBox(m4a, 'esds'));
    expect(parseAudioSpecificConfig(asc)).toEqual({ objectType: 2, sampleRate: 48000, channels: 6, channelConfiguration: 0 });
  }, 30_000);
});

describe('AudioSpecificConfig vectors', () => {
  it('encodes the well-known two-byte configs', () => {
    expect(toHex(buildAudioSpecificConfig(2, 44100, 2))).toBe('1210');
    expect(toHex(buildAudioSpecificConfig(2, 48000, 2))).toBe('1190');
    expect(toHex(buildAudioSpecificConfig(2, 48000, 8))).toBe('11b8'); // channelConfiguration 7 = 7.1
    expect(parseAudioSpecificConfig(fromHex('11b8')).channels).toBe(8);
  });

  it('parses explicit HE-AAC (SBR) signalling', () => {
    // AOT 5, 24 kHz core, stereo, extension 48 kHz, core AOT 2 (14496-3 1.6.2.1).
    const asc = fromHex('2b118800');
    expect(parseAudioSpecificConfig(asc)).toEqual({
      objectType: 5,
      sampleRate: 24000,
      channels: 2,
      channelConfiguration: 2,
      extensionSampleRate: 48000,
      coreObjectType: 2,
    });
    expect(aacCodecString(asc)).toBe('mp4a.40.5');
  });

  it('round-trips escaped object types and explicit frequencies', () => {
    const asc = buildAudioSpecificConfig(42, 50000, 2);
    expect(asc[0]! >> 3).toBe(31); // escape
    expect(parseAudioSpecificConfig(asc)).toMatchObject({ objectType: 42, sampleRate: 50000, channels: 2 });
    expect(aacCodecString(asc)).toBe('mp4a.40.42');
  });

  it('rejects malformed input with MediaParseError', () => {
    expect(() => parseAudioSpecificConfig(Uint8Array.of(0x12))).toThrow(MediaParseError);
    expect(() => parseAudioSpecificConfig(fromHex('1690'))).toThrow(MediaParseError); // reserved frequency index 13
    expect(() => parseAdtsHeader(fromHex('fff150'))).toThrow(MediaParseError);
    expect(() => parseAdtsHeader(fromHex('00f15080'.padEnd(14, '0')))).toThrow(MediaParseError);
    expect(() => splitAdts(encoded.get('a48000x2')!.adts.subarray(0, 100))).toThrow(MediaParseError);
    expect(() => buildAudioSpecificConfig(2, 48000, 7)).toThrow(MediaParseError);
  });
});
