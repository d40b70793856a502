/**
 * moq-lite (src/moq/lite), per version lite-01 … lite-04: every message decoder, the server's
 * request streams (what Session.#serveBidi reads), the client-side response streams (announce,
 * subscribe answer, group frames, session info, SERVER_SETUP), the SETUP handshake and the
 * `moql` SETUP peek that routes a session to moq-lite or IETF.
 */
import * as announce from '../../../src/moq/lite/announce.ts';
import { decodeFetch, encodeFetch } from '../../../src/moq/lite/fetch.ts';
import { decodeGoaway, encodeGoaway } from '../../../src/moq/lite/goaway.ts';
import { decodeGroupHeader, encodeFrame, encodeGroupHeader } from '../../../src/moq/lite/group.ts';
import { answerSetup } from '../../../src/moq/lite/handshake.ts';
import { DEFAULT_LITE_LIMITS } from '../../../src/moq/lite/options.ts';
import { decodeProbe, encodeProbe } from '../../../src/moq/lite/probe.ts';
import * as sessionSetup from '../../../src/moq/lite/session-setup.ts';
import * as setup from '../../../src/moq/lite/setup-compat.ts';
import { SetupParameter } from '../../../src/moq/lite/setup-parameters.ts';
import * as subscribe from '../../../src/moq/lite/subscribe.ts';
import { hasAnnounceInit, hasFetch, hasGoaway, hasSubscribeRanges, LiteVersion } from '../../../src/moq/lite/version.ts';
import { peekClientSetup } from '../../../src/moq/setup-peek.ts';
import { ProtocolError } from '../../../src/wire/errors.ts';
import { StreamReader } from '../../../src/wire/stream-reader.ts';
import { cat, macrotask, sinkStream, streamOf } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const isProtocolError = (error: unknown): boolean => error instanceof ProtocolError;
const LIMITS = DEFAULT_LITE_LIMITS;

const VERSIONS: [string, LiteVersion][] = [
  ['lite-01', LiteVersion.Draft01],
  ['lite-02', LiteVersion.Draft02],
  ['lite-03', LiteVersion.Draft03],
  ['lite-04', LiteVersion.Draft04],
];

/** Tries an encoder: some messages do not exist in some versions. */
function attempt(encode: () => Uint8Array): Uint8Array[] {
  try {
    return [encode()];
  } catch {
    return [];
  }
}

/** Every decoder of a message body, for one version. */
function decoders(v: LiteVersion): [string, (body: Uint8Array) => unknown][] {
  return [
    ['ANNOUNCE_PLEASE', (b) => announce.decodeAnnouncePlease(b, v)],
    ['ANNOUNCE', (b) => announce.decodeAnnounce(b, v)],
    ['ANNOUNCE_INIT', (b) => announce.decodeAnnounceInit(b, v)],
    ['SUBSCRIBE', (b) => subscribe.decodeSubscribe(b, v)],
    ['SUBSCRIBE_UPDATE', (b) => subscribe.decodeSubscribeUpdate(b, v)],
    ['SUBSCRIBE_OK', (b) => subscribe.decodeSubscribeOk(b, v)],
    ['SUBSCRIBE_DROP', (b) => subscribe.decodeSubscribeDrop(b)],
    ['FETCH', (b) => decodeFetch(b, v)],
    ['PROBE', (b) => decodeProbe(b, v)],
    ['GOAWAY', (b) => decodeGoaway(b, v)],
    ['GROUP', (b) => decodeGroupHeader(b)],
    ['SESSION_CLIENT', (b) => sessionSetup.decodeSessionClient(b)],
    ['SESSION_SERVER', (b) => sessionSetup.decodeSessionServer(b)],
    ['SESSION_INFO', (b) => sessionSetup.decodeSessionInfo(b)],
    ['CLIENT_SETUP', (b) => setup.decodeClientSetup(b)],
    ['SERVER_SETUP', (b) => setup.decodeServerSetup(b)],
  ];
}

