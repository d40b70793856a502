/** Real bitstreams for the codec helper tests, made by ffmpeg in a temp dir. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FixtureDir {
  /** The temp dir's path. */
  dir: string;
  /** Run ffmpeg (quiet, overwrite) in the dir; returns the named output file's bytes. */
  ffmpeg(args: string[], output: string): Uint8Array;
  /** ffprobe `-show_entries <entries> -of json` on a file in the dir. */
  probe(file: string, entries: string): { streams?: Record<string, unknown>[]; packets?: Record<string, unknown>[] };
  read(file: string): Uint8Array;
  remove(): void;
}

export function fixtureDir(): FixtureDir {
  const dir = mkdtempSync(join(tmpdir(), 'media-test-'));
  const read = (file: string): Uint8Array => new Uint8Array(readFileSync(join(dir, file)));
  return {
    dir,
    ffmpeg(args, output) {
      execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, output], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      return read(output);
    },
    probe(file, entries) {
      const json = execFileSync('ffprobe', ['-v', 'error', '-show_entries', entries, '-of', 'json', file], { cwd: dir });
      return JSON.parse(json.toString()) as ReturnType<FixtureDir['probe']>;
    },
    read,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Payload of the first ISOBMFF box of `type` in a file, found by scanning for its fourcc
 * (enough for the small moov of ffmpeg's test files).
 */
export function findBox(file: Uint8Array, type: string): Uint8Array {
  const code = [...type].map((c) => c.charCodeAt(0));
  for (let i = 4; i + 4 <= file.length; i++) {
    if (code.every((c, k) => file[i + k] === c)) {
      const size = ((file[i - 4]! << 24) | (file[i - 3]! << 16) | (file[i - 2]! << 8) | file[i - 1]!) >>> 0;
      if (size >= 8 && i - 4 + size <= file.length) return file.subarray(i + 4, i - 4 + size);
    }
  }
  throw new Error(`no ${type} box`);
}

/** DecoderSpecificInfo (the AudioSpecificConfig) from an esds payload, ISO/IEC 14496-1 7.2.6. */
export function ascFromEsds(esds: Uint8Array): Uint8Array {
  let pos = 4; // FullBox version + flags
  const descriptor = (): { tag: number; length: number } => {
    const tag = esds[pos++]!;
    let length = 0;
    let byte: number;
    do {
      byte = esds[pos++]!;
      length = (length << 7) | (byte & 0x7f);
    } while (byte & 0x80);
    return { tag, length };
  };
  if (descriptor().tag !== 3) throw new Error('no ES_Descriptor');
  pos += 3; // ES_ID, flags (ffmpeg sets none of the optional fields)
  if (descriptor().tag !== 4) throw new Error('no DecoderConfigDescriptor');
  pos += 13;
  const info = descriptor();
  if (info.tag !== 5) throw new Error('no DecoderSpecificInfo');
  return esds.subarray(pos, pos + info.length);
}

/** The first packet of an Ogg stream (the OpusHead), RFC 3533 page layout. */
export function firstOggPacket(ogg: Uint8Array): Uint8Array {
  const segments = ogg[26]!;
  let length = 0;
  for (let i = 0; i < segments; i++) {
    const lace = ogg[27 + i]!;
    length += lace;
    if (lace < 255) break;
  }
  const start = 27 + segments;
  return ogg.subarray(start, start + length);
}
