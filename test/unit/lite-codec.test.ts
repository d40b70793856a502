/**
 * Round-trips every moq-lite message per version, and cross-checks each against the reference
 * client (@moq/lite 0.2.2): their encoder → our decoder and our encoder → their decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as RefAnnounce from '../../node_modules/@moq/lite/lite/announce.js';
import * as RefFetch from '../../node_modules/@moq/lite/lite/fetch.js';
import * as RefGoaway from '../../node_modules/@moq/lite/lite/goaway.js';
import * as RefGroup from '../../node_modules/@moq/lite/lite/group.js';
import * as RefProbe from '../../node_modules/@moq/lite/lite/probe.js';
import * as RefSession from '../../node_modules/@moq/lite/lite/session.js';
import * as RefSubscribe from '../../node_modules/@moq/lite/lite/subscribe.js';
import type { Version as RefVersion } from '../../node_modules/@moq/lite/lite/version.js';
import { SetupOptions as RefSetupOptions } from '../../node_modules/@moq/lite/ietf/parameters.js';
import * as RefSetup from '../../node_modules/@moq/lite/ietf/setup.js';
import type { Valid as RefPath } from '../../node_modules/@moq/lite/path.js';
import * as announce from '../../src/moq/lite/announce.ts';
import * as fetchMessage from '../../src/moq/lite/fetch.ts';
import * as goaway from '../../src/moq/lite/goaway.ts';
import * as group from '../../src/moq/lite/group.ts';
import * as probe from '../../src/moq/lite/probe.ts';
import * as sessionSetup from '../../src/moq/lite/session-setup.ts';
import * as setup from '../../src/moq/lite/setup-compat.ts';
import { SetupParameter, type SetupParameters } from '../../src/moq/lite/setup-parameters.ts';
import * as subscribe from '../../src/moq/lite/subscribe.ts';
import { LiteVersion } from '../../src/moq/lite/version.ts';
import { ByteReader } from '../../src/wire/byte-reader.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';
import { referenceEncode, referenceReader } from './lite-reference.ts';

const ALL_VERSIONS = [LiteVersion.Draft01, LiteVersion.Draft02, LiteVersion.Draft03, LiteVersion.Draft04] as const;
const DRAFT_14 = 0xff00000e;
const RUNS = { numRuns: 60 };

// Paths the reference normalizes (trimmed, single slashes) round-trip unchanged.
const path = fc
  .array(fc.stringMatching(/^[a-zA-Z0-9._-]{1,8}$/), { maxLength: 4 })
  .map((segments) => segments.join('/'));
const text = fc.string({ unit: 'grapheme', maxLength: 24 });
const u8 = fc.integer({ min: 0, max: 255 });
const nat = fc.integer({ min: 0, max: 2 ** 40 });
const optionalSequence = fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined });

const asRef = (version: LiteVersion) => version as RefVersion;
const asPath = (value: string) => value as RefPath;

/** Strips the varint length prefix, checking it covers the rest exactly. */
function bodyOf(framed: Uint8Array): Uint8Array {
  const reader = new ByteReader(framed);
  const body = reader.lengthPrefixedBytes();
  reader.expectEnd('framed message');
  return body;
}

