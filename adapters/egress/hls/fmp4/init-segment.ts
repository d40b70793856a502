import { BoxWriter } from './box-writer.ts';
import type { SampleEntryWriter } from './sample-entries.ts';

export interface InitSegmentTrack {
  trackId: number;
  kind: 'video' | 'audio';
  /** Media timescale (mdhd): 90000 for video, the sample rate for audio. */
  timescale: number;
  width?: number;
  height?: number;
  sampleEntry: SampleEntryWriter;
}

const UNITY_MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
/** ISO 639-2 "und" packed as three 5-bit letters (14496-12 §8.4.2.3). */
const LANGUAGE_UNDETERMINED = ((0x75 - 0x60) << 10) | ((0x6e - 0x60) << 5) | (0x64 - 0x60);

/**
 * A CMAF header (ISO/IEC 23000-19 §7.3.1): `ftyp` + `moov` for one track, empty sample tables
 * and `mvex` announcing movie fragments. Written by hand: mp4box's writeInitializationSegment
 * repeats mvex and has no esds/dOps writers, and the whole header is a few dozen fields.
 */
export function buildInitSegment(track: InitSegmentTrack): Uint8Array {
  const w = new BoxWriter(1024);
  w.box('ftyp', () => {
    w.fourcc('iso6'); // major brand: trun v1 (signed composition offsets) needs iso4 or later
    w.u32(0);
    for (const brand of ['iso6', 'cmfc', 'mp41']) w.fourcc(brand);
  });
  w.box('moov', () => {
    w.fullBox('mvhd', 0, 0, () => {
      w.u32(0); // creation_time
      w.u32(0); // modification_time
      w.u32(1000); // timescale
      w.u32(0); // duration: unknown (live)
      w.u32(0x00010000); // rate 1.0
      w.u16(0x0100); // volume 1.0
      w.zeros(10); // reserved
      for (const v of UNITY_MATRIX) w.u32(v);
      w.zeros(24); // pre_defined
      w.u32(track.trackId + 1); // next_track_ID
    });
    writeTrak(w, track);
    w.box('mvex', () => {
      w.fullBox('trex', 0, 0, () => {
        w.u32(track.trackId);
        w.u32(1); // default_sample_description_index
        w.u32(0); // default_sample_duration
        w.u32(0); // default_sample_size
        w.u32(0); // default_sample_flags
      });
    });
  });
  return w.finish();
}

function writeTrak(w: BoxWriter, track: InitSegmentTrack): void {
  const video = track.kind === 'video';
  w.box('trak', () => {
    w.fullBox('tkhd', 0, 0x3, () => {
      // flags: track_enabled | track_in_movie
      w.u32(0);
      w.u32(0);
      w.u32(track.trackId);
      w.u32(0); // reserved
      w.u32(0); // duration
      w.zeros(8); // reserved
      w.u16(0); // layer
      w.u16(0); // alternate_group
      w.u16(video ? 0 : 0x0100); // volume
      w.u16(0); // reserved
      for (const v of UNITY_MATRIX) w.u32(v);
      w.fixed16(video ? (track.width ?? 0) : 0);
      w.fixed16(video ? (track.height ?? 0) : 0);
    });
    w.box('mdia', () => {
      w.fullBox('mdhd', 0, 0, () => {
        w.u32(0);
        w.u32(0);
        w.u32(track.timescale);
        w.u32(0);
        w.u16(LANGUAGE_UNDETERMINED);
        w.u16(0);
      });
      w.fullBox('hdlr', 0, 0, () => {
        w.u32(0); // pre_defined
        w.fourcc(video ? 'vide' : 'soun');
        w.zeros(12);
        w.bytes(new TextEncoder().encode(video ? 'VideoHandler\0' : 'SoundHandler\0'));
      });
      w.box('minf', () => {
        if (video) {
          w.fullBox('vmhd', 0, 1, () => w.zeros(8)); // graphicsmode, opcolor
        } else {
          w.fullBox('smhd', 0, 0, () => w.zeros(4)); // balance, reserved
        }
        w.box('dinf', () => {
          w.fullBox('dref', 0, 0, () => {
            w.u32(1);
            w.fullBox('url ', 0, 1); // media is in this file
          });
        });
        w.box('stbl', () => {
          w.fullBox('stsd', 0, 0, () => {
            w.u32(1);
            track.sampleEntry(w);
          });
          w.fullBox('stts', 0, 0, () => w.u32(0));
          w.fullBox('stsc', 0, 0, () => w.u32(0));
          w.fullBox('stsz', 0, 0, () => {
            w.u32(0);
            w.u32(0);
          });
          w.fullBox('stco', 0, 0, () => w.u32(0));
        });
      });
    });
  });
}
