/**
 * HTTP/3 and QUIC (src/transport/h3, src/transport/quic): frame sequences on the control and
 * request streams, SETTINGS, QPACK field sections with request/response validation, Huffman
 * strings, capsules on the CONNECT stream, the WebTransport protocol-negotiation structured
 * fields, and the datagram router's packet-header parsing (ours plus quiche's long-header
 * parser and version negotiation, a native binding).
 */
import fc from 'fast-check';
import { CapsuleReader, encodeCloseCapsule, encodeDrainCapsule } from '../../../src/transport/h3/capsules.ts';
import { encodeFrame, FrameReader, FrameType } from '../../../src/transport/h3/frames.ts';
import { Http3Error } from '../../../src/transport/h3/h3-errors.ts';
import { huffmanDecode, huffmanEncode } from '../../../src/transport/h3/huffman.ts';
import { decodeFieldSection, encodeFieldSection, type FieldLine } from '../../../src/transport/h3/qpack.ts';
import { isWebTransportConnect, parseRequestHead, parseResponseHead } from '../../../src/transport/h3/request-head.ts';
import { decodeSettings, encodeSettings, SettingId } from '../../../src/transport/h3/settings.ts';
import { PreambleBuffer } from '../../../src/transport/h3/stream-io.ts';
import { parseProtocolItem, parseProtocolList } from '../../../src/transport/h3/structured-fields.ts';
import { connectionIdKey, destinationConnectionId, isLongHeader } from '../../../src/transport/quic/packet-header.ts';
import { ascii, cat, latin1, pieces, quicVarint, text } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const isHttp3Error = (error: unknown): boolean => error instanceof Http3Error;

// --- seeds ---------------------------------------------------------------------------------

const CONNECT_FIELDS: FieldLine[] = [
  [':method', 'CONNECT'],
  [':protocol', 'webtransport'],
  [':scheme', 'https'],
  [':authority', 'relay.example:4443'],
  [':path', '/moq?jwt=eyJhbGciOiJIUzI1NiJ9.e30.c2ln'],
  ['origin', 'https://app.example'],
  ['wt-available-protocols', '"moq-lite-04", "moqt-16";q=1, moql'],
  ['sec-webtransport-http3-draft02', '1'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140'],
];
const GET_FIELDS: FieldLine[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'relay.example'],
  [':path', '/certificate.sha256'],
  ['accept', '*/*'],
  ['cookie', 'a=b'],
  ['cookie', 'c=d'],
];
const RESPONSE_FIELDS: FieldLine[] = [
  [':status', '200'],
  ['wt-protocol', '"moq-lite-04"'],
  ['sec-webtransport-http3-draft', 'draft02'],
  ['content-type', 'application/octet-stream'],
];
const FIELD_SECTIONS = [encodeFieldSection(CONNECT_FIELDS), encodeFieldSection(GET_FIELDS), encodeFieldSection(RESPONSE_FIELDS)];

const SETTINGS = encodeSettings(
  new Map([
    [SettingId.QpackMaxTableCapacity, 0],
    [SettingId.QpackBlockedStreams, 0],
    [SettingId.EnableConnectProtocol, 1],
    [SettingId.H3Datagram, 1],
    [SettingId.EnableWebTransportDraft02, 1],
    [SettingId.MaxFieldSectionSize, 65536],
    [0x1f * 7 + 0x21, 5], // a reserved (grease) identifier
  ]),
);

const CAPSULES = [
  encodeCloseCapsule(0x1234, 'going away'),
  encodeDrainCapsule(),
  cat(quicVarint(0x00), quicVarint(3), Uint8Array.of(0, 1, 2)), // DATAGRAM capsule: skipped
  cat(quicVarint(0x1f * 3 + 0x21), quicVarint(4), Uint8Array.of(1, 2, 3, 4)), // reserved capsule type
];

/** Control stream after its type byte: SETTINGS first, then what may follow. */
const CONTROL_SEEDS = [
  cat(
    encodeFrame(FrameType.Settings, SETTINGS),
    encodeFrame(FrameType.Goaway, quicVarint(8)),
    encodeFrame(FrameType.MaxPushId, quicVarint(0)),
    encodeFrame(0x21, Uint8Array.of(1, 2, 3)),
    encodeFrame(FrameType.PriorityUpdateRequest, cat(quicVarint(0), ascii('u=3'))),
  ),
  encodeFrame(FrameType.Settings, new Uint8Array(0)),
];

