import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  aacCodecString,
  buildAudioSpecificConfig,
  parseAdtsHeader,
  parseAudioSpecificConfig,
  repairAudioSpecificConfig,
  splitAdts,
} from '../../src/media/aac.ts';
import { BitWriter } from '../../src/media/bits.ts';
import { BoxWriter } from '../../adapters/egress/hls/fmp4/box-writer.ts';
import { writeEsds } from '../../adapters/egress/hls/fmp4/esds.ts';
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
    const packetSizes = fx.probe(`${name}.m4a`, 'packet=size').packets!.map((p) => Number(p.size));
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
    // The whole PCE is read (its comment field too): ffmpeg's "no SBR" extension follows it.
    expect(parseAudioSpecificConfig(asc)).toEqual({ objectType: 2, sampleRate: 48000, channels: 6, channelConfiguration: 0, sbr: false });
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
      sbr: true,
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

/** An ASC with backward-compatible (implicit) SBR/PS signalling, 14496-3 1.6.6.2. */
function implicitAsc(coreRate: number, channels: number, outputRate: number, ps: boolean): Uint8Array {
  const rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
  const w = new BitWriter();
  w.writeBits(2, 5);
  w.writeBits(rates.indexOf(coreRate), 4);
  w.writeBits(channels, 4);
  w.writeBits(0, 3);
  w.writeBits(0x2b7, 11);
  w.writeBits(5, 5);
  w.writeBits(1, 1); // sbrPresentFlag
  w.writeBits(rates.indexOf(outputRate), 4);
  if (ps) {
    w.writeBits(0x548, 11);
    w.writeBits(1, 1);
  }
  return w.toBytes();
}

describe('HE-AAC signalling', () => {
  it('reads implicit SBR and PS after the core config', () => {
    expect(parseAudioSpecificConfig(implicitAsc(22050, 2, 44100, false))).toEqual({
      objectType: 2,
      sampleRate: 22050,
      channels: 2,
      channelConfiguration: 2,
      sbr: true,
      extensionSampleRate: 44100,
    });
    expect(parseAudioSpecificConfig(implicitAsc(24000, 1, 48000, true))).toMatchObject({ objectType: 2, channels: 1, sbr: true, ps: true, extensionSampleRate: 48000 });
    // A truncated extension is skipped, as decoders do.
    expect(parseAudioSpecificConfig(fromHex('121056e5'))).toEqual({ objectType: 2, sampleRate: 44100, channels: 2, channelConfiguration: 2 });
  });

  it('builds explicit HE-AAC v1 and v2 configs from the output rate and channels', () => {
    // 48 kHz stereo HE-AAC: AOT 5, 24 kHz core, stereo, 48 kHz extension, core AOT 2.
    expect(toHex(buildAudioSpecificConfig(5, 48000, 2))).toBe('2b118800');
    for (const [objectType, rate, channels] of [[5, 44100, 1], [5, 48000, 6], [29, 48000, 2], [29, 44100, 2]] as const) {
      const parsed = parseAudioSpecificConfig(buildAudioSpecificConfig(objectType, rate, channels));
      expect(parsed).toMatchObject({ objectType, coreObjectType: 2, sampleRate: rate / 2, extensionSampleRate: rate, sbr: true });
      expect(parsed.channels).toBe(objectType === 29 ? 1 : channels);
      expect(parsed.ps).toBe(objectType === 29 ? true : undefined);
    }
    expect(() => buildAudioSpecificConfig(29, 48000, 1)).toThrow(MediaParseError);
  });

  it('refuses explicit signalling over a core that cannot carry SBR, or an output rate below the core', () => {
    expect(() => parseAudioSpecificConfig(fromHex('2a0856e500'))).toThrow(/core object type 21/);
    // AOT 5, 48 kHz core, stereo, extension 24 kHz, core AOT 2.
    const w = new BitWriter();
    for (const [v, n] of [[5, 5], [3, 4], [2, 4], [6, 4], [2, 5], [0, 3]]) w.writeBits(v!, n!);
    expect(() => parseAudioSpecificConfig(w.toBytes())).toThrow(/below its core rate/);
  });

  it("repairs ffmpeg's -profile:a aac_he config (object type 5 in the AAC-LC layout) to AAC-LC", () => {
    const repaired = repairAudioSpecificConfig(fromHex('2a0856e500'));
    expect(toHex(repaired.config)).toBe('120856e500');
    expect(repaired.repaired).toMatch(/read as AAC-LC/);
    expect(parseAudioSpecificConfig(repaired.config)).toMatchObject({ objectType: 2, sampleRate: 44100, channels: 1, sbr: false });
    // Valid configs pass unchanged; malformed ones still throw.
    for (const hex of ['1210', '2b118800', '1190']) expect(repairAudioSpecificConfig(fromHex(hex))).toEqual({ config: fromHex(hex) });
    expect(() => repairAudioSpecificConfig(fromHex('2a'))).toThrow(MediaParseError);
  });

  it('ffmpeg aac_he really writes that config into FLV', () => {
    const flv = fx.ffmpeg(['-f', 'lavfi', '-i', 'sine=sample_rate=44100', '-t', '0.2', '-c:a', 'aac', '-profile:a', 'aac_he', '-f', 'flv'], 'he.flv');
    // First audio tag (type 8) after the 13-byte header: AAC sequence header, packet type 0.
    let pos = 13;
    for (;;) {
      const size = (flv[pos + 1]! << 16) | (flv[pos + 2]! << 8) | flv[pos + 3]!;
      const body = flv.subarray(pos + 11, pos + 11 + size);
      if (flv[pos] === 8 && body[1] === 0) {
        expect(toHex(body.subarray(2))).toBe('2a0856e500');
        break;
      }
      pos += 11 + size + 4;
    }
  }, 30_000);
});

describe('esds writer', () => {
  it('carries any AudioSpecificConfig byte-exact in its DecoderSpecificInfo (property)', () => {
    const configs = fc.oneof(
      fc.record({ objectType: fc.constantFrom(1, 2, 3, 4, 5, 42), rate: fc.constantFrom(8000, 22050, 44100, 48000, 96000, 50000), channels: fc.constantFrom(1, 2, 3, 4, 5, 6, 8) }).map((c) =>
        buildAudioSpecificConfig(c.objectType, c.rate, c.channels),
      ),
      fc.record({ rate: fc.constantFrom(44100, 48000, 32000), ps: fc.boolean() }).map((c) => buildAudioSpecificConfig(c.ps ? 29 : 5, c.rate, 2)),
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
    );
    fc.assert(
      fc.property(configs, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (asc, esId, bitrate) => {
        const w = new BoxWriter();
        writeEsds(w, asc, { esId, avgBitrate: bitrate });
        const box = w.finish();
        expect(String.fromCharCode(...box.subarray(4, 8))).toBe('esds');
        expect(new DataView(box.buffer, box.byteOffset).getUint32(0)).toBe(box.length);
        expect(ascFromEsds(box.subarray(8))).toEqual(asc);
      }),
    );
  });
});