/** Message framed with its varint length: drop the prefix to get the body. */
function body(framed: Uint8Array): Uint8Array {
  const first = framed[0]!;
  const size = 1 << (first >> 6);
  return framed.subarray(size);
}

const SUBSCRIPTION = { priority: 60, ordered: true, maxLatency: 500, startGroup: 4, endGroup: 9 };
const CLIENT_SETUP = setup.encodeClientSetup({
  versions: [LiteVersion.Draft02, LiteVersion.Draft01, 0xff00000e],
  parameters: { varints: new Map([[SetupParameter.MaxRequestId, 42069n]]), bytes: new Map([[SetupParameter.Implementation, Uint8Array.of(0x61)]]) },
});
const SERVER_SETUP = setup.encodeServerSetup({ version: LiteVersion.Draft02, parameters: { varints: new Map(), bytes: new Map([[SetupParameter.Implementation, Uint8Array.of(0x62)]]) } });

/** Framed messages (length prefix included) of one version, by decoder name. */
function framedMessages(v: LiteVersion): Record<string, Uint8Array[]> {
  return {
    ANNOUNCE_PLEASE: attempt(() => announce.encodeAnnouncePlease({ prefix: 'live', excludeHop: 9 }, v)),
    ANNOUNCE: [
      ...attempt(() => announce.encodeAnnounce({ active: true, suffix: 'demo', hops: [1, 2, 3] }, v)),
      ...attempt(() => announce.encodeAnnounce({ active: false, suffix: 'cam/1', hops: [] }, v)),
    ],
    ANNOUNCE_INIT: attempt(() => announce.encodeAnnounceInit({ suffixes: ['a', 'b/c'] }, v)),
    SUBSCRIBE: attempt(() => subscribe.encodeSubscribe({ id: 3, broadcast: 'live/demo', track: 'video', ...SUBSCRIPTION }, v)),
    SUBSCRIBE_UPDATE: attempt(() => subscribe.encodeSubscribeUpdate(SUBSCRIPTION, v)),
    SUBSCRIBE_OK: attempt(() => subscribe.encodeSubscribeOk({ priority: 1, ordered: false, maxLatency: 0, startGroup: 2 }, v)),
    SUBSCRIBE_DROP: attempt(() => subscribe.encodeSubscribeDrop({ start: 1, end: 5, error: 3 })),
    FETCH: attempt(() => encodeFetch({ broadcast: 'x', track: 'y', priority: 1, group: 5 }, v)),
    PROBE: attempt(() => encodeProbe({ bitrate: 2_500_000, rtt: 40 }, v)),
    GOAWAY: attempt(() => encodeGoaway({ uri: 'https://relay.example/moq' }, v)),
    GROUP: attempt(() => encodeGroupHeader({ subscribeId: 77, sequence: 2 ** 33 })),
    SESSION_CLIENT: attempt(() => sessionSetup.encodeSessionClient({ versions: [LiteVersion.Draft02, LiteVersion.Draft01], extensions: new Map([[1n, Uint8Array.of(5)]]) })),
    SESSION_SERVER: attempt(() => sessionSetup.encodeSessionServer({ version: LiteVersion.Draft02, extensions: new Map([[2n, Uint8Array.of(1, 2)]]) })),
    SESSION_INFO: attempt(() => sessionSetup.encodeSessionInfo({ bitrate: 1_000_000 })),
  };
}

/** `messages` target: selector byte picks the decoder, the rest is its body. */
function messageSeeds(v: LiteVersion): Uint8Array[] {
  const names = decoders(v).map(([name]) => name);
  const framed = framedMessages(v);
  const seeds: Uint8Array[] = [];
  for (const [name, list] of Object.entries(framed)) for (const m of list) seeds.push(cat(names.indexOf(name), body(m)));
  seeds.push(cat(names.indexOf('CLIENT_SETUP'), CLIENT_SETUP.subarray(2)), cat(names.indexOf('SERVER_SETUP'), SERVER_SETUP.subarray(2)));
  return seeds;
}

