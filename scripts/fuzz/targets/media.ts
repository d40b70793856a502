/**
 * Codec records and media containers (src/media): H.264 SPS/avcC, H.265 SPS/hvcC, AAC
 * AudioSpecificConfig and ADTS, OpusHead, av1C, vpcC, NAL unit framing, the hang catalog and
 * legacy container, the MSF catalog (and its conversion to a hang catalog) and LOC properties
 * read from an IETF object's extension headers. All throw MediaParseError only (LOC: the
 * extension block's ProtocolError).
 */
import fc from 'fast-check';
import { aacCodecString, parseAdtsHeader, parseAudioSpecificConfig, repairAudioSpecificConfig, splitAdts } from '../../../src/media/aac.ts';
import { av1CodecString, parseAv1C } from '../../../src/media/av1.ts';
import { unescapeRbsp } from '../../../src/media/bits.ts';
import { MediaParseError } from '../../../src/media/errors.ts';
import { encodeCatalog, parseCatalog, summarizeCatalog } from '../../../src/media/hang/catalog.ts';
import { decodeLegacyFrame, encodeLegacyFrame } from '../../../src/media/hang/container.ts';
import { avcCodecString, buildAvcC, isH264Keyframe, parseAvcC, parseSps } from '../../../src/media/h264.ts';
import { buildHvcC, hevcCodecString, isH265Keyframe, parseHevcSps, parseHvcC } from '../../../src/media/h265.ts';
import { InBandParameterSets } from '../../../src/media/in-band-parameter-sets.ts';
import { inBandParameterSets, locCodecString } from '../../../src/media/loc/in-band.ts';
import { locTimestampUs } from '../../../src/media/loc/properties.ts';
import { encodeMsfCatalog, parseMsfCatalog } from '../../../src/media/msf/catalog.ts';
import { locTrackNames, tracksFromMsfCatalog } from '../../../src/media/msf/to-hang.ts';
import { annexBToLengthPrefixed, lengthPrefixedToAnnexB, splitAnnexB, splitLengthPrefixed } from '../../../src/media/nal.ts';
import { TsMuxer } from '../../../src/media/mpegts/muxer.ts';
import { TS_PACKET_SIZE } from '../../../src/media/mpegts/packetizer.ts';
import { parseOpusHead } from '../../../src/media/opus.ts';
import { parseVpcC, vp9CodecString } from '../../../src/media/vp9.ts';
import { legacyToLoc } from '../../../adapters/bridge/msf-loc/egress-format.ts';
import { msfToHangCatalog } from '../../../adapters/bridge/msf-loc/ingest-format.ts';
import { formatFor } from '../../../adapters/bridge/msf-loc/catalog-mode.ts';
import { parseExtensionBlock } from '../../../src/moq/ietf/data/extensions.ts';
import { encodeKeyValuePairs } from '../../../src/moq/ietf/wire/key-value.ts';
import { ProtocolError } from '../../../src/wire/errors.ts';
import { cat, framed, fromHex, messages, text } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const isMediaParseError = (error: unknown): boolean => error instanceof MediaParseError;

/** Runs `fn`, swallowing MediaParseError: for the second and later parsers in one target. */
function tolerate(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof MediaParseError)) throw error;
  }
}

