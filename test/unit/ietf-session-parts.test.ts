/**
 * Session building blocks without a network: scheduling order, filters, delivery timeout and the
 * too-far-behind policy, request IDs, token aliases, ingest group assembly, and the MSF/LOC
 * conversions.
 */
import { describe, expect, it } from 'vitest';
import { encodeCatalog, parseCatalog } from '../../src/media/hang/catalog.ts';
import type { TrackInfo } from '../../src/media/frame.ts';
import { locTimestampProperties, locTimestampUs } from '../../src/media/loc/properties.ts';
import { msfCatalogFromTracks } from '../../src/media/msf/from-hang.ts';
import { tracksFromMsfCatalog } from '../../src/media/msf/to-hang.ts';
import { Origin, Track } from '../../src/relay/index.ts';
import { legacyToLoc } from '../../adapters/bridge/msf-loc/egress-format.ts';
import { passthrough } from '../../src/moq/ietf/media-bridge.ts';
import { dataCodec } from '../../src/moq/ietf/data/codecs.ts';
import { resolveFilter } from '../../src/moq/ietf/egress/filter.ts';
import { sendGroup } from '../../src/moq/ietf/egress/group-sender.ts';
import { SendBudget } from '../../src/moq/send-budget.ts';
import { dataSendOrder } from '../../src/moq/ietf/egress/send-order.ts';
import { ServedSubscription } from '../../src/moq/ietf/egress/served-subscription.ts';
import { IetfProtocolError, SessionErrorCode } from '../../src/moq/ietf/errors.ts';
import { IngestGroups } from '../../src/moq/ietf/ingest/groups.ts';
import type { ControlMessage } from '../../src/moq/ietf/messages.ts';
import { AuthTokenCache } from '../../src/moq/ietf/session/authorization.ts';
import type { SessionContext } from '../../src/moq/ietf/session/context.ts';
import { InboundRequestIds, OutboundRequestIds } from '../../src/moq/ietf/session/request-ids.ts';
import { encodeLegacyFrame } from '../../src/media/hang/container.ts';

/** A WebTransport whose uni streams never finish writing (a subscriber that stopped reading). */
function stalledTransport() {
  const aborted: number[] = [];
  const transport = {
    createUnidirectionalStream: async () =>
      new WritableStream<Uint8Array>({
        // Like a transport out of flow-control credit: the write only ends when the stream is reset.
        write: (_chunk, controller) => new Promise<void>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason))),
        abort: (reason: unknown) => {
          aborted.push((reason as { streamErrorCode?: number }).streamErrorCode ?? -1);
        },
      }),
  } as unknown as WebTransport;
  return { transport, aborted };
}

