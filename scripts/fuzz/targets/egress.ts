/**
 * What the egress side reads from peers: the HLS request path, the publisher-controlled track
 * description (catalog fields and codec records, or in-band parameter sets of the first
 * keyframe) the HLS packager turns into a CMAF init segment, and the cluster records other
 * nodes write to Redis.
 */
import { describeCmafTrack } from '../../../adapters/egress/hls/cmaf-track.ts';
import { parseHlsPath, trackPathSegment } from '../../../adapters/egress/hls/hls-urls.ts';
import { decodeAddress, decodeAnnounce, encodeAddress, encodeAnnounce } from '../../../src/cluster/records.ts';
import type { TrackInfo } from '../../../src/media/frame.ts';
import { ascii, cat, framed, fromHex, latin1, messages, utf8 } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const AVCC = fromHex('0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000668ebe3cb22c0fdf8f800');
const HVCC = fromHex(
  '0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a1' +
    '0001002a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10a2000100074401c172b46240',
);
const AV1C = fromHex('81000c000a0b000000043cffbcdaf90040');
const VPCC = fromHex('010000000014820202020000');
const ASC = fromHex('1210');
const OPUS_HEAD = fromHex('4f707573486561640106380180bb00000000010402000401020305');
const withLength = (nalu: Uint8Array): Uint8Array => cat([0, 0, (nalu.byteLength >> 8) & 0xff, nalu.byteLength & 0xff], nalu);
/** Length-prefixed key frames carrying their parameter sets in-band (what `needs-keyframe` waits for). */
const H264_KEYFRAME = cat(withLength(fromHex('6764000dacd94141fb0110000003001000000303c0f1429960')), withLength(fromHex('68ebe3cb22c0')), withLength(fromHex('65888400')));
const H265_KEYFRAME = cat(
  withLength(fromHex('40010c01ffff01600000030090000003000003003c959809')),
  withLength(fromHex('42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10')),
  withLength(fromHex('4401c172b46240')),
  withLength(fromHex('2601af')),
);

/** Codec strings a hang catalog may name (any string is accepted there). */
const CODECS = [
  'avc1.64000d',
  'avc3.42e01e',
  'avc1',
  'hvc1.1.6.L93.B0',
  'hev1.1.6.L93.B0',
  'av01.0.08M.08',
  'vp09.00.10.08',
  'vp09.02.10.10.01.09.16.09.01',
  'vp09.x.y',
  'vp8',
  'mp4a.40.2',
  'mp4a.40.5',
  'mp4a.40',
  'mp4a.40.99',
  'opus',
  'flac',
];
/** Catalog numbers are any finite non-negative JSON number (hang/catalog.ts numberField). */
const DIMENSIONS = [0, 1, 320, 1920, 65535, 65536, 1.5, 1e300];
const RATES = [0, 8000, 44100, 48000, 96000, 65535, 65536, 1e9, 0.5, 1e300, 22050, 7350, 16000, 24000, 32000, 88200];
const CHANNELS = [0, 1, 2, 3, 6, 8, 255, 256, 1.5, 1e9, 65536, 2, 2, 2, 2, 2];

/**
 * Byte 0: codec; byte 1: bit 0 description present, bits 1-3 width, bits 4-6 height, bit 7
 * audio kind for video codecs; byte 2: sample rate (low nibble), channels (high nibble); then
 * two messages, the description record and the first keyframe.
 */