// Real records from ffmpeg 5.1 (libx264 High 320x240, libx265 Main 320x240, libopus, libaom, libvpx).
const AVCC = fromHex('0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000668ebe3cb22c0fdf8f800');
const HVCC = fromHex(
  '0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a1' +
    '0001002a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10a2000100074401c172b46240',
);
const H264_SPS = [fromHex('6764000dacd94141fb0110000003001000000303c0f1429960'), fromHex('6742c01f8c8d40501ed3506060607844235001'), fromHex('67640028acd940780227e5c05a808080a0000003002000000781e3062c96')];
const H264_PPS = fromHex('68ebe3cb22c0');
const AVCC_BASELINE = buildAvcC([H264_SPS[1]!], [fromHex('68ce3c80')]);
const HEVC_VPS = fromHex('40010c01ffff01600000030090000003000003003c959809');
const HEVC_SPS = fromHex('42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003c10');
const HEVC_PPS = fromHex('4401c172b46240');
// ffmpeg's PCE config, LC, explicit SBR, escaped type, ffmpeg aac_he (AOT 5 in the LC layout),
// implicit SBR, implicit SBR + PS, explicit PS.
const ASC = [
  fromHex('118004c808002008840d4c61766335392e33372e31303056e500'),
  fromHex('1210'),
  fromHex('1190'),
  fromHex('2b920800'),
  fromHex('f8ee00'),
  fromHex('2a0856e500'),
  fromHex('139056e5a0'),
  fromHex('130856e59d4880'),
  fromHex('eb098800'),
];
const ADTS = fromHex('fff15080019ffcde02004c61');
const OPUS_HEAD = [fromHex('4f707573486561640106380180bb00000000010402000401020305'), fromHex('4f707573486561640102380180bb0000000000')];
const AV1C = fromHex('81000c000a0b000000043cffbcdaf90040');
const VPCC = fromHex('010000000014820202020000');

const HANG_CATALOG = text(
  JSON.stringify({
    video: {
      renditions: {
        video: { codec: 'avc1.64000d', container: { kind: 'legacy' }, description: '0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000668ebe3cb22c0fdf8f800', codedWidth: 320, codedHeight: 240, framerate: 30, bitrate: 500000, optimizeForLatency: true },
        video1: { codec: 'hvc1.1.6.L60.90', codedWidth: 320, codedHeight: 240 },
      },
      display: { width: 320, height: 240 },
    },
    audio: { renditions: { audio: { codec: 'opus', container: { kind: 'legacy' }, sampleRate: 48000, numberOfChannels: 2, bitrate: 64000 }, cmaf: { codec: 'mp4a.40.2', container: { kind: 'cmaf' } } } },
  }),
);

const MSF_CATALOG = text(
  JSON.stringify({
    version: 1,
    generatedAt: 1700000000000,
    tracks: [
      { name: 'video', namespace: 'live/demo', packaging: 'loc', isLive: true, role: 'video', codec: 'avc1.64000d', width: 320, height: 240, framerate: 30, timescale: 90000, bitrate: 500000, initData: Buffer.from(AVCC).toString('base64') },
      { name: 'audio', packaging: 'loc', isLive: true, codec: 'opus', samplerate: 48000, channelConfig: '2', initRef: 'opus-init', renderGroup: 1, altGroup: 1 },
      { name: 'h265', packaging: 'loc', codec: 'hvc1.1.6.L60.90', role: 'video', initRef: 'hvcc' },
      { name: 'cmaf', packaging: 'cmaf', codec: 'mp4a.40.2' },
    ],
    initDataList: [
      { id: 'opus-init', type: 'inline', data: Buffer.from(OPUS_HEAD[1]!).toString('base64') },
      { id: 'hvcc', type: 'inline', data: Buffer.from(HVCC).toString('base64') },
    ],
  }),
);
const MSF_DELTA = text(JSON.stringify({ version: 'draft-01', deltaUpdate: [{ op: 'add', path: '/tracks/-', value: { name: 'x', packaging: 'loc' } }] }));

/** `"timescale"` values an MSF catalog may carry (JSON numbers: 1e400 parses as Infinity). */
const CATALOG_TIMESCALES = [undefined, 90_000, 48_000, 1_000, 1, 0, -1, 1e6, 1e15, 2 ** 53, JSON.parse('1e400') as number, 29.97, 0.5, 1e-9, 3, 2 ** 64];

/** LOC extension blocks: Timescale + Timestamp + a config property (byte 0 picks the encoding). */
const LOC_SEEDS = [
  cat(0x10, encodeKeyValuePairs([{ type: 0x08n, value: 90000n }, { type: 0x10n, value: 3_000_000n }, { type: 0x0dn, value: AVCC }], 'absolute')),
  cat(0x71, encodeKeyValuePairs([{ type: 0x08n, value: 1_000_000n }, { type: 0x10n, value: 123_456_789n }, { type: 0x0fn, value: OPUS_HEAD[1]! }], 'delta')),
  cat(0x20, encodeKeyValuePairs([{ type: 0x10n, value: 2n ** 60n }, { type: 0x09n, value: Uint8Array.of(0x81) }], 'absolute')),
];

