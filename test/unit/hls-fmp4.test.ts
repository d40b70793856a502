import { describe, expect, it } from 'vitest';
import { createFile, MP4BoxBuffer } from 'mp4box';
import { fromHex } from '../../src/media/hex.ts';
import { buildOpusHead } from '../../src/media/opus.ts';
import type { TrackInfo } from '../../src/media/frame.ts';
import { describeCmafTrack, type CmafTrack } from '../../adapters/egress/hls/cmaf-track.ts';
import { InBandParameterSets } from '../../src/media/in-band-parameter-sets.ts';
import { buildFragment, type FragmentSample } from '../../adapters/egress/hls/fmp4/fragment.ts';
import { opusPacketSamples } from '../../adapters/egress/hls/opus-packet-duration.ts';

/** x264 High profile 320x240 avcC and an AAC-LC 48 kHz stereo AudioSpecificConfig. */
const AVCC = fromHex('0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000468ef8fcbfdf8f800');
const ASC = fromHex('1190');

interface ParsedTrack {
  codec: string;
  timescale: number;
  type: string | undefined;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

interface ParsedSample {
  dts: number;
  cts: number;
  duration: number;
  sync: boolean;
  size: number;
}

/**
 * mp4box as an independent reader of what we write: the one place its types are narrowed
 * (our writer does not use it; see adapters/egress/hls/README.md).
 */
function readWithMp4box(chunks: Uint8Array[]): { track: ParsedTrack; samples: ParsedSample[] } {
  const file = createFile();
  let track: ParsedTrack | undefined;
  const samples: ParsedSample[] = [];
  file.onReady = (movie) => {
    const t = movie.tracks[0]!;
    track = {
      codec: t.codec,
      timescale: t.timescale,
      type: t.type,
      ...(t.video ? { width: t.video.width, height: t.video.height } : {}),
      ...(t.audio ? { sampleRate: t.audio.sample_rate, channels: t.audio.channel_count } : {}),
    };
    file.setExtractionOptions(t.id, undefined, { nbSamples: 1000 });
    file.start();
  };
  file.onSamples = (_id, _user, list) => {
    for (const s of list) samples.push({ dts: s.dts, cts: s.cts, duration: s.duration, sync: s.is_sync, size: s.size });
  };
  let offset = 0;
  for (const chunk of chunks) {
    const copy = chunk.slice();
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(copy.buffer, offset));
    offset += copy.byteLength;
  }
  file.flush();
  if (!track) throw new Error('mp4box found no track');
  return { track, samples };
}

function ready(info: TrackInfo): CmafTrack {
  const result = describeCmafTrack(info);
  if (result.kind !== 'ready') throw new Error(`not ready: ${JSON.stringify(result)}`);
  return result.track;
}

const video: TrackInfo = { kind: 'video', codec: 'avc1.64000d', description: AVCC, codedWidth: 320, codedHeight: 240 };

describe('CMAF init segments', () => {
  it('H.264: avc1 + avcC, 90 kHz, dimensions; mvex appears once', () => {
    const track = ready(video);
    expect(track.codecs).toBe('avc1.64000d');
    const { track: parsed } = readWithMp4box([track.init]);
    expect(parsed).toMatchObject({ codec: 'avc1.64000d', timescale: 90000, type: 'video', width: 320, height: 240 });
    const text = Buffer.from(track.init).toString('latin1');
    expect(text.split('mvex').length - 1).toBe(1);
    expect(text.split('trex').length - 1).toBe(1);
  });

  it('AAC: mp4a + esds carrying the AudioSpecificConfig, timescale = sample rate, rate in the entry', () => {
    const track = ready({ kind: 'audio', codec: 'mp4a.40.2', description: ASC, sampleRate: 48000, numberOfChannels: 2 });
    const { track: parsed } = readWithMp4box([track.init]);
    expect(parsed).toMatchObject({ codec: 'mp4a.40.2', timescale: 48000, type: 'audio', sampleRate: 48000, channels: 2 });
    // The DecoderSpecificInfo (tag 5) holds the ASC verbatim.
    const hex = Buffer.from(track.init).toString('hex');
    expect(hex).toContain('0502' + '1190');
  });

  it('AAC without a description gets an AudioSpecificConfig from the catalog fields', () => {
    const track = ready({ kind: 'audio', codec: 'mp4a.40.2', sampleRate: 44100, numberOfChannels: 1 });
    expect(readWithMp4box([track.init]).track).toMatchObject({ codec: 'mp4a.40.2', timescale: 44100, channels: 1 });
  });

  it('Opus: Opus + dOps (big-endian OpusHead fields), 48 kHz', () => {
    const head = buildOpusHead(2, 48000, 312);
    const track = ready({ kind: 'audio', codec: 'opus', description: head, sampleRate: 48000, numberOfChannels: 2 });
    expect(track.codecs).toBe('opus');
    const { track: parsed } = readWithMp4box([track.init]);
    expect(parsed).toMatchObject({ timescale: 48000, type: 'audio', channels: 2, sampleRate: 48000 });
    expect(parsed.codec.toLowerCase()).toBe('opus');
    // dOps: version 0, 2 channels, pre-skip 312, 48000 Hz, gain 0, family 0.
    expect(Buffer.from(track.init).toString('hex')).toContain('644f7073' + '00' + '02' + '0138' + '0000bb80' + '0000' + '00');
  });

  it('H.264 without a description waits for a keyframe; an avcC built from in-band Annex B parameter sets describes it', () => {
    const inband: TrackInfo = { ...video, description: undefined };
    expect(describeCmafTrack(inband).kind).toBe('needs-keyframe');
    const sps = AVCC.subarray(8, 8 + 0x19);
    const pps = AVCC.subarray(8 + 0x19 + 3, 8 + 0x19 + 3 + 4);
    const keyframe = Uint8Array.from([0, 0, 0, 1, ...sps, 0, 0, 1, ...pps, 0, 0, 1, 0x65, 0x88, 0x80]);
    const { config } = new InBandParameterSets('avc').push(keyframe);
    const result = describeCmafTrack({ ...inband, description: config!.description });
    expect(result.kind).toBe('ready');
    if (result.kind === 'ready') expect(readWithMp4box([result.track.init]).track.codec).toBe('avc1.64000d');
  });

  it('unsupported codecs are reported, not thrown', () => {
    expect(describeCmafTrack({ kind: 'audio', codec: 'pcm', sampleRate: 48000, numberOfChannels: 2 }).kind).toBe('unsupported');
    expect(describeCmafTrack({ kind: 'video', codec: 'vp8', codedWidth: 1, codedHeight: 1 }).kind).toBe('unsupported');
  });
});

