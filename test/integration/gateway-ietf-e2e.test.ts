/**
 * The real gateway between IETF moq-transport and moq-lite peers, over QMux WebSocket, with the
 * published clients on both sides (@moq/net 0.3.4 pinned to one draft, @moq/lite 0.2.2):
 *
 * 1. RTMP (ffmpeg) in → IETF subscribers (draft-16 and draft-14) read the MSF catalog and LOC
 *    objects while a moq-lite subscriber reads the same broadcast: payloads are byte-identical to
 *    the hang legacy frames', but for the video key frames, which carry the SPS and PPS in front
 *    (an `avc3` track: LOC "Parameter Sets In Payload"), and each LOC Timestamp equals the legacy
 *    timestamp.
 * 2. IETF publisher (@moq/net: PUBLISH_NAMESPACE + serving SUBSCRIBE) in → moq-lite subscriber:
 *    opaque tracks pass through untouched; an MSF catalog + LOC track becomes catalog.json + legacy
 *    frames with the LOC timestamps.
 * 3. Auth: no token → 401 at the upgrade; a token scoped elsewhere → SUBSCRIBE error; a proper
 *    token (and a publish token) works.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Lite from '@moq/lite';
import { WebSocket } from 'ws';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import type { ApiBroadcast } from '../../src/http/api-types.ts';
import { parseCatalog } from '../../src/media/hang/catalog.ts';
import { decodeLegacyFrame } from '../../src/media/hang/container.ts';
import { LocPropertyType } from '../../src/media/loc/properties.ts';
import { splitLengthPrefixed } from '../../src/media/nal.ts';
import type { IetfVersion } from '../../src/moq/ietf/index.ts';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { connectNet, moqlDraft14FirstObject, type NetConnection, propertyValue, type TappedNetConnection, tappedGroups } from '../helpers/gateway-ietf-net.ts';
import { haveTools } from '../helpers/tools.ts';
type MoqNet = typeof import('@moq/net');
let Net: MoqNet;

const tools = haveTools('ffmpeg');
const SECRET = 'gateway-ietf-e2e-secret-of-at-least-32-bytes';
const litePath = (value: string) => value as Lite.Path.Valid;

let gw: Awaited<ReturnType<typeof startGateway>>;
let authGw: Awaited<ReturnType<typeof startGateway>>;
const children: ChildProcess[] = [];
const liteConnections: Lite.Connection.Established[] = [];
const netConnections: NetConnection[] = [];

beforeAll(async () => {
  for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  Net = await import('@moq/net');
  [gw, authGw] = await Promise.all([startGateway(), startGateway({ authKey: SECRET })]);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const c of liteConnections) c.close();
  for (const c of netConnections) c.close();
  await Promise.all([gw?.stop(), authGw?.stop()]);
});

async function net(url: string, version: IetfVersion): Promise<TappedNetConnection> {
  const tapped = await connectNet(Net, new URL(url), version);
  netConnections.push(tapped.connection);
  return tapped;
}

async function lite(url: string): Promise<Lite.Connection.Established> {
  const connection = await within(Lite.Connection.connect(new URL(url)), 'moq-lite connect');
  liteConnections.push(connection);
  return connection;
}

function ffmpegPush(url: string, seconds: number): Promise<number | null> {
  const child = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-g', '30', '-preset', 'veryfast',
    '-c:a', 'aac', '-b:a', '96k', '-f', 'flv', url,
  ], { stdio: 'ignore' });
  children.push(child);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

interface LegacyFrame {
  timestamp: number;
  payload: Uint8Array;
}

/**
 * moq-lite: every group of the track until `stop`, frames decoded from the hang legacy container
 * (or kept whole when not `legacy`); `groups` fills as frames arrive.
 */