// --- catalog-shaped JSON (byte mutations of JSON mostly stop at JSON.parse) ------------------

/** A JSON value that is sometimes the right type for a field and sometimes anything. */
const looseNumber = fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.constantFrom(0, 0.5, 29.97, -1, 1e300, 2 ** 53, 65536), fc.jsonValue());
const codecString = fc.oneof(fc.constantFrom('avc1.64001f', 'avc3.42e01e', 'hvc1.1.6.L93.B0', 'av01.0.08M.08', 'vp09.00.10.08', 'vp8', 'mp4a.40.2', 'opus', 'flac', ''), fc.string({ maxLength: 20 }));
const hexString = fc.oneof(fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('hex')), fc.constantFrom(Buffer.from(AVCC).toString('hex'), Buffer.from(HVCC).toString('hex'), Buffer.from(AV1C).toString('hex'), 'zz', 'abc'), fc.string({ maxLength: 10 }));
const base64String = fc.oneof(fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')), fc.constantFrom(Buffer.from(AVCC).toString('base64'), Buffer.from(OPUS_HEAD[0]!).toString('base64'), '====', ' \n', '+/'), fc.string({ maxLength: 10 }));
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const json = (value: unknown): Uint8Array => text(JSON.stringify(value) ?? 'null');

const hangRendition = fc.record(
  {
    codec: fc.oneof(codecString, fc.jsonValue()),
    container: fc.oneof(fc.constant({ kind: 'legacy' }), fc.constant({ kind: 'cmaf' }), fc.jsonValue()),
    description: fc.oneof(hexString, fc.jsonValue()),
    codedWidth: looseNumber,
    codedHeight: looseNumber,
    sampleRate: looseNumber,
    numberOfChannels: looseNumber,
    framerate: looseNumber,
    bitrate: looseNumber,
  },
  { requiredKeys: [] },
);
const renditions = fc.dictionary(fc.oneof(fc.constantFrom('video', 'audio', '__proto__', 'constructor', ''), fc.string({ maxLength: 8 })), fc.oneof({ weight: 4, arbitrary: hangRendition }, fc.jsonValue()), { maxKeys: 4 });
const HANG_CATALOG_JSON = fc
  .record({ video: fc.oneof(fc.record({ renditions }), fc.jsonValue()), audio: fc.oneof(fc.record({ renditions }), fc.jsonValue()) }, { requiredKeys: [] })
  .map(json);

const msfTrack = fc.record(
  {
    name: fc.oneof(fc.constantFrom('video', 'audio', 'catalog', ''), fc.string({ maxLength: 8 })),
    namespace: maybe(fc.string({ maxLength: 8 })),
    packaging: fc.oneof(fc.constantFrom('loc', 'cmaf', 'legacy'), fc.string({ maxLength: 5 })),
    role: maybe(fc.oneof(fc.constantFrom('video', 'audio', 'caption'), fc.jsonValue())),
    codec: fc.oneof(codecString, fc.jsonValue()),
    width: looseNumber,
    height: looseNumber,
    framerate: looseNumber,
    timescale: looseNumber,
    bitrate: looseNumber,
    samplerate: looseNumber,
    channelConfig: fc.oneof(fc.constantFrom('2', '6', '0', '-1', 'x', '1e3'), fc.jsonValue()),
    initRef: maybe(fc.oneof(fc.constantFrom('init-0', 'init-1'), fc.jsonValue())),
    initData: maybe(fc.oneof(base64String, fc.jsonValue())),
  },
  { requiredKeys: ['name', 'packaging'] },
);
const MSF_CATALOG_JSON = fc
  .record(
    {
      version: fc.oneof(fc.constantFrom(1, 'draft-01'), fc.jsonValue()),
      generatedAt: looseNumber,
      tracks: fc.oneof({ weight: 4, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: msfTrack }, fc.jsonValue()), { maxLength: 5 }) }, fc.jsonValue()),
      initDataList: maybe(fc.array(fc.record({ id: fc.constantFrom('init-0', 'init-1'), type: fc.constantFrom('inline', 'url'), data: base64String }, { requiredKeys: [] }), { maxLength: 3 })),
      deltaUpdate: maybe(fc.jsonValue()),
    },
    { requiredKeys: ['version'] },
  )
  .map(json);