describe('CMAF fragments', () => {
  it('B-frames: trun version 1 with signed offsets; the keyframe has DTS = PTS', () => {
    const track = ready(video);
    // Decode order I0 P3 B1 B2 (PTS in frames of 3000 ticks), DTS = sorted PTS.
    const pts = [0, 3, 1, 2];
    const samples: FragmentSample[] = pts.map((p, i) => ({
      duration: 3000,
      compositionOffset: (p - i) * 3000,
      keyframe: i === 0,
      data: new Uint8Array(10 + i),
    }));
    const fragment = buildFragment({ trackId: 1, sequenceNumber: 1, baseMediaDecodeTime: 900_000, samples });
    const { samples: parsed } = readWithMp4box([track.init, fragment]);
    expect(parsed.map((s) => s.dts)).toEqual([900_000, 903_000, 906_000, 909_000]);
    expect(parsed.map((s) => s.cts)).toEqual(pts.map((p) => 900_000 + p * 3000));
    expect(parsed.map((s) => s.sync)).toEqual([true, false, false, false]);
    expect(parsed.map((s) => s.size)).toEqual([10, 11, 12, 13]);
    // trun version byte
    const trun = Buffer.from(fragment).indexOf('trun');
    expect(fragment[trun + 4]).toBe(1);
  });

  it('without reordering trun stays version 0 and omits offsets', () => {
    const samples: FragmentSample[] = [0, 1, 2].map(() => ({ duration: 1024, compositionOffset: 0, keyframe: true, data: new Uint8Array(4) }));
    const fragment = buildFragment({ trackId: 1, sequenceNumber: 7, baseMediaDecodeTime: 2 ** 33 + 5, samples });
    const trun = Buffer.from(fragment).indexOf('trun');
    expect(fragment[trun + 4]).toBe(0);
    expect(fragment[trun + 7]! & 0x08).toBe(0); // no composition offsets
    const track = ready({ kind: 'audio', codec: 'mp4a.40.2', description: ASC, sampleRate: 48000, numberOfChannels: 2 });
    const { samples: parsed } = readWithMp4box([track.init, fragment]);
    expect(parsed.map((s) => s.dts)).toEqual([0, 1, 2].map((i) => 2 ** 33 + 5 + i * 1024)); // 64-bit tfdt
  });
});

describe('Opus packet durations (RFC 6716 §3.1)', () => {
  it('reads frame size and count from the TOC byte', () => {
    expect(opusPacketSamples(Uint8Array.of((31 << 3) | 0))).toBe(960); // CELT 20 ms, one frame
    expect(opusPacketSamples(Uint8Array.of((1 << 3) | 1))).toBe(1920); // SILK 20 ms, two frames
    expect(opusPacketSamples(Uint8Array.of((16 << 3) | 3, 4))).toBe(480); // CELT 2.5 ms × 4
    expect(opusPacketSamples(Uint8Array.of((3 << 3) | 3, 3))).toBeUndefined(); // 60 ms × 3 > 120 ms (§3.2.5)
    expect(opusPacketSamples(new Uint8Array(0))).toBeUndefined();
  });
});
