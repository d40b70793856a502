/**
 * Random and mutated bytes into every moq-lite decoder: the only error that may escape is our
 * ProtocolError (no RangeError, TypeError, or allocation from a hostile length).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as announce from '../../src/moq/lite/announce.ts';
import { decodeFetch, encodeFetch } from '../../src/moq/lite/fetch.ts';
import { decodeGoaway } from '../../src/moq/lite/goaway.ts';
import { decodeGroupHeader, encodeGroupHeader } from '../../src/moq/lite/group.ts';
import { decodeProbe } from '../../src/moq/lite/probe.ts';
import * as sessionSetup from '../../src/moq/lite/session-setup.ts';
import * as setup from '../../src/moq/lite/setup-compat.ts';
import { SetupParameter } from '../../src/moq/lite/setup-parameters.ts';
import * as subscribe from '../../src/moq/lite/subscribe.ts';
import { LiteVersion } from '../../src/moq/lite/version.ts';
import { ByteReader } from '../../src/wire/byte-reader.ts';
import { ProtocolError } from '../../src/wire/errors.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';

const RUNS = { numRuns: 3000 };
const version = fc.constantFrom(LiteVersion.Draft01, LiteVersion.Draft02, LiteVersion.Draft03, LiteVersion.Draft04);

/** Valid bodies to mutate, so fuzzing reaches past the first field. */
const SEEDS: Uint8Array[] = [
  body(announce.encodeAnnounce({ active: true, suffix: 'live/demo', hops: [1, 2, 3] }, LiteVersion.Draft04)),
  body(announce.encodeAnnouncePlease({ prefix: 'live', excludeHop: 9 }, LiteVersion.Draft04)),
  body(announce.encodeAnnounceInit({ suffixes: ['a', 'b/c'] }, LiteVersion.Draft02)),
  body(
    subscribe.encodeSubscribe(
      { id: 3, broadcast: 'live/demo', track: 'video', priority: 60, ordered: true, maxLatency: 500, startGroup: 4, endGroup: 9 },
      LiteVersion.Draft03,
    ),
  ),
  body(subscribe.encodeSubscribeOk({ priority: 1, ordered: false, maxLatency: 0, startGroup: 2 }, LiteVersion.Draft04)),
  body(encodeGroupHeader({ subscribeId: 77, sequence: 2 ** 33 })),
  body(encodeFetch({ broadcast: 'x', track: 'y', priority: 1, group: 5 }, LiteVersion.Draft03)),
  body(sessionSetup.encodeSessionClient({ versions: [LiteVersion.Draft02], extensions: new Map([[1n, Uint8Array.of(5)]]) })),
  setup
    .encodeClientSetup({
      versions: [LiteVersion.Draft02, LiteVersion.Draft01, 0xff00000e],
      parameters: { varints: new Map([[SetupParameter.MaxRequestId, 42069n]]), bytes: new Map([[SetupParameter.Implementation, Uint8Array.of(97)]]) },
    })
    .subarray(2),
];

function body(framed: Uint8Array): Uint8Array {
  const reader = new ByteReader(framed);
  return reader.bytes(reader.varint());
}

/** Either random bytes, or a seed with random bytes overwritten and a random length. */
const input = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(
      fc.constantFrom(...SEEDS),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(),
    )
    .map(([seed, edits, cut]) => {
      const bytes = seed.slice(0, cut % (seed.byteLength + 2));
      for (const [at, value] of edits) if (bytes.byteLength > 0) bytes[at % bytes.byteLength] = value;
      return bytes;
    }),
);

function onlyProtocolErrors(decode: () => unknown): void {
  try {
    decode();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

async function onlyProtocolErrorsAsync(decode: () => Promise<unknown>): Promise<void> {
  try {
    await decode();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

const versioned: Record<string, (bytes: Uint8Array, v: LiteVersion) => unknown> = {
  ANNOUNCE_PLEASE: announce.decodeAnnouncePlease,
  ANNOUNCE: announce.decodeAnnounce,
  ANNOUNCE_INIT: announce.decodeAnnounceInit,
  SUBSCRIBE: subscribe.decodeSubscribe,
  SUBSCRIBE_UPDATE: subscribe.decodeSubscribeUpdate,
  SUBSCRIBE_OK: subscribe.decodeSubscribeOk,
  FETCH: decodeFetch,
  PROBE: decodeProbe,
  GOAWAY: decodeGoaway,
};

const unversioned: Record<string, (bytes: Uint8Array) => unknown> = {
  SUBSCRIBE_DROP: subscribe.decodeSubscribeDrop,
  GROUP: decodeGroupHeader,
  SESSION_CLIENT: sessionSetup.decodeSessionClient,
  SESSION_SERVER: sessionSetup.decodeSessionServer,
  SESSION_INFO: sessionSetup.decodeSessionInfo,
  CLIENT_SETUP: setup.decodeClientSetup,
  SERVER_SETUP: setup.decodeServerSetup,
};

describe('decoders raise only ProtocolError on arbitrary bytes', () => {
  for (const [name, decode] of Object.entries(versioned)) {
    it(name, () => {
      fc.assert(fc.property(input, version, (bytes, v) => onlyProtocolErrors(() => decode(bytes, v))), RUNS);
    });
  }
  for (const [name, decode] of Object.entries(unversioned)) {
    it(name, () => {
      fc.assert(fc.property(input, (bytes) => onlyProtocolErrors(() => decode(bytes))), RUNS);
    });
  }

  it('subscribe response from a stream', async () => {
    await fc.assert(
      fc.asyncProperty(input, version, (bytes, v) =>
        onlyProtocolErrorsAsync(() => subscribe.readSubscribeResponse(new StreamReader(streamOf(bytes)), v, 1024)),
      ),
      RUNS,
    );
  });

  it('stream framing (varint and u16 lengths, limits)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 64 }), async (bytes, limit) => {
        await onlyProtocolErrorsAsync(async () => {
          const reader = new StreamReader(streamOf(bytes));
          while ((await reader.messageOrEnd(limit)) !== undefined) {
            // keep reading messages until the end or an error
          }
        });
        await onlyProtocolErrorsAsync(() => new StreamReader(streamOf(bytes)).messageU16(limit));
        await onlyProtocolErrorsAsync(() => new StreamReader(streamOf(bytes)).varintBig());
      }),
      RUNS,
    );
  });

  it('never allocates from a claimed length above the limit', async () => {
    // A 2^53-1 length prefix with no body must fail fast on the limit, not try to buffer.
    const reader = new StreamReader(streamOf(Uint8Array.of(0xc0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)));
    await expect(reader.message()).rejects.toMatchObject({ code: 'message-too-large' });
  });
});