async function collectLite(track: Lite.Track, stop: Promise<unknown>, legacy = true, groups = new Map<number, LegacyFrame[]>()): Promise<Map<number, LegacyFrame[]>> {
  const stopped = stop.then(() => undefined);
  const readers: Promise<void>[] = [];
  for (;;) {
    const group = await Promise.race([track.nextGroupOrdered(), stopped]);
    if (!group) break;
    const frames: LegacyFrame[] = [];
    groups.set(group.sequence, frames);
    readers.push(
      (async () => {
        for (;;) {
          const frame = await Promise.race([group.readFrame(), stopped]);
          if (!frame) return;
          frames.push(legacy ? decodeLegacyFrame(frame) : { timestamp: -1, payload: frame });
        }
      })(),
    );
  }
  await Promise.all(readers);
  return groups;
}

// @moq/net's .d.ts files use extensionless imports that NodeNext cannot resolve (they type as
// any here), so the parts used are spelled out.
interface NetGroup {
  readonly sequence: number;
  readFrame(): Promise<{ payload: Uint8Array } | undefined>;
}
interface NetTrack {
  recvGroup(): Promise<NetGroup | undefined>;
  info(): Promise<unknown>;
  readonly closed: PromiseLike<Error | null>;
}
const subscribeNet = (connection: NetConnection, broadcast: string, track: string): NetTrack => connection.consume(Net.Path.from(broadcast)).subscribe(track) as NetTrack;

/** @moq/net: every group of the subscription until `stop`, as payloads. */
async function collectNet(track: NetTrack, stop: Promise<unknown>): Promise<Map<number, Uint8Array[]>> {
  const groups = new Map<number, Uint8Array[]>();
  const stopped = stop.then(() => undefined);
  const readers: Promise<void>[] = [];
  for (;;) {
    const group = await Promise.race([track.recvGroup(), stopped]);
    if (!group) break;
    const frames: Uint8Array[] = [];
    groups.set(group.sequence, frames);
    readers.push(
      (async () => {
        for (;;) {
          const frame = await Promise.race([group.readFrame(), stopped]);
          if (!frame) return;
          frames.push(frame.payload);
        }
      })(),
    );
  }
  await Promise.all(readers);
  return groups;
}