function trackInfo(bytes: Uint8Array): { info: TrackInfo; keyframe: Uint8Array | undefined } {
  const codec = CODECS[bytes[0]! % CODECS.length]!;
  const flags = bytes[1] ?? 0;
  const numbers = bytes[2] ?? 0;
  const [description, keyframe] = messages(bytes.subarray(3));
  const audioCodec = codec.startsWith('mp4a') || codec === 'opus' || codec === 'flac';
  const withDescription = flags & 1 ? { description: description ?? new Uint8Array(0) } : {};
  const info: TrackInfo =
    audioCodec !== ((flags & 0x80) !== 0)
      ? { kind: 'audio', codec, ...withDescription, sampleRate: RATES[numbers & 15]!, numberOfChannels: CHANNELS[numbers >> 4]! }
      : { kind: 'video', codec, ...withDescription, codedWidth: DIMENSIONS[(flags >> 1) & 7]!, codedHeight: DIMENSIONS[(flags >> 4) & 7]! };
  return { info, keyframe };
}

const describeSeed = (codec: string, flags: number, numbers: number, description: Uint8Array, keyframe?: Uint8Array): Uint8Array =>
  cat(CODECS.indexOf(codec), flags, numbers, framed(keyframe ? [description, keyframe] : [description]));

const CMAF_SEEDS = [
  describeSeed('avc1.64000d', 0x25, 0, AVCC),
  describeSeed('avc1.64000d', 0x24, 0, new Uint8Array(0), H264_KEYFRAME),
  describeSeed('hvc1.1.6.L93.B0', 0x37, 0, HVCC),
  describeSeed('hev1.1.6.L93.B0', 0x36, 0, new Uint8Array(0), H265_KEYFRAME),
  describeSeed('av01.0.08M.08', 0x25, 0, AV1C),
  describeSeed('vp09.00.10.08', 0x25, 0, VPCC),
  describeSeed('vp09.02.10.10.01.09.16.09.01', 0x24, 0, new Uint8Array(0)),
  describeSeed('mp4a.40.2', 0x01, 0x23, ASC),
  describeSeed('mp4a.40.5', 0x00, 0x23, new Uint8Array(0)),
  describeSeed('opus', 0x01, 0x43, OPUS_HEAD),
  describeSeed('opus', 0x00, 0x23, new Uint8Array(0), Uint8Array.of(0xfc, 0xff, 0xfe)),
];

export const egressTargets: FuzzTarget[] = [
  {
    // The path after /hls/ and the LL-HLS query (_HLS_msn, _HLS_part).
    name: 'hls.request-path',
    seeds: [ascii('live/demo/index.m3u8'), ascii(`live/demo/${trackPathSegment('vidéo 1')}/media.m3u8?_HLS_msn=12&_HLS_part=3`), ascii('a/b/video/k3x9-init2.mp4'), ascii('a/video/k3x9-1234.5.m4s')],
    allowed: () => false,
    run(bytes) {
      const text = latin1(bytes);
      parseHlsPath(text);
      const query = new URL(`/hls/${text}`, 'http://localhost').searchParams;
      Number(query.get('_HLS_msn'));
      Number(query.get('_HLS_part'));
    },
  },
  {
    // describeCmafTrack turns bad records into 'unsupported' (MediaParseError inside): nothing
    // may escape it; a ready track's init segment and Opus frame durations are computed too.
    name: 'hls.cmaf-track',
    seeds: CMAF_SEEDS,
    allowed: () => false,
    run(bytes) {
      if (bytes.byteLength === 0) return;
      const { info, keyframe } = trackInfo(bytes);
      const result = describeCmafTrack(info);
      if (result.kind === 'ready' && keyframe) result.track.frameSamples?.(keyframe);
    },
  },
  {
    // Node addresses and announcements other gateway nodes publish in Redis.
    name: 'cluster.records',
    seeds: [
      ascii(encodeAddress({ node: 'node-a', url: 'https://10.0.0.1:4443' })),
      ascii(encodeAnnounce({ node: 'node-b', url: 'https://10.0.0.2:4443', path: '/live//demo/', active: true })),
      ascii('{"node":"x","url":"u","path":"..","active":false,"__proto__":{"active":true}}'),
    ],
    allowed: () => false,
    run(bytes) {
      const text = utf8(bytes);
      decodeAddress(text);
      decodeAnnounce(text);
    },
  },
];
