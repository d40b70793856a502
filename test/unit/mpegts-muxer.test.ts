/**
 * The MPEG-TS muxer against ffmpeg: MP4 samples from libx264/libx265 + AAC are muxed into a
 * transport stream that ffprobe reads back with every frame at its timestamps and that ffmpeg
 * decodes without a message; every packet is 188 bytes with continuous counters, and PAT/PMT
 * lead the stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildAudioSpecificConfig } from '../../src/media/aac.ts';
import { MediaParseError } from '../../src/media/errors.ts';
import { AUDIO_PID, PMT_PID, TsMuxer, VIDEO_PID } from '../../src/media/mpegts/muxer.ts';
import { TS_PACKET_SIZE } from '../../src/media/mpegts/packetizer.ts';
import { lengthPrefixedToAnnexB } from '../../src/media/nal.ts';
import { ascFromEsds, findBox, fixtureDir, type FixtureDir } from './media-fixtures.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Sample {
  kind: 'video' | 'audio';
  ptsUs: number;
  dtsUs: number;
  keyframe: boolean;
  payload: Uint8Array;
}

let fx: FixtureDir;
let tmpDir: string;
beforeAll(() => {
  fx = fixtureDir();
  tmpDir = mkdtempSync(join(tmpdir(), 'mpegts-'));
}, 30_000);
afterAll(() => {
  fx?.remove();
  rmSync(tmpDir, { recursive: true, force: true });
});

/** Encode, then read the MP4's samples (bytes at each packet's pos/size) in decode order. */
function encode(name: string, video: string[]): { samples: Sample[]; description: Uint8Array; asc: Uint8Array } {
  const mp4 = fx.ffmpeg(
    ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '2', ...video, '-c:a', 'aac', '-ac', '2'],
    `${name}.mp4`,
  );
  const packets = fx.probe(`${name}.mp4`, 'packet=codec_type,pts_time,dts_time,size,pos,flags').packets!;
  const samples = packets.map((p) => {
    const pos = Number(p.pos);
    return {
      kind: p.codec_type as 'video' | 'audio',
      ptsUs: Math.round(Number(p.pts_time) * 1e6),
      dtsUs: Math.round(Number(p.dts_time) * 1e6),
      keyframe: String(p.flags).startsWith('K'),
      payload: mp4.subarray(pos, pos + Number(p.size)),
    };
  });
  const codecBox = video.includes('libx265') ? 'hvcC' : 'avcC';
  return { samples: samples.sort((a, b) => a.dtsUs - b.dtsUs), description: findBox(mp4, codecBox).slice(), asc: ascFromEsds(findBox(mp4, 'esds')).slice() };
}

function checkPackets(ts: Uint8Array): void {
  expect(ts.length % TS_PACKET_SIZE).toBe(0);
  const counters = new Map<number, number>();
  for (let at = 0; at < ts.length; at += TS_PACKET_SIZE) {
    expect(ts[at]).toBe(0x47);
    const pid = ((ts[at + 1]! & 0x1f) << 8) | ts[at + 2]!;
    const cc = ts[at + 3]! & 0x0f;
    const previous = counters.get(pid);
    if (previous !== undefined) expect(cc, `continuity on PID ${pid}`).toBe((previous + 1) & 0x0f);
    counters.set(pid, cc);
    const control = (ts[at + 3]! >>> 4) & 0x3;
    if (control === 0x3) expect(ts[at + 4]!).toBeLessThanOrEqual(183);
  }
}

function mux(samples: Sample[], muxer: TsMuxer): Uint8Array {
  const parts = [muxer.tables()];
  for (const s of samples) parts.push(s.kind === 'video' ? muxer.video(s) : muxer.audio(s));
  return Buffer.concat(parts);
}

function probeTs(file: string): {
  streams: { codec_name: string; nb_read_frames: string; profile?: string }[];
  frames: { stream_index: number; pts: number; dts: number }[];
} {
  const streams = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames,profile', '-of', 'json', file]).toString(),
  ).streams;
  const packets = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,pts,dts', '-of', 'json', file]).toString()).packets;
  return { streams, frames: packets };
}