async function firstFrame(track: NetTrack, what: string): Promise<Uint8Array> {
  const group = await within(track.recvGroup(), `${what} group`);
  const frame = await within(group!.readFrame(), `${what} frame`);
  return frame!.payload;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

interface MsfTrackJson {
  name: string;
  packaging: string;
  role?: string;
  codec?: string;
  width?: number;
  height?: number;
  samplerate?: number;
}

/**
 * NAL types of the length-prefixed units `object` carries in front of `frame` (and nothing else);
 * [] when `object` does not end with `frame`.
 */
function parameterSetsBefore(object: Uint8Array, frame: Uint8Array): number[] {
  const head = object.byteLength - frame.byteLength;
  if (head < 0 || !same(object.subarray(head), frame)) return [];
  return splitLengthPrefixed(object.subarray(0, head), 4).map((nalu) => nalu[0]! & 0x1f);
}

describe.skipIf(!tools)('RTMP in, IETF (draft-18 / draft-16 / draft-14) and moq-lite out of the same gateway', () => {
  it('MSF catalog, LOC objects byte-equal to the moq-lite frames, LOC timestamps = legacy timestamps', async () => {
    const name = 'live/x';
    const pushed = ffmpegPush(`${gw.rtmpUrl}/${name}`, 3);
    await until(() => gw.gateway.origin.get(name)?.getTrack('video') !== undefined && gw.gateway.origin.get(name)?.getTrack('audio') !== undefined, 'RTMP tracks', 15_000);

    const [liteConn, net18, net16, net14] = await Promise.all([lite(`${gw.httpUrl}/`), net(`${gw.httpUrl}/`, 'draft-18'), net(`${gw.httpUrl}/`, 'draft-16'), net(`${gw.httpUrl}/`, 'draft-14')]);
    expect(net18.connection.version).toBe('moq-transport-18');
    expect(net16.connection.version).toBe('moq-transport-16');
    expect(net14.connection.version).toBe('moq-transport-14');

    const stop = pushed.then(() => new Promise((resolve) => setTimeout(resolve, 1500)));
    const liteBroadcast = liteConn.consume(litePath(name));
    const liteVideo = collectLite(liteBroadcast.subscribe('video', 60), stop);
    const liteAudio = collectLite(liteBroadcast.subscribe('audio', 80), stop);

    // A draft-14-only peer on `moql`: the gateway picks draft-14 from CLIENT_SETUP.
    const moqlCatalog = moqlDraft14FirstObject(new URL(`${gw.httpUrl}/`), ['live', 'x'], 'catalog');

    const clients = [
      { version: 'draft-18', tapped: net18 },
      { version: 'draft-16', tapped: net16 },
      { version: 'draft-14', tapped: net14 },
    ] as const;
    const received = await Promise.all(
      clients.map(async ({ version, tapped }) => {
        const catalog = JSON.parse(new TextDecoder().decode(await firstFrame(subscribeNet(tapped.connection, name, 'catalog'), `${version} catalog`))) as { tracks: MsfTrackJson[] };
        const video = catalog.tracks.find((t) => t.role === 'video');
        const audio = catalog.tracks.find((t) => t.role === 'audio');
        expect(video, version).toMatchObject({ packaging: 'loc', width: 320, height: 240 });
        // Parameter sets in band as well as in initDataList: avc3 (LOC "Parameter Sets In Payload").
        expect(video!.codec, version).toMatch(/^avc3\./);
        expect(video, version).not.toHaveProperty('timescale');
        expect(audio, version).toMatchObject({ packaging: 'loc', codec: 'mp4a.40.2', samplerate: 48_000 });
        const [videoGroups, audioGroups] = await Promise.all([
          collectNet(subscribeNet(tapped.connection, name, video!.name), stop),
          collectNet(subscribeNet(tapped.connection, name, audio!.name), stop),
        ]);
        return { version, tapped, videoGroups, audioGroups };
      }),
    );
    expect(await pushed).toBe(0);
    const moql = await moqlCatalog;
    expect(moql.version).toBe(0xff00000e);
    const moqlTracks = (JSON.parse(new TextDecoder().decode(moql.object.payload)) as { tracks: MsfTrackJson[] }).tracks;
    expect(moqlTracks.map((t) => [t.role, t.packaging, t.codec?.replace(/\..*/, '')]).sort()).toEqual([
      ['audio', 'loc', 'mp4a'],
      ['video', 'loc', 'avc3'],
    ]);
    const [liteVideoGroups, liteAudioGroups] = await Promise.all([liteVideo, liteAudio]);
    expect([...liteVideoGroups.values()].flat().length).toBeGreaterThanOrEqual(60);

    for (const { version, tapped, videoGroups, audioGroups } of received) {
      for (const [kind, netGroups, liteGroups] of [
        ['video', videoGroups, liteVideoGroups],
        ['audio', audioGroups, liteAudioGroups],
      ] as const) {
        const what = `${version} ${kind}`;
        const common = [...netGroups.keys()].filter((g) => liteGroups.has(g));
        // ~3 s at -g 30 is 3 video groups; both joined while the first was being written.
        expect(common.length, what).toBeGreaterThanOrEqual(kind === 'video' ? 2 : 1);
        // The alias the gateway gave this track, found through the payload @moq/net saw first.
        const probe = netGroups.get(common[0]!)![0]!;
        const alias = tapped.subgroups.find((s) => s.header.groupId === common[0] && s.objects[0] && same(s.objects[0].payload, probe))?.header.trackAlias;
        expect(alias, what).toBeDefined();
        const wire = tappedGroups(tapped.subgroups, alias!);
        let compared = 0;
        for (const g of common) {
          const netFrames = netGroups.get(g)!;
          const liteFrames = liteGroups.get(g)!;
          const objects = wire.get(g) ?? [];
          expect(netFrames.length, `${what} group ${g}`).toBe(liteFrames.length);
          expect(objects.length, `${what} group ${g} on the wire`).toBe(liteFrames.length);
          liteFrames.forEach((frame, i) => {
            // The key frame opening a video group: SPS + PPS (4-byte lengths, as ffmpeg's avcC) + the frame.
            const inBand = kind === 'video' && i === 0 ? parameterSetsBefore(netFrames[i]!, frame.payload) : [];
            if (kind === 'video' && i === 0) expect(inBand, `${what} group ${g} key frame NAL types in front`).toEqual([7, 8]);
            const expected = inBand.length > 0 ? netFrames[i]! : frame.payload;
            expect(same(netFrames[i]!, expected), `${what} group ${g} object ${i} payload`).toBe(true);
            expect(objects[i]!.objectId).toBe(i);
            expect(same(objects[i]!.payload, expected)).toBe(true);
            expect(propertyValue(objects[i]!, LocPropertyType.timestamp), `${what} group ${g} object ${i} LOC timestamp`).toBe(BigInt(frame.timestamp));
            expect(propertyValue(objects[i]!, LocPropertyType.timescale)).toBe(1_000_000n);
            compared++;
          });
        }
        expect(compared, what).toBeGreaterThanOrEqual(kind === 'video' ? 60 : 90);
      }
    }
  }, 30_000);
});

describe('IETF publisher (@moq/net, draft-16) in, moq-lite out', () => {
  const payload = (seed: number, length: number) => Uint8Array.from({ length }, (_, i) => (seed * 37 + i * 11) & 0xff);
  const frameCount = (groups: Map<number, unknown[]>) => [...groups.values()].reduce((n, frames) => n + frames.length, 0);

  /** A @moq/net broadcast serving `names`; SUBSCRIBEs for other tracks are rejected (@moq/net then stays silent on the wire). */
  function netBroadcast(...names: string[]) {
    const broadcast = new Net.Broadcast.Producer();
    const tracks = names.map((name) => broadcast.createTrack(name));
    void (async () => {
      for (;;) {
        const request = await broadcast.requested();
        if (!request) return;
        request.reject(new Error('no such track'));
      }
    })();
    return { broadcast, tracks };
  }

  it('opaque tracks pass byte-exact; an MSF + LOC track becomes catalog.json + legacy frames', async () => {
    const publisher = await net(`${gw.httpUrl}/`, 'draft-16');
    // No catalog: every object is stored as its payload, untouched.
    const opaque = netBroadcast('data');
    const data = opaque.tracks[0]!;
    // An MSF catalog naming a LOC video track; @moq/net stamps objects in its track timescale
    // (ms, the default), which the catalog declares.
    const msf = netBroadcast('catalog', 'video');
    const [catalog, video] = msf.tracks as [typeof data, typeof data];
    const msfCatalog = {
      version: 1,
      tracks: [{ name: 'video', packaging: 'loc', isLive: true, role: 'video', codec: 'avc1.64001f', width: 640, height: 360, framerate: 30, timescale: 1000 }],
    };
    const catalogGroup = catalog.appendGroup();
    catalogGroup.writeFrame({ payload: new TextEncoder().encode(JSON.stringify(msfCatalog)), timestamp: Net.Time.Timestamp.fromMicros(0) });
    catalogGroup.close();
    publisher.connection.publish(Net.Path.from('ietf/opaque'), opaque.broadcast);
    publisher.connection.publish(Net.Path.from('ietf/msf'), msf.broadcast);
    await until(() => gw.gateway.origin.get('ietf/opaque') !== undefined && gw.gateway.origin.get('ietf/msf') !== undefined, 'PUBLISH_NAMESPACE reached the relay');
    expect(gw.gateway.origin.get('ietf/opaque')?.info.protocol).toBe('moqt-16');

    const viewer = await lite(`${gw.httpUrl}/`);
    const hangCatalogTrack = viewer.consume(litePath('ietf/msf')).subscribe('catalog.json', 100);
    const hangCatalogGroup = await within(hangCatalogTrack.nextGroupOrdered(), 'catalog.json group');
    const hang = parseCatalog((await within(hangCatalogGroup!.readFrame(), 'catalog.json frame'))!);
    expect(hang.get('video')).toMatchObject({ kind: 'video', codec: 'avc1.64001f', codedWidth: 640, codedHeight: 360 });
    // The API names the IETF publisher's tracks from its catalog (none is subscribed yet).
    const listed = (await (await fetch(`${gw.httpUrl}/api/broadcasts/ietf/msf`)).json()) as ApiBroadcast;
    expect(listed.publisher?.protocol).toBe('moqt-16');
    expect(listed.tracks).toEqual([{ name: 'video', kind: 'video', codec: 'avc1.64001f', bitrate: 0, subscribers: 0 }]);

    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const gotOpaque = new Map<number, LegacyFrame[]>();
    const gotVideo = new Map<number, LegacyFrame[]>();
    const collecting = Promise.all([
      collectLite(viewer.consume(litePath('ietf/opaque')).subscribe('data', 50), finished, false, gotOpaque),
      collectLite(viewer.consume(litePath('ietf/msf')).subscribe('video', 60), finished, true, gotVideo),
    ]);
    // Publish once the gateway's upstream SUBSCRIBEs are being served.
    await until(() => data.used.peek() && video.used.peek(), 'gateway subscribed upstream');

    const sentOpaque = new Map<number, Uint8Array[]>();
    const sentVideo = new Map<number, LegacyFrame[]>();
    const sendGroup = (g: number) => {
      const opaqueGroup = data.appendGroup();
      const videoGroup = video.appendGroup();
      const o: Uint8Array[] = [];
      const v: LegacyFrame[] = [];
      for (let i = 0; i < 5; i++) {
        const bytes = payload(g * 10 + i, i === 0 ? 20_000 : 300 + i * 50);
        const ms = 2_000 + (g * 5 + i) * 33;
        opaqueGroup.writeFrame({ payload: bytes, timestamp: Net.Time.Timestamp.fromMillis(ms) });
        videoGroup.writeFrame({ payload: bytes, timestamp: Net.Time.Timestamp.fromMillis(ms) });
        o.push(bytes);
        v.push({ timestamp: ms * 1000, payload: bytes });
      }
      opaqueGroup.close();
      videoGroup.close();
      sentOpaque.set(opaqueGroup.sequence, o);
      sentVideo.set(videoGroup.sequence, v);
    };
    // The catalog-less track's first group waits out the gateway's catalog probe (1.5 s). Groups
    // released together would let the relay skip the older ones (a lagging subscriber jumps to
    // live), so the rest follow once it is through.
    sendGroup(0);
    await until(() => frameCount(gotOpaque) >= 5 && frameCount(gotVideo) >= 5, 'first group at the moq-lite subscriber', 5000);
    for (const g of [1, 2]) {
      sendGroup(g);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await until(() => frameCount(gotOpaque) >= 15 && frameCount(gotVideo) >= 15, 'all frames at the moq-lite subscriber', 5000).catch((e: Error) => {
      throw new Error(`${e.message}: opaque ${frameCount(gotOpaque)}, video ${frameCount(gotVideo)}`);
    });
    finish();
    await collecting;

    expect([...gotOpaque.keys()]).toEqual([...sentOpaque.keys()]);
    for (const [g, frames] of sentOpaque) {
      expect(gotOpaque.get(g)!.map((f) => Buffer.from(f.payload).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));
    }
    expect([...gotVideo.keys()]).toEqual([...sentVideo.keys()]);
    for (const [g, frames] of sentVideo) {
      const got = gotVideo.get(g)!;
      expect(got.map((f) => f.timestamp)).toEqual(frames.map((f) => f.timestamp));
      expect(got.every((f, i) => same(f.payload, frames[i]!.payload))).toBe(true);
    }
  });

  // Regression: when the publisher never answers the catalog SUBSCRIBE (@moq/net 0.3.4 stays
  // silent for a track its broadcast rejects), the probe's timeout must settle the mode once,
  // not make every subgroup stream wait catalogProbeMs (1.5 s) again.
  it('a catalog-less IETF track: only the first group waits for the catalog probe', async () => {
    const publisher = await net(`${gw.httpUrl}/`, 'draft-16');
    const { broadcast, tracks } = netBroadcast('data');
    const data = tracks[0]!;
    publisher.connection.publish(Net.Path.from('ietf/late'), broadcast);
    await until(() => gw.gateway.origin.get('ietf/late') !== undefined, 'PUBLISH_NAMESPACE reached the relay');
    const viewer = await lite(`${gw.httpUrl}/`);
    const track = viewer.consume(litePath('ietf/late')).subscribe('data', 50);
    await until(() => data.used.peek(), 'gateway subscribed upstream');
    const send = (seed: number) => {
      const group = data.appendGroup();
      group.writeFrame({ payload: payload(seed, 100), timestamp: Net.Time.Timestamp.fromMillis(seed) });
      group.close();
    };
    send(1);
    const first = await within(track.nextGroupOrdered(), 'first group (after the catalog probe)', 4000);
    expect(await within(first!.readFrame(), 'first frame')).toBeDefined();
    send(2);
    const second = await within(track.nextGroupOrdered(), 'second group without another probe wait', 700);
    expect(await within(second!.readFrame(), 'second frame', 700)).toBeDefined();
  });
});

describe('auth with IETF sessions', () => {
  async function token(claims: { root: string; put?: string; get?: string }): Promise<string> {
    return mintToken(await loadSigningKey(SECRET), { ...claims, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
  }

  function upgradeStatus(query: string): Promise<number> {
    const ws = new WebSocket(`${authGw.wsUrl}/${query}`, ['qmux-01.moqt-16', 'qmux-00.moqt-16']);
    return new Promise((resolve) => {
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
  }

  it('no token: 401 at the upgrade; a token for another path: SUBSCRIBE error; the right token: objects', async () => {
    expect(await upgradeStatus('')).toBe(401);
    await expect(connectNet(Net, new URL(`${authGw.httpUrl}/`), 'draft-16', 3000)).rejects.toThrow();

    // A publisher whose token may only publish live/auth.
    const publisher = await net(`${authGw.httpUrl}/?jwt=${await token({ root: 'live', put: 'auth' })}`, 'draft-16');
    const broadcast = new Net.Broadcast.Producer();
    const track = broadcast.createTrack('data');
    void (async () => {
      for (;;) {
        const request = await broadcast.requested();
        if (!request) return;
        request.reject(new Error('no such track'));
      }
    })();
    publisher.connection.publish(Net.Path.from('live/auth'), broadcast);
    publisher.connection.publish(Net.Path.from('live/forbidden'), new Net.Broadcast.Producer());
    await until(() => authGw.gateway.origin.get('live/auth') !== undefined, 'authorized PUBLISH_NAMESPACE');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(authGw.gateway.origin.get('live/forbidden')).toBeUndefined();

    const outsider = await net(`${authGw.httpUrl}/?jwt=${await token({ root: 'live', get: 'other' })}`, 'draft-16');
    const refused = subscribeNet(outsider.connection, 'live/auth', 'data');
    const refusal = await within(Promise.resolve(refused.closed), 'SUBSCRIBE error for an out-of-scope token');
    expect(refusal).toBeInstanceOf(Error);
    expect(String(refusal)).toMatch(/SUBSCRIBE error/);

    const viewer = await net(`${authGw.httpUrl}/?jwt=${await token({ root: 'live', get: 'auth' })}`, 'draft-16');
    const subscription = subscribeNet(viewer.connection, 'live/auth', 'data');
    await within(subscription.info(), 'SUBSCRIBE_OK');
    await until(() => track.used.peek(), 'upstream subscription');
    const group = track.appendGroup();
    const payloads = [Uint8Array.of(1, 2, 3), new Uint8Array(5000).fill(9)];
    for (const payload of payloads) group.writeFrame({ payload, timestamp: Net.Time.Timestamp.fromMillis(10) });
    group.close();
    const received = await within(subscription.recvGroup(), 'authorized group');
    const frames: Uint8Array[] = [];
    for (let frame = await within(received!.readFrame(), 'frame'); frame; frame = await within(received!.readFrame(), 'frame')) frames.push(frame.payload);
    expect(frames.map((f) => Buffer.from(f).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
  });
});