export const mediaTargets: FuzzTarget[] = [
  {
    name: 'media.h264-sps',
    seeds: H264_SPS,
    allowed: isMediaParseError,
    run(bytes) {
      tolerate(() => parseSps(bytes));
      tolerate(() => unescapeRbsp(bytes));
      // RTMP/WHIP build an avcC from in-band parameter sets.
      parseAvcC(buildAvcC([bytes], [H264_PPS]));
    },
  },
  {
    // MoQ publishers' Annex B (or length-prefixed) access units with in-band parameter sets,
    // which HLS turns into samples and an avcC / hvcC (src/media/in-band-parameter-sets.ts).
    name: 'media.in-band-parameter-sets',
    seeds: [
      cat(Uint8Array.of(0, 0, 0, 1), H264_SPS[0]!, Uint8Array.of(0, 0, 1), H264_PPS, Uint8Array.of(0, 0, 1, 0x65, 0x88, 0x80)),
      cat(Uint8Array.of(0, 0, 0, 1), HEVC_VPS, Uint8Array.of(0, 0, 0, 1), HEVC_SPS, Uint8Array.of(0, 0, 0, 1), HEVC_PPS, Uint8Array.of(0, 0, 1, 0x26, 0x01, 0xaf)),
    ],
    allowed: isMediaParseError,
    run(bytes) {
      // Two access units into one tracker: the second merges into or replaces what the first left.
      const half = bytes.subarray(bytes.length >>> 1);
      tolerate(() => {
        const avc = new InBandParameterSets('avc');
        avc.push(bytes);
        avc.push(half);
      });
      const hevc = new InBandParameterSets('hevc');
      tolerate(() => hevc.push(half));
      hevc.push(bytes);
    },
  },
  {
    // Relay frames (from RTMP, WHIP or MoQ publishers) on their way out as LOC: the key frame scan
    // and the parameter sets in front (src/media/loc/in-band.ts); the description is the
    // publisher's too. Never throws.
    name: 'media.loc-in-band',
    seeds: [Uint8Array.of(0, 0, 0, 3, 0x65, 0x88, 0x80), Uint8Array.of(0, 0, 0, 2, 0x26, 0x01), Uint8Array.of(0, 0, 0, 9, 0x65), AVCC, HVCC],
    allowed: () => false,
    run(bytes) {
      const described = [
        inBandParameterSets({ kind: 'video', codec: 'avc1.64000d', description: AVCC, codedWidth: 0, codedHeight: 0 }),
        inBandParameterSets({ kind: 'video', codec: 'hvc1.1.6.L93.B0', description: HVCC, codedWidth: 0, codedHeight: 0 }),
        inBandParameterSets({ kind: 'video', codec: 'avc1.64000d', description: bytes, codedWidth: 0, codedHeight: 0 }),
      ];
      for (const sets of described) if (sets?.needsParameterSets(bytes)) sets.withParameterSets(bytes);
      locCodecString({ kind: 'video', codec: 'hev1.1.6.L93.B0', description: bytes, codedWidth: 0, codedHeight: 0 });
    },
  },
  {
    name: 'media.h264-avcc',
    seeds: [AVCC, AVCC_BASELINE],
    allowed: isMediaParseError,
    run(bytes) {
      tolerate(() => parseAvcC(bytes));
      avcCodecString(bytes);
    },
  },
  {
    name: 'media.h265-sps',
    seeds: [HEVC_SPS, HEVC_VPS, HEVC_PPS],
    allowed: isMediaParseError,
    run(bytes) {
      tolerate(() => parseHevcSps(bytes));
      parseHvcC(buildHvcC([HEVC_VPS], [bytes], [HEVC_PPS]));
    },
  },
  {
    name: 'media.h265-hvcc',
    seeds: [HVCC],
    allowed: isMediaParseError,
    run(bytes) {
      tolerate(() => parseHvcC(bytes));
      hevcCodecString(bytes);
    },
  },
  {
    name: 'media.aac-asc',
    seeds: ASC,
    allowed: isMediaParseError,
    run(bytes) {
      tolerate(() => parseAudioSpecificConfig(bytes));
      tolerate(() => parseAudioSpecificConfig(repairAudioSpecificConfig(bytes).config));
      aacCodecString(bytes);
    },
  },
  {
    // The MPEG-TS muxer's inputs (odd NAL sizes, empty frames, any timestamps): the bytes are
    // cut into video and audio frames; every output packet must be 188 bytes with a sync byte
    // and continuous counters per PID.
    name: 'media.mpegts-mux',
    seeds: [fromHex('0000000167640016ac0000000168ee3c80000000016588'), fromHex('00ff00ff00'), new Uint8Array(0)],
    allowed: isMediaParseError,
    run(bytes) {
      const muxer = new TsMuxer({ video: { codec: bytes[0]! & 1 ? 'h265' : 'h264' }, audio: { codec: 'aac', description: fromHex('1190') } });
      const out: Uint8Array[] = [muxer.tables()];
      for (let pos = 1, n = 0; pos < bytes.length; n++) {
        const size = Math.min(bytes.length - pos, bytes[pos]! * 7);
        const frame = { ptsUs: n * 33_333 * (bytes[pos]! % 3), dtsUs: n * 33_333, keyframe: (bytes[pos]! & 2) !== 0, payload: bytes.subarray(pos + 1, pos + 1 + size) };
        out.push(bytes[pos]! & 4 ? muxer.audio(frame) : muxer.video(frame));
        pos += 1 + size;
      }
      const counters = new Map<number, number>();
      for (const chunk of out) {
        if (chunk.length % TS_PACKET_SIZE !== 0) throw new Error(`output of ${chunk.length} bytes is not whole packets`);
        for (let at = 0; at < chunk.length; at += TS_PACKET_SIZE) {
          if (chunk[at] !== 0x47) throw new Error('packet without its sync byte');
          const pid = ((chunk[at + 1]! & 0x1f) << 8) | chunk[at + 2]!;
          const cc = chunk[at + 3]! & 0x0f;
          const previous = counters.get(pid);
          if (previous !== undefined && cc !== ((previous + 1) & 0x0f)) throw new Error(`continuity counter jump on PID ${pid}`);
          counters.set(pid, cc);
        }
      }
    },
  },
  {
    name: 'media.aac-adts',
    seeds: [ADTS, cat(ADTS, ADTS, ADTS)],
    allowed: isMediaParseError,
    run(bytes) {
      tolerate(() => parseAdtsHeader(bytes));
      splitAdts(bytes);
    },
  },
  {
    name: 'media.opus-head',
    seeds: OPUS_HEAD,
    allowed: isMediaParseError,
    run(bytes) {
      parseOpusHead(bytes);
    },
  },
  {
    name: 'media.av1c',
    seeds: [AV1C],
    allowed: isMediaParseError,
    run(bytes) {
      tolerate(() => parseAv1C(bytes));
      av1CodecString(bytes);
    },
  },
  {
    name: 'media.vpcc',
    seeds: [VPCC],
    allowed: isMediaParseError,
    run(bytes) {
      tolerate(() => parseVpcC(bytes));
      vp9CodecString(bytes);
    },
  },
  {
    // Frame payloads: Annex B and length-prefixed NAL units (1..4-byte lengths), keyframe checks.
    name: 'media.nal-units',
    seeds: [cat(0, 0, 0, 1, H264_SPS[0]!, 0, 0, 1, H264_PPS, 0, 0, 0, 1, 0x65, 0x88, 0x84), cat(0, 0, 0, 5, 0x65, 0x88, 0x84, 0, 1, 0, 0, 0, 2, 0x41, 0x9a), cat(0, 0, 0, 3, 0x26, 0x01, 0xaf)],
    allowed: isMediaParseError,
    run(bytes) {
      splitAnnexB(bytes);
      annexBToLengthPrefixed(bytes);
      for (const size of [1, 2, 3, 4]) {
        tolerate(() => splitLengthPrefixed(bytes, size));
        tolerate(() => lengthPrefixedToAnnexB(bytes, size));
        tolerate(() => isH264Keyframe(bytes, size));
        tolerate(() => isH265Keyframe(bytes, size));
      }
    },
  },
  {
    name: 'media.hang-catalog',
    seeds: [HANG_CATALOG, text('{}'), text('{"video":{"renditions":{"v":{"codec":"av01.0.08M.08","description":"zz"}}}}')],
    generators: [HANG_CATALOG_JSON],
    allowed: isMediaParseError,
    run(bytes) {
      // The API's listing reads the same catalogs (any container): every summary is well-formed.
      for (const track of summarizeCatalog(bytes)) {
        if (typeof track.name !== 'string' || typeof track.codec !== 'string' || (track.kind !== 'video' && track.kind !== 'audio')) throw new Error('malformed summary');
      }
      const tracks = parseCatalog(bytes);
      encodeCatalog(tracks);
    },
  },
  {
    // hang legacy container: varint timestamp + payload; egress turns it into a LOC object.
    name: 'media.hang-legacy-frame',
    seeds: [encodeLegacyFrame(0, Uint8Array.of(1, 2)), encodeLegacyFrame(2 ** 40, new Uint8Array(30)), encodeLegacyFrame(63, new Uint8Array(0))],
    allowed: isMediaParseError,
    run(bytes) {
      legacyToLoc.convert(bytes);
      decodeLegacyFrame(bytes);
    },
  },
  {
    // MSF catalog from an IETF publisher → hang catalog.json (ingest-format.ts msfToHangCatalog).
    name: 'media.msf-catalog',
    seeds: [MSF_CATALOG, MSF_DELTA, text('{"version":"draft-01","tracks":[]}')],
    generators: [MSF_CATALOG_JSON],
    allowed: isMediaParseError,
    run(bytes) {
      msfToHangCatalog()({ objectId: 0, status: 'normal', extensions: [], payload: bytes });
      const catalog = parseMsfCatalog(bytes);
      tracksFromMsfCatalog(catalog);
      locTrackNames(catalog);
      encodeMsfCatalog(catalog);
    },
  },
  {
    // The IETF ingest path end to end: an MSF catalog object, then a LOC object's extension
    // block, converted to a relay frame for every track the catalog names (catalog-mode.ts).
    name: 'media.msf-loc-ingest',
    seeds: [framed([MSF_CATALOG, LOC_SEEDS[0]!.subarray(1)]), framed([text('{"version":1,"tracks":[{"name":"v","packaging":"loc","timescale":30}]}'), LOC_SEEDS[1]!.subarray(1)])],
    generators: [fc.tuple(MSF_CATALOG_JSON, fc.constantFrom(...LOC_SEEDS.map((s) => s.subarray(1)))).map(([catalog, block]) => framed([catalog, block]))],
    allowed: (error) => error instanceof MediaParseError || error instanceof ProtocolError,
    run(bytes) {
      const [catalogBytes = new Uint8Array(0), block = new Uint8Array(0)] = messages(bytes);
      const catalog = parseMsfCatalog(catalogBytes);
      const extensions = parseExtensionBlock(block, 'delta');
      for (const track of catalog.tracks) {
        formatFor({ kind: 'msf', catalog }, track.name)({ objectId: 0, status: 'normal', extensions, payload: Uint8Array.of(1) });
      }
    },
  },
  {
    // LOC properties (draft-ietf-moq-loc §2.3) from an object's extension block, converted with
    // the track's MSF catalog timescale (catalog-mode.ts passes any JSON number through). Byte 0
    // picks the draft's type encoding (bit 0) and the catalog timescale (bits 4-7).
    name: 'media.loc-properties',
    seeds: LOC_SEEDS,
    allowed: (error) => error instanceof ProtocolError,
    run(bytes) {
      if (bytes.byteLength === 0) return;
      const selector = bytes[0]!;
      const properties = parseExtensionBlock(bytes.subarray(1), selector & 1 ? 'delta' : 'absolute');
      locTimestampUs(properties, CATALOG_TIMESCALES[selector >> 4]);
    },
  },
];