describe.each([
  { name: 'H.264 High with B-frames', codec: 'h264' as const, video: ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-bf', '2'], expect: 'h264' },
  {
    name: 'H.265 Main',
    codec: 'h265' as const,
    video: ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=30:log-level=error', '-tag:v', 'hvc1'],
    expect: 'hevc',
  },
])('MPEG-TS muxer: $name + AAC', ({ name, codec, video, expect: codecName }) => {
  it('ffprobe reads every frame at its timestamps; ffmpeg decodes it without a message', () => {
    const { samples, description, asc } = encode(name.replace(/\W+/g, '-'), video);
    const ts = mux(samples, new TsMuxer({ video: { codec, description }, audio: { codec: 'aac', description: asc } }));
    checkPackets(ts);
    const tmp = join(tmpDir, `${name.replace(/\W+/g, '-')}.ts`);
    writeFileSync(tmp, ts);
    const probe = probeTs(tmp);
    const videoCount = samples.filter((s) => s.kind === 'video').length;
    const audioCount = samples.filter((s) => s.kind === 'audio').length;
    expect(probe.streams.find((s) => s.codec_name === codecName)?.nb_read_frames).toBe(String(videoCount));
    expect(probe.streams.find((s) => s.codec_name === 'aac')?.nb_read_frames).toBe(String(audioCount));
    // Timestamps in 90 kHz: the same as the MP4's (ffprobe lists packets in file order).
    const videoPts = probe.frames.filter((f) => f.stream_index === 0).map((f) => f.pts);
    const sourcePts = samples.filter((s) => s.kind === 'video').map((s) => Math.round(s.ptsUs * 0.09));
    expect(videoPts).toEqual(sourcePts);
    const decode = execFileSync('ffmpeg', ['-v', 'warning', '-nostdin', '-i', tmp, '-f', 'null', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    expect(decode.toString()).toBe('');
  }, 60_000);
});

describe('MPEG-TS muxer structure', () => {
  it('starts with PAT and PMT naming the video and audio PIDs, PCR on video', () => {
    const muxer = new TsMuxer({ video: { codec: 'h264' }, audio: { codec: 'aac', description: buildAudioSpecificConfig(2, 48000, 2) } });
    const tables = muxer.tables();
    expect(tables.length).toBe(2 * TS_PACKET_SIZE);
    const pid = (at: number) => ((tables[at + 1]! & 0x1f) << 8) | tables[at + 2]!;
    expect([pid(0), pid(TS_PACKET_SIZE)]).toEqual([0, PMT_PID]);
    const pmt = tables.subarray(TS_PACKET_SIZE + 5);
    expect(((pmt[8]! & 0x1f) << 8) | pmt[9]!).toBe(VIDEO_PID); // PCR_PID
    expect([pmt[12], ((pmt[13]! & 0x1f) << 8) | pmt[14]!, pmt[17], ((pmt[18]! & 0x1f) << 8) | pmt[19]!]).toEqual([0x1b, VIDEO_PID, 0x0f, AUDIO_PID]);
  });

  it('writes whole, valid packets for any payload size, Annex B or length-prefixed (property)', () => {
    const annexB = new TsMuxer({ video: { codec: 'h264' } });
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 700 }), { maxLength: 6 }),
        fc.boolean(),
        fc.nat(10_000_000_000),
        (nalus, keyframe, ptsUs) => {
          const payload = lengthPrefixedToAnnexB(
            Buffer.concat(nalus.map((n) => Buffer.concat([Buffer.from([0, 0, 0, n.length >>> 8, n.length & 0xff].slice(1)), Buffer.from(n)]))),
          );
          let out: Uint8Array;
          try {
            out = annexB.video({ ptsUs, dtsUs: ptsUs, keyframe, payload });
          } catch (error) {
            if (error instanceof MediaParseError) return;
            throw error;
          }
          expect(out.length % TS_PACKET_SIZE).toBe(0);
          for (let at = 0; at < out.length; at += TS_PACKET_SIZE) expect(out[at]).toBe(0x47);
        },
      ),
    );
  });

  it('refuses AAC configs that ADTS cannot carry', () => {
    // 7.1 via PCE (channelConfiguration 0) and an explicit 50 kHz rate.
    expect(() => new TsMuxer({ audio: { codec: 'aac', description: buildAudioSpecificConfig(2, 50000, 2) } })).toThrow(MediaParseError);
    expect(() => new TsMuxer({})).toThrow(MediaParseError);
  });
});