/** What the server reads from a client-opened bidi stream (Session.#serveBidi + the handlers). */
async function serveRequest(reader: StreamReader, v: LiteVersion): Promise<void> {
  const type = await reader.varint();
  switch (type) {
    case 1:
      announce.decodeAnnouncePlease(await reader.message(LIMITS.maxMessageBytes), v);
      return;
    case 2:
      subscribe.decodeSubscribe(await reader.message(LIMITS.maxMessageBytes), v);
      // serveSubscription then reads SUBSCRIBE_UPDATEs until the stream ends.
      for (let m = await reader.messageOrEnd(LIMITS.maxMessageBytes); m !== undefined; m = await reader.messageOrEnd(LIMITS.maxMessageBytes)) {
        subscribe.decodeSubscribeUpdate(m, v);
      }
      return;
    case 3:
      if (hasFetch(v)) decodeFetch(await reader.message(LIMITS.maxMessageBytes), v);
      return;
    case 5:
      if (hasGoaway(v)) decodeGoaway(await reader.message(LIMITS.maxMessageBytes), v);
      return;
    default:
      return;
  }
}

function requestSeeds(v: LiteVersion): Uint8Array[] {
  const f = framedMessages(v);
  return [
    ...f.ANNOUNCE_PLEASE!.map((m) => cat(1, m)),
    ...f.SUBSCRIBE!.map((m) => cat(2, m, ...f.SUBSCRIBE_UPDATE!, ...f.SUBSCRIBE_UPDATE!)),
    ...f.FETCH!.map((m) => cat(3, m)),
    ...f.GOAWAY!.map((m) => cat(5, m)),
    cat(4),
  ];
}

/** Streams the gateway reads as a moq-lite client (cluster links, upstream subscriptions). */
async function readResponse(selector: number, reader: StreamReader, v: LiteVersion): Promise<void> {
  switch (selector % 5) {
    case 0: {
      // Announce stream: ANNOUNCE_INIT (lite-01/02), then ANNOUNCEs until the end.
      if (hasAnnounceInit(v)) announce.decodeAnnounceInit(await reader.message(LIMITS.maxMessageBytes), v);
      for (let m = await reader.messageOrEnd(LIMITS.maxMessageBytes); m !== undefined; m = await reader.messageOrEnd(LIMITS.maxMessageBytes)) {
        announce.decodeAnnounce(m, v);
      }
      return;
    }
    case 1:
      await subscribe.readSubscribeResponse(reader, v, LIMITS.maxMessageBytes);
      return;
    case 2: {
      // Group uni stream: type, GROUP header, frames until the end.
      if ((await reader.varint()) !== 0) return;
      decodeGroupHeader(await reader.message(LIMITS.maxMessageBytes));
      while ((await reader.messageOrEnd(LIMITS.maxFrameBytes)) !== undefined) {
        // frames are opaque
      }
      return;
    }
    case 3:
      for (let m = await reader.messageOrEnd(LIMITS.maxMessageBytes); m !== undefined; m = await reader.messageOrEnd(LIMITS.maxMessageBytes)) {
        sessionSetup.decodeSessionInfo(m);
      }
      return;
    default: {
      // client-handshake.ts: SERVER_SETUP after the 0x21 stream type.
      if ((await reader.varint()) !== 0x21) return;
      setup.decodeServerSetup(await reader.messageU16(LIMITS.maxMessageBytes));
    }
  }
}