/** Request stream: HEADERS, then DATA carrying capsules (a WebTransport CONNECT). */
const REQUEST_SEEDS = [
  cat(
    encodeFrame(FrameType.Headers, FIELD_SECTIONS[0]!),
    encodeFrame(FrameType.Data, cat(CAPSULES[2]!, CAPSULES[3]!)),
    encodeFrame(FrameType.Data, CAPSULES[1]!),
    encodeFrame(0x21, Uint8Array.of(9)),
    encodeFrame(FrameType.Data, CAPSULES[0]!),
  ),
  cat(encodeFrame(FrameType.Headers, FIELD_SECTIONS[1]!), encodeFrame(FrameType.Data, text('body'))),
  cat(encodeFrame(FrameType.Headers, FIELD_SECTIONS[0]!), encodeFrame(FrameType.Data, CAPSULES[0]!.subarray(0, 3)), encodeFrame(FrameType.Data, CAPSULES[0]!.subarray(3))),
];

/** Settings the server would refuse a client stream on; a huffman string of every byte value. */
const HUFFMAN_SEEDS = [huffmanEncode(ascii('www.example.com')), huffmanEncode(Uint8Array.from({ length: 256 }, (_, i) => i)), huffmanEncode(text('"moq-lite-04", moql'))];

// --- helpers -------------------------------------------------------------------------------

function frameEvents(bytes: Uint8Array, onEvent: (event: NonNullable<ReturnType<FrameReader['next']>>) => void): FrameReader {
  const frames = new FrameReader();
  for (const piece of pieces(bytes)) {
    frames.push(piece);
    for (let event = frames.next(); event; event = frames.next()) onEvent(event);
  }
  return frames;
}

/** Http3Connection.#onControlEvent without the connection. */
function controlStream(bytes: Uint8Array): void {
  let settings: Map<number, number> | undefined;
  frameEvents(bytes, (event) => {
    if (event.kind === 'unknown') return;
    if (event.kind === 'data') throw new Http3Error(0x105, 'DATA on the control stream');
    if (!settings) {
      if (event.type !== FrameType.Settings) throw new Http3Error(0x10a, 'first control frame is not SETTINGS');
      settings = decodeSettings(event.payload);
      return;
    }
    if (event.type === FrameType.Settings || event.type === FrameType.Headers || event.type === FrameType.PushPromise) {
      throw new Http3Error(0x105, 'frame on the control stream');
    }
  });
}

/** serveRequestStream + WebTransportLink.#drain without the QUIC stream. */
function requestStream(bytes: Uint8Array): void {
  let head: ReturnType<typeof parseRequestHead> | undefined;
  const capsules = new CapsuleReader();
  const frames = frameEvents(bytes, (event) => {
    if (!head) {
      if (event.kind !== 'frame' || event.type !== FrameType.Headers) throw new Http3Error(0x105, 'a request must start with HEADERS');
      head = parseRequestHead(decodeFieldSection(event.payload));
      if (isWebTransportConnect(head)) {
        const offered = head.headers.get('wt-available-protocols');
        if (offered !== undefined) parseProtocolList(offered);
      }
      return;
    }
    if (event.kind === 'data') {
      capsules.push(event.chunk);
      for (let capsule = capsules.next(); capsule; capsule = capsules.next()) {
        // close / drain / unknown: the link acts on them, nothing to parse further
      }
    } else if (event.kind === 'frame' && event.type !== FrameType.Headers) {
      throw new Http3Error(0x105, 'frame on a CONNECT stream');
    }
  });
  void frames.atFrameBoundary;
  void capsules.atCapsuleBoundary;
}

// quiche's native binding, loaded in setup() so a broken build only fails this target.
type Native = typeof import('../../../src/transport/quic/native-quiche.ts');
let native: Native | undefined;
let nativeLoadError: unknown;