function fakeContext(transport: WebTransport, sent: ControlMessage[]): SessionContext {
  return {
    version: 'draft-16',
    peer: { version: 'draft-16', implementation: undefined },
    quirks: { dropsTrackExtensions: false },
    data: dataCodec('draft-16'),
    transport,
    origin: new Origin(),
    root: '',
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    tuning: { maxObjectBytes: 1 << 20, largestObjectJoinsGroup: false, aliasWaitMs: 10, catalogProbeMs: 10, maxGroupStreams: 3 },
    budget: new SendBudget(1 << 20),
    ended: new Promise(() => undefined),
    isClosed: () => false,
    send: (message: ControlMessage) => void sent.push(message),
    fail: (error: unknown) => {
      throw error;
    },
  } as unknown as SessionContext;
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe('scheduling (draft-16 §7.2)', () => {
  it('orders by subscriber priority, then publisher priority, then group order', () => {
    expect(dataSendOrder(1, 200, 'ascending', 0)).toBeGreaterThan(dataSendOrder(2, 0, 'descending', 99));
    expect(dataSendOrder(5, 10, 'ascending', 0)).toBeGreaterThan(dataSendOrder(5, 11, 'descending', 99));
    expect(dataSendOrder(5, 10, 'descending', 8)).toBeGreaterThan(dataSendOrder(5, 10, 'descending', 7));
    expect(dataSendOrder(5, 10, 'ascending', 7)).toBeGreaterThan(dataSendOrder(5, 10, 'ascending', 8));
    expect(Number.isSafeInteger(dataSendOrder(0, 0, 'ascending', 2 ** 40))).toBe(true);
  });
});

describe('subscription filters (§5.1.2)', () => {
  const largest = { group: 7, object: 3 };
  it('resolves each filter against Largest Object', () => {
    expect(resolveFilter({ type: 'nextGroupStart' }, largest)).toEqual({ ok: true, range: { start: { group: 8, object: 0 } } });
    expect(resolveFilter({ type: 'largestObject' }, largest)).toEqual({ ok: true, range: { start: { group: 7, object: 4 } } });
    expect(resolveFilter({ type: 'largestObject' }, largest, true)).toEqual({ ok: true, range: { start: { group: 7, object: 0 } } });
    expect(resolveFilter({ type: 'largestObject' }, undefined)).toEqual({ ok: true, range: { start: { group: 0, object: 0 } } });
    expect(resolveFilter(undefined, largest)).toEqual({ ok: true, range: { start: { group: 0, object: 0 } } });
    expect(resolveFilter({ type: 'absoluteRange', start: { group: 7, object: 0 }, endGroup: 9 }, largest)).toEqual({ ok: true, range: { start: { group: 7, object: 0 }, endGroup: 9 } });
    expect(resolveFilter({ type: 'absoluteRange', start: { group: 1, object: 0 }, endGroup: 5 }, largest).ok).toBe(false);
    expect(resolveFilter({ type: 'absoluteRange', start: { group: 9, object: 0 }, endGroup: 8 }, undefined).ok).toBe(false);
  });
});

describe('delivery', () => {
  it('resets a group stream with DELIVERY_TIMEOUT when an object cannot be written in time', async () => {
    const { transport, aborted } = stalledTransport();
    const track = new Track('t');
    const group = track.appendGroup();
    group.writeFrame(Uint8Array.of(1, 2, 3));
    const result = await sendGroup({
      transport,
      data: dataCodec('draft-16'),
      trackAlias: 1,
      group,
      firstObject: 0,
      publisherPriority: 0,
      sendOrder: 0,
      format: passthrough,
      deliveryTimeoutMs: 50,
      cancel: new AbortController().signal,
      budget: new SendBudget(1 << 20),
      onOpen: () => undefined,
    });
    expect(result).toBe('timedOut');
    await tick();
    expect(aborted).toEqual([0x2]);
  });

  function servedOver(order: 'ascending' | 'descending') {
    const { transport, aborted } = stalledTransport();
    const sent: ControlMessage[] = [];
    const track = new Track('video');
    const served = new ServedSubscription(
      fakeContext(transport, sent),
      {
        requestId: 0,
        trackAlias: 0,
        path: 'p',
        trackName: 'video',
        subscription: track.subscribe(),
        range: { start: { group: 0, object: 0 } },
        largestAtStart: undefined,
        largestObjectFilter: false,
        subscriberPriority: 128,
        publisherPriority: 128,
        groupOrder: order,
        forward: true,
        format: async () => passthrough,
      },
      () => undefined,
    );
    void served.run();
    return { track, sent, aborted };
  }

  it('a Descending subscriber that falls behind loses its oldest groups whole', async () => {
    const { track, sent, aborted } = servedOver('descending');
    for (let i = 0; i < 6; i++) {
      track.appendGroup().writeFrame(Uint8Array.of(i));
      await tick(5);
    }
    await tick();
    expect(aborted).toEqual([0x1, 0x1, 0x1]);
    expect(sent).toEqual([]);
  });

  it('an Ascending subscriber that falls behind ends with TOO_FAR_BEHIND', async () => {
    const { track, sent, aborted } = servedOver('ascending');
    for (let i = 0; i < 6; i++) {
      track.appendGroup().writeFrame(Uint8Array.of(i));
      await tick(5);
    }
    await tick(50);
    expect(sent).toEqual([{ type: 'publish_done', requestId: 0, statusCode: 0x6, streamCount: 3n, reason: '3 groups still in flight' }]);
    expect(aborted).toEqual([0x1, 0x1, 0x1]);
  });
});

describe('request IDs (§9.1)', () => {
  it('rejects out-of-order IDs and IDs at or beyond MAX_REQUEST_ID', () => {
    const ids = new InboundRequestIds(4, 4);
    ids.accept(0);
    expect(() => ids.accept(4)).toThrow(expect.objectContaining({ sessionCode: SessionErrorCode.invalidRequestId }));
    ids.accept(2);
    expect(() => ids.accept(4)).toThrow(expect.objectContaining({ sessionCode: SessionErrorCode.tooManyRequests }));
    expect(ids.replenish()).toBe(8);
  });

  it('waits for MAX_REQUEST_ID and reports REQUESTS_BLOCKED once per limit', async () => {
    const ids = new OutboundRequestIds(2);
    const blocked: number[] = [];
    expect(await ids.next((max) => blocked.push(max))).toBe(1);
    const next = ids.next((max) => blocked.push(max));
    await tick(5);
    expect(blocked).toEqual([2]);
    ids.raise(10);
    expect(await next).toBe(3);
    expect(() => ids.raise(10)).toThrow(IetfProtocolError);
  });
});

describe('authorization token aliases (§9.2.1.1)', () => {
  const value = Uint8Array.of(1, 2, 3);
  it('registers, uses and deletes aliases within the cache size', () => {
    const cache = new AuthTokenCache(100);
    expect(cache.resolve([{ aliasType: 'register', alias: 1n, tokenType: 0n, value }]).values).toEqual([value]);
    expect(cache.resolve([{ aliasType: 'useAlias', alias: 1n }]).values).toEqual([value]);
    expect(cache.resolve([{ aliasType: 'useAlias', alias: 2n }]).unknownAlias).toBe(true);
    expect(() => cache.resolve([{ aliasType: 'register', alias: 1n, tokenType: 0n, value }])).toThrow(expect.objectContaining({ sessionCode: SessionErrorCode.duplicateAuthTokenAlias }));
    cache.resolve([{ aliasType: 'delete', alias: 1n }]);
    expect(cache.resolve([{ aliasType: 'useAlias', alias: 1n }]).unknownAlias).toBe(true);
    expect(() => cache.resolve([{ aliasType: 'register', alias: 5n, tokenType: 0n, value: new Uint8Array(200) }])).toThrow(
      expect.objectContaining({ sessionCode: SessionErrorCode.authTokenCacheOverflow }),
    );
  });

  it('uses an oversized CLIENT_SETUP registration once instead of failing (§9.3.2.5)', () => {
    const cache = new AuthTokenCache(0);
    expect(cache.resolve([{ aliasType: 'register', alias: 1n, tokenType: 0n, value }], true).values).toEqual([value]);
    expect(() => cache.resolve([{ aliasType: 'useAlias', alias: 1n }], true)).toThrow(IetfProtocolError);
  });
});

describe('ingest group assembly', () => {
  it('opens a group only at object 0, appends in order, skips repeats, never reopens old groups', () => {
    const track = new Track('t');
    const sub = track.subscribe();
    const groups = new IngestGroups(track);
    expect(groups.acquire(3, 2)).toBeUndefined();
    const head = groups.acquire(3, 0)!;
    expect(head.write(0, Uint8Array.of(0))).toBe(true);
    expect(head.write(1, Uint8Array.of(1))).toBe(true);
    const tail = groups.acquire(3, 1)!;
    expect(tail.write(1, Uint8Array.of(9))).toBe(false);
    expect(tail.write(2, Uint8Array.of(2))).toBe(true);
    head.release(false);
    tail.release(true);
    expect(track.latest?.frames.map((f) => f[0])).toEqual([0, 1, 2]);
    expect(track.latest?.done).toBe(true);
    expect(groups.acquire(2, 0)).toBeUndefined();
    expect(groups.acquire(3, 0)).toBeUndefined();
    sub.close();
  });
});

describe('MSF and LOC conversions', () => {
  const tracks = new Map<string, TrackInfo>([
    ['v', { kind: 'video', codec: 'hvc1.1.6.L93.B0', description: Uint8Array.of(1, 2, 3), codedWidth: 1920, codedHeight: 1080, framerate: 60 }],
    ['a', { kind: 'audio', codec: 'opus', sampleRate: 48_000, numberOfChannels: 1 }],
  ]);

  it('hang catalog → MSF → hang catalog keeps every rendition field hang carries', () => {
    const back = tracksFromMsfCatalog(msfCatalogFromTracks(tracks));
    expect(parseCatalog(encodeCatalog(back))).toEqual(parseCatalog(encodeCatalog(tracks)));
  });

  it('LOC timestamps honour object and track timescales', () => {
    expect(locTimestampUs(locTimestampProperties(1_234_567))).toBe(1_234_567);
    expect(locTimestampUs([{ type: 0x10n, value: 90_000n }], 90_000)).toBe(1_000_000);
    expect(locTimestampUs([{ type: 0x08n, value: 1000n }, { type: 0x10n, value: 5n }], 90_000)).toBe(5000);
    expect(locTimestampUs([{ type: 0x10n, value: 77n }])).toBe(77);
    expect(locTimestampUs([])).toBeUndefined();
  });

  it('legacy → LOC keeps the payload as a view of the relay frame', () => {
    const frame = encodeLegacyFrame(40_000, Uint8Array.of(9, 8, 7));
    const object = legacyToLoc.convert(frame);
    expect([...object.payload]).toEqual([9, 8, 7]);
    expect(object.payload.buffer).toBe(frame.buffer);
    expect(object.extensions).toEqual(locTimestampProperties(40_000));
  });
});