function responseSeeds(v: LiteVersion): Uint8Array[] {
  const f = framedMessages(v);
  const announces = f.ANNOUNCE!;
  const frames = [encodeFrame(Uint8Array.of(1, 2, 3)), encodeFrame(new Uint8Array(300)), encodeFrame(new Uint8Array(0))];
  const okResponse = attempt(() => subscribe.encodeSubscribeResponse({ kind: 'ok', ok: { priority: 2, ordered: true, maxLatency: 10 } }, v));
  const dropResponse = attempt(() => subscribe.encodeSubscribeResponse({ kind: 'drop', drop: { start: 1, end: 2, error: 0 } }, v));
  return [
    cat(0, ...(hasAnnounceInit(v) ? f.ANNOUNCE_INIT! : []), ...announces),
    ...okResponse.map((r) => cat(1, r)),
    ...dropResponse.map((r) => cat(1, r)),
    ...(hasSubscribeRanges(v) ? [] : [cat(1, ...f.SUBSCRIBE_OK!)]),
    cat(2, 0, ...f.GROUP!, ...frames),
    cat(3, ...f.SESSION_INFO!, ...f.SESSION_INFO!),
    cat(4, 0x21, SERVER_SETUP),
  ];
}

const fakeBidi = (bytes: Uint8Array): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } => ({
  readable: streamOf(bytes),
  writable: sinkStream(),
});

/** A WebTransport with one incoming bidi stream carrying `bytes`, as the server sees a client. */
function fakeTransport(bytes: Uint8Array): WebTransport {
  const transport = {
    incomingBidirectionalStreams: new ReadableStream({
      start(controller) {
        controller.enqueue(fakeBidi(bytes));
        controller.close();
      },
    }),
    incomingUnidirectionalStreams: new ReadableStream({ start: (c) => c.close() }),
    ready: Promise.resolve(),
    closed: new Promise(() => {}),
    datagrams: {},
    close() {},
    createBidirectionalStream: async () => fakeBidi(new Uint8Array(0)),
    createUnidirectionalStream: async () => sinkStream(),
  };
  return transport as unknown as WebTransport;
}

const SETUP_SEEDS = [
  cat(0x20, CLIENT_SETUP),
  cat(0x20, setup.encodeClientSetup({ versions: [0xff00000e], parameters: { varints: new Map([[2n, 10n]]), bytes: new Map([[1n, Uint8Array.of(0x2f, 0x78)]]) } })),
  cat(0, ...attempt(() => sessionSetup.encodeSessionClient({ versions: [LiteVersion.Draft01, LiteVersion.Draft02], extensions: new Map() }))),
  cat(2, ...framedMessages(LiteVersion.Draft04).SUBSCRIBE!),
];

/** Reads a stream's remaining bytes (the peek hands the replayed stream to the session). */
async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  while (!(await reader.read()).done) {
    // discard
  }
}

export const liteTargets: FuzzTarget[] = [
  ...VERSIONS.flatMap(([name, v]): FuzzTarget[] => {
    const table = decoders(v);
    return [
      {
        name: `${name}.messages`,
        seeds: messageSeeds(v),
        allowed: isProtocolError,
        run(bytes) {
          if (bytes.byteLength === 0) return;
          table[bytes[0]! % table.length]![1](bytes.subarray(1));
        },
      },
      {
        name: `${name}.request-stream`,
        seeds: requestSeeds(v),
        allowed: isProtocolError,
        async run(bytes) {
          await serveRequest(new StreamReader(streamOf(bytes)), v);
        },
      },
      {
        name: `${name}.response-stream`,
        seeds: responseSeeds(v),
        allowed: isProtocolError,
        async run(bytes) {
          if (bytes.byteLength === 0) return;
          await readResponse(bytes[0]!, new StreamReader(streamOf(bytes.subarray(1))), v);
        },
      },
    ];
  }),
  {
    name: 'lite.setup-handshake',
    seeds: SETUP_SEEDS,
    allowed: isProtocolError,
    async run(bytes) {
      await answerSetup(fakeBidi(bytes), LIMITS.maxMessageBytes);
    },
  },
  {
    name: 'moq.setup-peek',
    seeds: SETUP_SEEDS,
    allowed: isProtocolError,
    async run(bytes) {
      const peeked = await peekClientSetup(fakeTransport(bytes), 60_000);
      const streams = peeked.transport.incomingBidirectionalStreams.getReader();
      const first = await streams.read();
      if (!first.done) await drain(first.value.readable);
      await macrotask();
    },
  },
];