export const h3Targets: FuzzTarget[] = [
  {
    name: 'h3.frames',
    seeds: [...CONTROL_SEEDS, ...REQUEST_SEEDS],
    allowed: isHttp3Error,
    run(bytes) {
      frameEvents(bytes, () => {});
    },
  },
  {
    name: 'h3.control-stream',
    seeds: CONTROL_SEEDS,
    allowed: isHttp3Error,
    run(bytes) {
      controlStream(bytes);
    },
  },
  {
    name: 'h3.request-stream',
    seeds: REQUEST_SEEDS,
    allowed: isHttp3Error,
    run(bytes) {
      requestStream(bytes);
    },
  },
  {
    name: 'h3.settings',
    seeds: [SETTINGS],
    allowed: isHttp3Error,
    run(bytes) {
      decodeSettings(bytes);
    },
  },
  {
    name: 'h3.qpack',
    seeds: FIELD_SECTIONS,
    allowed: isHttp3Error,
    run(bytes) {
      const fields = decodeFieldSection(bytes);
      try {
        parseRequestHead(fields);
      } catch (error) {
        if (!(error instanceof Http3Error)) throw error;
      }
      const response = parseResponseHead(fields);
      const chosen = response.headers.get('wt-protocol');
      if (chosen !== undefined) parseProtocolItem(chosen);
    },
  },
  {
    name: 'h3.huffman',
    seeds: HUFFMAN_SEEDS,
    allowed: isHttp3Error,
    run(bytes) {
      huffmanDecode(bytes);
    },
  },
  {
    name: 'h3.capsules',
    seeds: [cat(...CAPSULES), CAPSULES[0]!, cat(CAPSULES[2]!, CAPSULES[1]!)],
    allowed: isHttp3Error,
    run(bytes) {
      const capsules = new CapsuleReader();
      for (const piece of pieces(bytes)) {
        capsules.push(piece);
        for (let capsule = capsules.next(); capsule; capsule = capsules.next()) {
          // drained
        }
      }
    },
  },
  {
    // WT-Available-Protocols / WT-Protocol values: syntax errors mean "ignore", never a throw.
    name: 'h3.structured-fields',
    generators: [
      fc
        .array(fc.constantFrom('"moq-lite-04"', 'moql', 'moqt-16', ',', ', ', ' ', '\t', ';', 'q=1', 'a', '=', '(', ')', '"', '\\', '?1', '?2', ':aGk=:', '@12', '@-', '%"x%20"', '%"%zz"', '-1.5', '1234567890123456', '*', '"\u00e9"'), { maxLength: 16 })
        .map((parts) => ascii(parts.join(''))),
    ],
    seeds: [ascii('"moq-lite-04", "moqt-16";q=1, moql'), ascii('"moq-lite-04"'), ascii('(a "b");x=?1, @12, :aGk=:, %"x%20y", -1.5, "a\\"b"')],
    allowed: () => false,
    run(bytes) {
      const field = latin1(bytes);
      parseProtocolList(field);
      parseProtocolItem(field);
    },
  },
  {
    // The UDP datagram router: DCID extraction, then (long headers) quiche's header parser and,
    // for unknown versions, a Version Negotiation packet (src/transport/quic/server.ts).
    name: 'quic.packet-routing',
    seeds: [
      cat(0xc0, 0, 0, 0, 1, 8, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 8, Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1), 0, quicVarint(1100), new Uint8Array(1100)),
      cat(0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 20, new Uint8Array(20).fill(1), 0, new Uint8Array(1200)),
      cat(0x40, new Uint8Array(40).fill(9)),
    ],
    allowed: () => false,
    async setup() {
      if (native || nativeLoadError) return;
      try {
        native = await import('../../../src/transport/quic/native-quiche.ts');
      } catch (error) {
        nativeLoadError = error;
      }
    },
    run(bytes) {
      if (nativeLoadError) throw nativeLoadError;
      const preamble = new PreambleBuffer();
      preamble.push(bytes.subarray(0, 16));
      const cursor = preamble.cursor();
      cursor.varint();
      cursor.varint();
      const idLength = native?.MAX_CONN_ID_LEN ?? 20;
      const dcid = destinationConnectionId(bytes, idLength);
      if (!dcid) return;
      connectionIdKey(dcid);
      if (!isLongHeader(bytes) || !native) return;
      let header: ReturnType<typeof native.parseLongHeader>;
      try {
        header = native.parseLongHeader(bytes, idLength);
      } catch {
        return; // the server drops what quiche cannot parse
      }
      if (!native.isVersionSupported(header.version)) {
        if (bytes.byteLength < native.MIN_CLIENT_INITIAL_LEN) return;
        const out = new Uint8Array(native.DEFAULT_MAX_UDP_PAYLOAD);
        native.writeVersionNegotiation(header.scid, header.dcid, out);
      }
    },
  },
];