function u16BodyOf(framed: Uint8Array): Uint8Array {
  const reader = new ByteReader(framed);
  const body = reader.bytes(reader.u16());
  reader.expectEnd('framed message');
  return body;
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function forEachVersion(name: string, run: (version: LiteVersion) => Promise<void>): void {
  for (const version of ALL_VERSIONS) it(`${name} (lite-0${version & 0xf})`, () => run(version));
}

/** Omits undefined optional fields so toEqual compares what is on the wire. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

describe('ANNOUNCE_PLEASE', () => {
  const arb = fc.record({ prefix: path, excludeHop: nat });
  const expected = (m: announce.AnnouncePlease, v: LiteVersion) => ({ ...m, excludeHop: v >= LiteVersion.Draft04 ? m.excludeHop : 0 });

  forEachVersion('round-trips and matches the reference', async (v) => {
    await fc.assert(
      fc.asyncProperty(arb, async (m) => {
        const ours = announce.encodeAnnouncePlease(m, v);
        expect(announce.decodeAnnouncePlease(bodyOf(ours), v)).toEqual(expected(m, v));
        const theirs = await referenceEncode((w) => new RefAnnounce.AnnounceInterest(asPath(m.prefix), m.excludeHop).encode(w, asRef(v)));
        expect(theirs).toEqual(ours);
        const decoded = await RefAnnounce.AnnounceInterest.decode(referenceReader(ours), asRef(v));
        expect({ prefix: decoded.prefix, excludeHop: decoded.excludeHop }).toEqual(expected(m, v));
      }),
      RUNS,
    );
  });
});

describe('ANNOUNCE', () => {
  const arb = fc.record({ active: fc.boolean(), suffix: path, hops: fc.array(nat, { maxLength: 6 }) });
  const expectedHops = (hops: number[], v: LiteVersion) =>
    v === LiteVersion.Draft03 ? hops.map(() => 0) : v >= LiteVersion.Draft04 ? hops : [];

  forEachVersion('round-trips and matches the reference', async (v) => {
    await fc.assert(
      fc.asyncProperty(arb, async (m) => {
        const ours = announce.encodeAnnounce(m, v);
        expect(announce.decodeAnnounce(bodyOf(ours), v)).toEqual({ ...m, hops: expectedHops(m.hops, v) });
        const theirs = await referenceEncode((w) =>
          new RefAnnounce.Announce({ suffix: asPath(m.suffix), active: m.active, hops: m.hops }).encode(w, asRef(v)),
        );
        expect(announce.decodeAnnounce(bodyOf(theirs), v)).toEqual({ ...m, hops: expectedHops(m.hops, v) });
        const decoded = await RefAnnounce.Announce.decode(referenceReader(ours), asRef(v));
        expect({ active: decoded.active, suffix: decoded.suffix, hops: decoded.hops }).toEqual({
          ...m,
          hops: expectedHops(m.hops, v),
        });
      }),
      RUNS,
    );
  });

  it('rejects more than 256 hops', () => {
    const m = { active: true, suffix: 'a', hops: new Array<number>(257).fill(1) };
    expect(() => announce.decodeAnnounce(bodyOf(announce.encodeAnnounce(m, LiteVersion.Draft04)), LiteVersion.Draft04)).toThrow(
      /value-too-large/,
    );
  });
});

describe('ANNOUNCE_INIT (lite-01/02)', () => {
  for (const v of [LiteVersion.Draft01, LiteVersion.Draft02]) {
    it(`round-trips and matches the reference (lite-0${v & 0xf})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(path, { maxLength: 8 }), async (suffixes) => {
          const ours = announce.encodeAnnounceInit({ suffixes }, v);
          expect(announce.decodeAnnounceInit(bodyOf(ours), v)).toEqual({ suffixes });
          const theirs = await referenceEncode((w) => new RefAnnounce.AnnounceInit(suffixes.map(asPath)).encode(w, asRef(v)));
          expect(theirs).toEqual(ours);
          expect((await RefAnnounce.AnnounceInit.decode(referenceReader(ours), asRef(v))).suffixes).toEqual(suffixes);
        }),
        RUNS,
      );
    });
  }

  it('does not exist in lite-03+', () => {
    expect(() => announce.decodeAnnounceInit(Uint8Array.of(0), LiteVersion.Draft03)).toThrow(/unsupported-version/);
    expect(() => announce.encodeAnnounceInit({ suffixes: [] }, LiteVersion.Draft04)).toThrow(RangeError);
  });
});

const rangeFields = {
  priority: u8,
  ordered: fc.boolean(),
  maxLatency: nat,
  startGroup: optionalSequence,
  endGroup: optionalSequence,
};

describe('SUBSCRIBE', () => {
  const arb = fc.record({ id: nat, broadcast: path, track: text, ...rangeFields });
  const expected = (m: subscribe.Subscribe, v: LiteVersion): subscribe.Subscribe =>
    v >= LiteVersion.Draft03
      ? defined(m)
      : { id: m.id, broadcast: m.broadcast, track: m.track, priority: m.priority, ordered: false, maxLatency: 0 };

  forEachVersion('round-trips and matches the reference', async (v) => {
    await fc.assert(
      fc.asyncProperty(arb, async (m) => {
        const ours = subscribe.encodeSubscribe(m, v);
        expect(subscribe.decodeSubscribe(bodyOf(ours), v)).toEqual(expected(m, v));
        const theirs = await referenceEncode((w) =>
          new RefSubscribe.Subscribe({ ...m, id: BigInt(m.id), broadcast: asPath(m.broadcast) }).encode(w, asRef(v)),
        );
        expect(theirs).toEqual(ours);
        const d = await RefSubscribe.Subscribe.decode(referenceReader(ours), asRef(v));
        expect(defined({ ...d, id: Number(d.id) })).toEqual(expected(m, v));
      }),
      RUNS,
    );
  });
});

describe('SUBSCRIBE_UPDATE', () => {
  const arb = fc.record(rangeFields);
  const expected = (m: subscribe.SubscribeUpdate, v: LiteVersion): subscribe.SubscribeUpdate =>
    v >= LiteVersion.Draft03 ? defined(m) : { priority: m.priority, ordered: true, maxLatency: 0 };

  forEachVersion('round-trips and matches the reference', async (v) => {
    await fc.assert(
      fc.asyncProperty(arb, async (m) => {
        const ours = subscribe.encodeSubscribeUpdate(m, v);
        expect(subscribe.decodeSubscribeUpdate(bodyOf(ours), v)).toEqual(expected(m, v));
        const theirs = await referenceEncode((w) => new RefSubscribe.SubscribeUpdate(m).encode(w, asRef(v)));
        expect(theirs).toEqual(ours);
        const d = await RefSubscribe.SubscribeUpdate.decode(referenceReader(ours), asRef(v));
        expect(defined({ ...d })).toEqual(expected(m, v));
      }),
      RUNS,
    );
  });
});

describe('SUBSCRIBE_OK / SUBSCRIBE_DROP responses', () => {
  const okArb = fc.record(rangeFields);
  const dropArb = fc.record({ start: nat, end: nat, error: nat });
  const expectedOk = (m: subscribe.SubscribeOk, v: LiteVersion): subscribe.SubscribeOk =>
    v >= LiteVersion.Draft03
      ? defined(m)
      : { priority: v === LiteVersion.Draft01 ? m.priority : 0, ordered: true, maxLatency: 0 };

  forEachVersion('SUBSCRIBE_OK round-trips and matches the reference', async (v) => {
    await fc.assert(
      fc.asyncProperty(okArb, async (m) => {
        const ours = subscribe.encodeSubscribeResponse({ kind: 'ok', ok: m }, v);
        const read = await subscribe.readSubscribeResponse(new StreamReader(streamOf(ours)), v, 1024);
        expect(read).toEqual({ kind: 'ok', ok: expectedOk(m, v) });
        const theirs = await referenceEncode((w) =>
          RefSubscribe.encodeSubscribeResponse(w, { ok: new RefSubscribe.SubscribeOk(m) }, asRef(v)),
        );
        expect(theirs).toEqual(ours);
        const d = await RefSubscribe.decodeSubscribeResponse(referenceReader(ours), asRef(v));
        if (!('ok' in d)) throw new Error('reference decoded a drop');
        const theirOk = defined({ ...d.ok });
        // The reference decodes lite-02's empty SUBSCRIBE_OK with priority undefined.
        expect({ ...theirOk, priority: theirOk.priority ?? 0 }).toEqual(expectedOk(m, v));
      }),
      RUNS,
    );
  });

  for (const v of [LiteVersion.Draft03, LiteVersion.Draft04]) {
    it(`SUBSCRIBE_DROP round-trips and matches the reference (lite-0${v & 0xf})`, async () => {
      await fc.assert(
        fc.asyncProperty(dropArb, async (m) => {
          const ours = subscribe.encodeSubscribeResponse({ kind: 'drop', drop: m }, v);
          expect(await subscribe.readSubscribeResponse(new StreamReader(streamOf(ours)), v, 1024)).toEqual({ kind: 'drop', drop: m });
          const theirs = await referenceEncode((w) =>
            RefSubscribe.encodeSubscribeResponse(w, { drop: new RefSubscribe.SubscribeDrop(m) }, asRef(v)),
          );
          expect(theirs).toEqual(ours);
          const d = await RefSubscribe.decodeSubscribeResponse(referenceReader(ours), asRef(v));
          if (!('drop' in d)) throw new Error('reference decoded an ok');
          expect({ ...d.drop }).toEqual(m);
        }),
        RUNS,
      );
    });
  }

  it('rejects an unknown response type', async () => {
    const reader = new StreamReader(streamOf(Uint8Array.of(2, 0)));
    await expect(subscribe.readSubscribeResponse(reader, LiteVersion.Draft03, 1024)).rejects.toMatchObject({ code: 'invalid-value' });
  });
});

describe('GROUP and FRAME', () => {
  it('matches the reference group stream layout', async () => {
    await fc.assert(
      fc.asyncProperty(nat, nat, fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), async (id, sequence, frames) => {
        const header = group.encodeGroupHeader({ subscribeId: id, sequence });
        expect(group.decodeGroupHeader(bodyOf(header))).toEqual({ subscribeId: id, sequence });
        const theirs = await referenceEncode(async (w) => {
          await new RefGroup.Group(BigInt(id), sequence).encode(w);
          for (const frame of frames) await new RefGroup.Frame(frame).encode(w);
        });
        const ours = new Uint8Array([...header, ...frames.flatMap((f) => [...group.encodeFrameHeader(f.byteLength), ...f])]);
        expect(theirs).toEqual(ours);
        // And frame by frame through the stream reader, as the session reads them.
        const reader = new StreamReader(streamOf(theirs));
        expect(group.decodeGroupHeader(await reader.message())).toEqual({ subscribeId: id, sequence });
        for (const frame of frames) expect([...(await reader.message())]).toEqual([...frame]);
        expect(await reader.atEnd()).toBe(true);
        const refReader = referenceReader(ours);
        const g = await RefGroup.Group.decode(refReader);
        expect([Number(g.subscribe), g.sequence]).toEqual([id, sequence]);
        for (const frame of frames) expect([...(await RefGroup.Frame.decode(refReader)).payload]).toEqual([...frame]);
        expect(group.encodeFrame(frames[0] ?? new Uint8Array())).toEqual(
          new Uint8Array([...group.encodeFrameHeader(frames[0]?.byteLength ?? 0), ...(frames[0] ?? [])]),
        );
      }),
      RUNS,
    );
  });
});

describe('FETCH (lite-03+)', () => {
  for (const v of [LiteVersion.Draft03, LiteVersion.Draft04]) {
    it(`round-trips and matches the reference (lite-0${v & 0xf})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.record({ broadcast: path, track: text, priority: u8, group: nat }), async (m) => {
          const ours = fetchMessage.encodeFetch(m, v);
          expect(fetchMessage.decodeFetch(bodyOf(ours), v)).toEqual(m);
          const theirs = await referenceEncode((w) =>
            new RefFetch.Fetch(asPath(m.broadcast), m.track, m.priority, m.group).encode(w, asRef(v)),
          );
          expect(theirs).toEqual(ours);
          const d = await RefFetch.Fetch.decode(referenceReader(ours), asRef(v));
          expect({ broadcast: d.broadcast, track: d.track, priority: d.priority, group: d.group }).toEqual(m);
        }),
        RUNS,
      );
    });
  }

  it('does not exist before lite-03', () => {
    expect(() => fetchMessage.decodeFetch(Uint8Array.of(), LiteVersion.Draft02)).toThrow(/unsupported-version/);
  });
});

describe('PROBE (lite-03+)', () => {
  for (const v of [LiteVersion.Draft03, LiteVersion.Draft04]) {
    it(`round-trips and matches the reference (lite-0${v & 0xf})`, async () => {
      await fc.assert(
        fc.asyncProperty(nat, fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }), async (bitrate, rtt) => {
          const m: probe.Probe = rtt === undefined ? { bitrate } : { bitrate, rtt };
          const expected = v >= LiteVersion.Draft04 ? m : { bitrate };
          const ours = probe.encodeProbe(m, v);
          expect(probe.decodeProbe(bodyOf(ours), v)).toEqual(expected);
          const theirs = await referenceEncode((w) => new RefProbe.Probe(bitrate, rtt).encode(w, asRef(v)));
          expect(theirs).toEqual(ours);
          const d = await RefProbe.Probe.decode(referenceReader(ours), asRef(v));
          expect(defined({ bitrate: d.bitrate, rtt: d.rtt })).toEqual(expected);
        }),
        RUNS,
      );
    });
  }
});

describe('GOAWAY (lite-04)', () => {
  it('round-trips and matches the reference', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (uri) => {
        const ours = goaway.encodeGoaway({ uri }, LiteVersion.Draft04);
        expect(goaway.decodeGoaway(bodyOf(ours), LiteVersion.Draft04)).toEqual({ uri });
        const theirs = await referenceEncode((w) => new RefGoaway.Goaway(uri).encode(w, asRef(LiteVersion.Draft04)));
        expect(theirs).toEqual(ours);
        expect((await RefGoaway.Goaway.decode(referenceReader(ours), asRef(LiteVersion.Draft04))).uri).toBe(uri);
      }),
      RUNS,
    );
  });

  it('does not exist before lite-04', () => {
    expect(() => goaway.decodeGoaway(Uint8Array.of(0), LiteVersion.Draft03)).toThrow(/unsupported-version/);
  });
});

describe('lite-01/02 session stream', () => {
  it('SESSION_CLIENT / SESSION_SERVER / SESSION_INFO match the reference', async () => {
    const extensions = new Map([[2n, Uint8Array.of(1, 2)], [7n, new TextEncoder().encode('x')]]);
    const client = { versions: [LiteVersion.Draft02, LiteVersion.Draft01], extensions };
    const ours = sessionSetup.encodeSessionClient(client);
    expect(sessionSetup.decodeSessionClient(bodyOf(ours))).toEqual(client);
    const refExtensions = new RefSession.Extensions();
    for (const [id, value] of extensions) refExtensions.set(id, value);
    expect(await referenceEncode((w) => new RefSession.SessionClient(client.versions, refExtensions).encode(w))).toEqual(ours);

    const server = { version: LiteVersion.Draft02, extensions: new Map<bigint, Uint8Array>() };
    const serverBytes = sessionSetup.encodeSessionServer(server);
    expect(sessionSetup.decodeSessionServer(bodyOf(serverBytes))).toEqual(server);
    expect((await RefSession.SessionServer.decode(referenceReader(serverBytes))).version).toBe(LiteVersion.Draft02);

    const info = sessionSetup.encodeSessionInfo({ bitrate: 123456 });
    expect(sessionSetup.decodeSessionInfo(bodyOf(info))).toEqual({ bitrate: 123456 });
    expect(await referenceEncode((w) => new RefSession.SessionInfo(123456).encode(w, asRef(LiteVersion.Draft02)))).toEqual(info);
  });

  it('rejects duplicate extensions', () => {
    const bytes = Uint8Array.of(0, 2, 4, 0, 4, 0);
    expect(() => sessionSetup.decodeSessionClient(bytes)).toThrow(/duplicate/);
  });
});

describe('moql compat SETUP (draft-14 encoding, u16 length)', () => {
  const referenceOptions = () => {
    const options = new RefSetupOptions();
    options.setVarint(SetupParameter.MaxRequestId, 42069n);
    options.setBytes(SetupParameter.Implementation, new TextEncoder().encode('moq-lite-js'));
    return options;
  };
  const ourParameters = (): SetupParameters => ({
    varints: new Map([[SetupParameter.MaxRequestId, 42069n]]),
    bytes: new Map([[SetupParameter.Implementation, new TextEncoder().encode('moq-lite-js')]]),
  });

  it('decodes the reference CLIENT_SETUP and encodes it identically', async () => {
    const versions = [LiteVersion.Draft02, LiteVersion.Draft01, DRAFT_14];
    const theirs = await referenceEncode((w) =>
      new RefSetup.ClientSetup({ versions, parameters: referenceOptions() }).encode(w, DRAFT_14),
    );
    const decoded = setup.decodeClientSetup(u16BodyOf(theirs));
    expect(decoded).toEqual({ versions, parameters: ourParameters() });
    expect(setup.encodeClientSetup(decoded)).toEqual(theirs);
    expect(setup.chooseVersion(decoded.versions, [LiteVersion.Draft02, LiteVersion.Draft01])).toBe(LiteVersion.Draft02);
    expect(setup.chooseVersion([DRAFT_14], [LiteVersion.Draft02])).toBeUndefined();
  });

  it('encodes a SERVER_SETUP the reference decodes', async () => {
    const ours = setup.encodeServerSetup({ version: LiteVersion.Draft02, parameters: ourParameters() });
    expect(setup.decodeServerSetup(u16BodyOf(ours))).toEqual({ version: LiteVersion.Draft02, parameters: ourParameters() });
    const d = await RefSetup.ServerSetup.decode(referenceReader(ours), DRAFT_14);
    expect(d.version).toBe(LiteVersion.Draft02);
    expect(d.parameters.getVarint(SetupParameter.MaxRequestId)).toBe(42069n);
    expect(
      await referenceEncode((w) =>
        new RefSetup.ServerSetup({ version: LiteVersion.Draft02, parameters: referenceOptions() }).encode(w, DRAFT_14),
      ),
    ).toEqual(ours);
  });

  it('rejects duplicate parameters and too many versions', () => {
    expect(() => setup.decodeClientSetup(Uint8Array.of(0, 2, 2, 1, 2, 1))).toThrow(/duplicate/);
    expect(() => setup.decodeClientSetup(Uint8Array.of(0x40, 200, ...new Array<number>(200).fill(1), 0))).toThrow(/value-too-large/);
  });
});
