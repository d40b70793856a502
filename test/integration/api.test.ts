/**
 * The JSON API (src/http/api.ts) against a live broadcast: ffmpeg pushes H.264 + AAC over RTMP
 * into an in-process gateway, a @moq/lite viewer watches over WebSocket, and the API reports,
 * kicks broadcasts and closes sessions. docs/openapi.yaml is checked against the real answers:
 * every documented GET answers with a documented status and media type, and JSON bodies carry
 * the schema's required fields with the documented types.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import * as Moq from '@moq/lite';
import { startGateway, until, within } from '../helpers/gateway.ts';
import { pushTestPattern, type TestPatternHandle } from '../helpers/gateway-process.ts';
import { haveTools } from '../helpers/tools.ts';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import type { ApiBroadcast, ApiRecording, ApiSession } from '../../src/http/api-types.ts';
import { encodeCatalog } from '../../src/media/hang/catalog.ts';
import { encodeLegacyFrame } from '../../src/media/hang/container.ts';
import type { TrackInfo } from '../../src/media/frame.ts';
const tools = haveTools('ffmpeg');
const path = (value: string) => value as Moq.Path.Valid;

// ---------------------------------------------------------------------------------------------
// The OpenAPI document and a small validator for it (required fields, types, enums, formats).

type Schema = {
  $ref?: string;
  type?: string | string[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  minimum?: number;
  format?: string;
};
interface MediaType {
  schema?: Schema;
}
interface Response {
  $ref?: string;
  description?: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  responses: Record<string, Response>;
}
type PathItem = Partial<Record<'get' | 'delete' | 'post' | 'put' | 'patch', Operation>> & { parameters?: unknown[] };
interface OpenApi {
  openapi: string;
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, Schema>; responses: Record<string, Response>; securitySchemes: Record<string, Record<string, string>> };
  security: Record<string, unknown[]>[];
}

const SPEC_FILE = fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url));
const spec = parseYaml(readFileSync(SPEC_FILE, 'utf8')) as OpenApi;
/** The JSON API's part of the document; the other HTTP resources are checked by http-routes.test.ts. */
const apiPaths = (): [string, PathItem][] => Object.entries(spec.paths).filter(([template]) => template.startsWith('/api/'));

function resolveRef<T>(ref: string): T {
  const parts = ref.replace(/^#\//, '').split('/');
  let node: unknown = spec;
  for (const part of parts) node = (node as Record<string, unknown>)?.[part];
  if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  return node as T;
}

function deref<T extends { $ref?: string }>(node: T): T {
  return node.$ref ? deref(resolveRef<T>(node.$ref)) : node;
}

/** Problems of `value` against `schema`, as `where: what` strings (empty when it conforms). */
function validate(schemaOrRef: Schema, value: unknown, where = '$'): string[] {
  const schema = deref(schemaOrRef);
  const problems: string[] = [];
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const typeOf = (v: unknown): string[] => {
    if (v === null) return ['null'];
    if (Array.isArray(v)) return ['array'];
    if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
    return [typeof v];
  };
  if (types.length > 0 && !typeOf(value).some((t) => types.includes(t))) {
    return [`${where}: expected ${types.join(' | ')}, got ${JSON.stringify(value)}`];
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) problems.push(`${where}: ${value} < ${schema.minimum}`);
  if (schema.format === 'date-time' && (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) || Number.isNaN(Date.parse(value)))) {
    problems.push(`${where}: ${JSON.stringify(value)} is not a date-time`);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (record[key] === undefined) problems.push(`${where}: missing required ${key}`);
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (record[key] !== undefined) problems.push(...validate(sub, record[key], `${where}.${key}`));
    }
  }
  if (Array.isArray(value) && schema.items) for (const [i, item] of value.entries()) problems.push(...validate(schema.items, item, `${where}[${i}]`));
  return problems;
}

/** Every documented operation as `METHOD /path/{template}`. */
function documentedOperations(): string[] {
  return apiPaths().flatMap(([p, item]) =>
    (['get', 'delete', 'post', 'put', 'patch'] as const).filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${p}`),
  );
}

function documentedResponse(method: string, template: string, status: number): Response | undefined {
  const op = spec.paths[template]?.[method.toLowerCase() as 'get'];
  const response = op?.responses[String(status)];
  return response ? deref(response) : undefined;
}

/**
 * Checks a real response against the document: the status is documented for the operation,
 * the content type is the documented one, and a JSON body validates. Returns the body.
 */
async function expectDocumented(res: globalThis.Response, method: string, template: string): Promise<unknown> {
  const documented = documentedResponse(method, template, res.status);
  expect(documented, `${method} ${template} answered ${res.status}, which is not documented`).toBeDefined();
  const mediaTypes = Object.keys(documented!.content ?? {});
  const contentType = res.headers.get('content-type') ?? '';
  const text = await res.text();
  if (mediaTypes.length === 0) return text;
  const mediaType = mediaTypes.find((m) => contentType.split(';')[0]!.trim() === m);
  expect(mediaType, `${method} ${template} ${res.status}: content type ${contentType}, documented ${mediaTypes.join(', ')}`).toBeDefined();
  if (mediaType !== 'application/json') return text;
  const body = JSON.parse(text) as unknown;
  const schema = documented!.content![mediaType!]!.schema;
  if (schema) expect(validate(schema, body), `${method} ${template} ${res.status}`).toEqual([]);
  return body;
}

// ---------------------------------------------------------------------------------------------

describe('docs/openapi.yaml', () => {
  it('is OpenAPI 3.1 with bearer JWT security and resolvable references', () => {
    expect(spec.openapi).toMatch(/^3\.1\./);
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(spec.security.some((s) => 'bearerAuth' in s)).toBe(true);
    // Every $ref anywhere in the document resolves.
    const refs = [...readFileSync(SPEC_FILE, 'utf8').matchAll(/\$ref: '([^']+)'/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(() => resolveRef(ref), ref).not.toThrow();
  });

  it('documents exactly the endpoints src/http/api.ts serves', () => {
    expect(documentedOperations().sort()).toEqual(
      [
        'GET /api/info',
        'GET /api/broadcasts',
        'GET /api/broadcasts/{path}',
        'DELETE /api/broadcasts/{path}',
        'GET /api/sessions',
        'DELETE /api/sessions/{id}',
        'GET /api/cluster',
        'GET /api/recordings',
      ].sort(),
    );
  });

  it('documents errors as text/plain, and 401/403 on every operation', () => {
    for (const [template, item] of apiPaths()) {
      for (const method of ['get', 'delete'] as const) {
        const op = item[method];
        if (!op) continue;
        for (const status of ['401', '403']) expect(op.responses[status], `${method} ${template} ${status}`).toBeDefined();
        for (const [status, response] of Object.entries(op.responses)) {
          const types = Object.keys(deref(response).content ?? {});
          expect(types, `${method} ${template} ${status}`).toEqual(Number(status) >= 400 ? ['text/plain'] : ['application/json']);
        }
      }
    }
  });

  it('has the same fields as the ApiBroadcast and ApiSession types', () => {
    // Records keyed by the TypeScript types: the type checker fails if a field is added or renamed there.
    const broadcastFields: Record<keyof ApiBroadcast, true> = { path: true, tracks: true, publisher: true, viewers: true, startedAt: true, uptimeSeconds: true, worker: true };
    const trackFields: Record<keyof ApiBroadcast['tracks'][number], true> = { name: true, kind: true, codec: true, bitrate: true, subscribers: true };
    const publisherFields: Record<keyof NonNullable<ApiBroadcast['publisher']>, true> = { protocol: true, remoteAddress: true, connected: true };
    const sessionFields: Record<keyof ApiSession, true> = { id: true, protocol: true, transport: true, remoteAddress: true, startedAt: true, worker: true };
    const props = (name: string) => Object.keys(spec.components.schemas[name]!.properties ?? {}).sort();
    expect(props('ApiBroadcast')).toEqual(Object.keys(broadcastFields).sort());
    expect(props('ApiTrack')).toEqual(Object.keys(trackFields).sort());
    expect(props('ApiPublisher')).toEqual(Object.keys(publisherFields).sort());
    expect(props('ApiSession')).toEqual(Object.keys(sessionFields).sort());
    const recordingFields: Record<keyof ApiRecording, true> = { id: true, broadcast: true, startedAt: true, endedAt: true, durationS: true, bytes: true, playlist: true, mp4: true };
    expect(props('ApiRecording')).toEqual(Object.keys(recordingFields).sort());
    expect(spec.components.schemas.ApiRecording!.required!.sort()).toEqual(Object.keys(recordingFields).sort());
    // Optional: `publisher` (undefined for relayed broadcasts, so JSON leaves it out) and `worker` (only under --workers N).
    expect(spec.components.schemas.ApiBroadcast!.required!.sort()).toEqual(Object.keys(broadcastFields).filter((k) => k !== 'publisher' && k !== 'worker').sort());
    expect(spec.components.schemas.ApiSession!.required!.sort()).toEqual(Object.keys(sessionFields).filter((k) => k !== 'worker').sort());
  });

  it('the validator itself catches missing fields and wrong types', () => {
    const schema: Schema = { $ref: '#/components/schemas/ApiSession' };
    const good = { id: 1, protocol: 'moq-lite-04', transport: 'websocket/qmux-02', remoteAddress: '127.0.0.1', startedAt: new Date().toISOString() };
    expect(validate(schema, good)).toEqual([]);
    expect(validate(schema, { ...good, id: '1' })).toEqual(['$.id: expected integer, got "1"']);
    expect(validate(schema, { ...good, startedAt: 'yesterday' })).toEqual(['$.startedAt: "yesterday" is not a date-time']);
    const { transport: _transport, ...missing } = good;
    expect(validate(schema, missing)).toEqual(['$: missing required transport']);
  });
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!tools)('API with a live RTMP broadcast and a MoQ viewer', () => {
  const NAME = 'live/x';
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let ffmpeg: TestPatternHandle;
  const connections: Moq.Connection.Established[] = [];
  let viewer: Moq.Connection.Established;
  let videoTrack: Moq.Track;
  let viewerSessionId: number;

  const api = (p: string, init?: RequestInit) => fetch(`${gw.httpUrl}${p}`, { ...init, signal: AbortSignal.timeout(5000) });
  const getJson = async <T>(p: string): Promise<T> => {
    const res = await api(p);
    expect(res.status, `GET ${p}`).toBe(200);
    return (await res.json()) as T;
  };
  const broadcasts = async () => (await getJson<{ broadcasts: ApiBroadcast[] }>('/api/broadcasts')).broadcasts;
  const sessions = async () => (await getJson<{ sessions: ApiSession[] }>('/api/sessions')).sessions;
  const live = async () => (await broadcasts()).find((b) => b.path === NAME);

  beforeAll(async () => {
    // @moq/lite logs every connection close (even a kick) as a 'fatal error' on console.error.
    for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
    gw = await startGateway();
    ffmpeg = pushTestPattern({ rtmpUrl: `${gw.rtmpUrl}/${NAME}` });
    await until(
      () => gw.gateway.origin.get(NAME)?.getTrack('video') !== undefined && gw.gateway.origin.get(NAME)?.getTrack('audio') !== undefined,
      `${NAME} has video and audio (ffmpeg: ${ffmpeg.stderr()})`,
      20_000,
    );
  });

  afterAll(async () => {
    for (const c of connections) c.close();
    await ffmpeg?.stop();
    await gw?.stop();
  });

  it('GET /api/broadcasts lists the broadcast: codecs, RTMP publisher, no viewers, uptime', async () => {
    // No API look before the broadcast is 1.5 s old: the first look must already know its bitrate.
    await until(() => Date.now() - gw.gateway.origin.get(NAME)!.createdAt > 1500, 'broadcast 1.5 s old', 5000);
    const b = (await live())!;
    // Nobody watches: ingest is measured as it arrives, whoever subscribes.
    expect(b.tracks.find((t) => t.name === 'video')!.bitrate, 'video bitrate at the first look').toBeGreaterThan(0);
    expect(b.tracks.find((t) => t.name === 'audio')!.bitrate, 'audio bitrate at the first look').toBeGreaterThan(0);
    expect(b.tracks.map((t) => t.name).sort()).toEqual(['audio', 'video']);
    const video = b.tracks.find((t) => t.name === 'video')!;
    const audio = b.tracks.find((t) => t.name === 'audio')!;
    expect(video).toMatchObject({ kind: 'video', subscribers: 0 });
    expect(video.codec).toMatch(/^avc1\.[0-9a-f]{6}$/i);
    expect(audio).toMatchObject({ kind: 'audio', codec: 'mp4a.40.2', subscribers: 0 });
    expect(b.publisher).toEqual({ protocol: 'rtmp', remoteAddress: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/), connected: true });
    expect(b.viewers).toBe(0);
    expect(b.uptimeSeconds).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(b.startedAt)).toBeGreaterThanOrEqual(b.uptimeSeconds * 1000 - 1000);
    // Later looks average between looks at least a second apart.
    await until(async () => ((await live())?.tracks.find((t) => t.name === 'video')?.bitrate ?? 0) > 0, 'video bitrate > 0', 5000);

    // The same broadcast by path, with raw or encoded slashes.
    for (const p of [NAME, encodeURIComponent(NAME)]) {
      const one = await getJson<ApiBroadcast>(`/api/broadcasts/${p}`);
      expect(one.path).toBe(NAME);
      expect(one.publisher?.protocol).toBe('rtmp');
    }
  });

  it('counts a @moq/lite viewer subscribed to video (viewers 0 → 1) and lists its session', async () => {
    viewer = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'viewer connect');
    connections.push(viewer);
    videoTrack = viewer.consume(path(NAME)).subscribe('video', 60);
    const group = await within(videoTrack.nextGroupOrdered(), 'first video group', 10_000);
    expect(await within(group!.readFrame(), 'first video frame')).toBeDefined();

    await until(async () => (await live())?.viewers === 1, 'viewers = 1', 5000);
    const b = (await live())!;
    expect(b.tracks.find((t) => t.name === 'video')!.subscribers).toBe(1);
    expect(b.tracks.find((t) => t.name === 'audio')!.subscribers).toBe(0);

    const list = await sessions();
    expect(list).toHaveLength(1);
    const session = list[0]!;
    expect(session).toMatchObject({ remoteAddress: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/), transport: expect.stringMatching(/^websocket\//) });
    expect(session.protocol).not.toBe('');
    expect(Number.isInteger(session.id)).toBe(true);
    expect(Date.now() - Date.parse(session.startedAt)).toBeLessThan(60_000);
    viewerSessionId = session.id;
  });

  it('counts viewers, not subscriptions: one per session, the catalog included', async () => {
    // A second player: catalog and audio (a player between two video subscriptions, or one
    // that listens only). Counted as the largest track's subscribers it was invisible.
    const other = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'second viewer connect');
    try {
      const consumer = other.consume(path(NAME));
      const catalog = consumer.subscribe('catalog.json', 100);
      const audio = consumer.subscribe('audio', 80);
      await within(audio.nextGroupOrdered(), 'audio group');
      await until(async () => (await live())?.viewers === 2, 'viewers = 2 (video one, catalog + audio the other)', 5000);
      // Video as well: still two viewers (not one per track).
      const video = consumer.subscribe('video', 60);
      await within(video.nextGroupOrdered(), 'second viewer video group', 10_000);
      await until(async () => (await live())?.tracks.find((t) => t.name === 'video')?.subscribers === 2, 'video subscribers = 2', 5000);
      expect((await live())!.viewers).toBe(2);
      // Media unsubscribed, catalog held: the player is still there.
      audio.close();
      video.close();
      await until(async () => (await live())?.tracks.find((t) => t.name === 'audio')?.subscribers === 0, 'audio unsubscribed', 5000);
      expect((await live())!.viewers).toBe(2);
      catalog.close();
    } finally {
      other.close();
    }
    await until(async () => (await live())?.viewers === 1, 'back to one viewer', 5000);
    await until(async () => (await sessions()).length === 1, 'second session gone', 5000);
  });

  it('every documented GET answers with its documented status and schema', async () => {
    const values: Record<string, string> = { path: NAME, id: String(viewerSessionId) };
    let checked = 0;
    for (const [template, item] of apiPaths()) {
      if (!item.get) continue;
      const url = template.replace(/\{(\w+)\}/g, (_, name: string) => values[name]!);
      const res = await api(url);
      // Success when the resource exists; a standalone node has no cluster state (documented 404).
      const expected = template === '/api/cluster' ? 404 : Number(Object.keys(item.get.responses).find((s) => s.startsWith('2')));
      expect(res.status, `GET ${url}`).toBe(expected);
      const body = await expectDocumented(res, 'GET', template);
      checked++;
      if (template === '/api/broadcasts') expect((body as { broadcasts: ApiBroadcast[] }).broadcasts).toHaveLength(1);
      if (template === '/api/sessions') expect((body as { sessions: ApiSession[] }).sessions).toHaveLength(1);
      if (template === '/api/info') expect(body).toMatchObject({ httpPort: gw.gateway.ports.http, rtmpPort: gw.gateway.ports.rtmp });
      if (template === '/api/recordings') expect(body).toEqual({ recordings: [] }); // not recording here
    }
    expect(checked).toBe(6);
    // Unknown resources: documented 404s, as text/plain.
    await expectDocumented(await api('/api/broadcasts/live/nope'), 'GET', '/api/broadcasts/{path}');
    await expectDocumented(await api('/api/broadcasts/live/nope', { method: 'DELETE' }), 'DELETE', '/api/broadcasts/{path}');
    await expectDocumented(await api('/api/sessions/999999', { method: 'DELETE' }), 'DELETE', '/api/sessions/{id}');
    for (const p of ['/api/broadcasts/live/nope', '/api/sessions/999999']) expect((await api(p, { method: 'DELETE' })).status).toBe(404);
    const unknown = await api('/api/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('cache-control'), 'errors are not cached either').toBe('no-store');
    // CORS preflight: 204, no auth needed.
    const preflight = await api('/api/broadcasts', { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
  });

  it('DELETE /api/sessions/<id> closes that session only', async () => {
    const before = new Set((await sessions()).map((s) => s.id));
    const victim = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'second connect');
    connections.push(victim);
    await until(async () => (await sessions()).length === before.size + 1, 'second session listed');
    const id = (await sessions()).find((s) => !before.has(s.id))!.id;
    expect(id).not.toBe(viewerSessionId);

    const res = await api(`/api/sessions/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await expectDocumented(res, 'DELETE', '/api/sessions/{id}')).toEqual({ kicked: id });
    await within(victim.closed, 'kicked session closed at the client', 5000);
    await until(async () => !(await sessions()).some((s) => s.id === id), 'kicked session unlisted');
    expect((await sessions()).map((s) => s.id)).toEqual([viewerSessionId]);
    expect((await api(`/api/sessions/${id}`, { method: 'DELETE' })).status).toBe(404);
    // The first viewer still receives video.
    const next = await within(videoTrack.nextGroupOrdered(), 'video continues', 5000);
    expect(next).toBeDefined();
  });

  it('DELETE /api/broadcasts/live/x kicks the publisher: ffmpeg exits, the broadcast is gone, the viewer track ends', async () => {
    let trackError: unknown;
    const trackEnded = (async () => {
      for (;;) {
        const group = await videoTrack.nextGroupOrdered().catch((error: unknown) => {
          trackError = error;
          return undefined;
        });
        if (!group) return Date.now();
      }
    })();

    const res = await api(`/api/broadcasts/${NAME}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await expectDocumented(res, 'DELETE', '/api/broadcasts/{path}')).toEqual({ kicked: NAME });

    await within(trackEnded, 'viewer track ended', 5000);
    expect(trackError, 'the track ends cleanly, without an error').toBeUndefined();
    const code = await within(ffmpeg.exited, 'ffmpeg exits after the kick', 10_000);
    expect(code).not.toBe(0); // its connection was closed under it
    expect((await api(`/api/broadcasts/${NAME}`)).status).toBe(404);
    expect(await broadcasts()).toEqual([]);
    expect(gw.gateway.origin.get(NAME)).toBeUndefined();
    // The viewer's session itself stays open: only the broadcast ended.
    expect((await sessions()).map((s) => s.id)).toEqual([viewerSessionId]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('API with a broadcast published over MoQ (@moq/lite)', () => {
  const NAME = 'live/moq';
  let gw: Awaited<ReturnType<typeof startGateway>>;
  const connections: Moq.Connection.Established[] = [];
  const timers: NodeJS.Timeout[] = [];
  const live = async () => {
    const res = await fetch(`${gw.httpUrl}/api/broadcasts`, { signal: AbortSignal.timeout(5000) });
    return ((await res.json()) as { broadcasts: ApiBroadcast[] }).broadcasts.find((b) => b.path === NAME);
  };

  beforeAll(async () => {
    for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
    gw = await startGateway();
  });
  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    for (const c of connections) c.close();
    await gw?.stop();
  });

  it('lists the catalog\'s tracks (name, kind, codec), their subscribers and what flows', async () => {
    const publisher = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'publisher connect');
    connections.push(publisher);
    const broadcast = new Moq.Broadcast();
    publisher.publish(path(NAME), broadcast);
    const catalog = encodeCatalog(
      new Map<string, TrackInfo>([
        ['video', { kind: 'video', codec: 'avc1.64001f', codedWidth: 320, codedHeight: 240 }],
        ['audio', { kind: 'audio', codec: 'opus', sampleRate: 48000, numberOfChannels: 2 }],
      ]),
    );
    // Serve what the gateway asks for: the catalog once, media as a 30 fps stream of 1 kB frames.
    void (async () => {
      for (;;) {
        const request = await broadcast.requested();
        if (!request) return;
        const { track } = request;
        if (track.name === 'catalog.json') {
          const group = track.appendGroup();
          group.writeFrame(catalog);
          group.close();
          continue;
        }
        let group = track.appendGroup();
        let n = 0;
        timers.push(
          setInterval(() => {
            if (n > 0 && n % 30 === 0) {
              group.close();
              group = track.appendGroup();
            }
            group.writeFrame(encodeLegacyFrame(n++ * 33_333, new Uint8Array(1000)));
          }, 33),
        );
      }
    })();
    await until(() => gw.gateway.origin.get(NAME) !== undefined, 'broadcast announced to the relay');
    expect(gw.gateway.origin.get(NAME)!.tracks(), 'no relay track before anyone subscribes').toEqual([]);

    // The first look already names the tracks (it waits briefly for the catalog).
    const first = (await live())!;
    expect(first.publisher?.protocol).toMatch(/^moq-lite/);
    expect([...first.tracks].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'audio', kind: 'audio', codec: 'opus', bitrate: 0, subscribers: 0 },
      { name: 'video', kind: 'video', codec: 'avc1.64001f', bitrate: 0, subscribers: 0 },
    ]);
    expect(first.viewers, "the API's own catalog subscription is not a viewer").toBe(0);

    // A viewer of video: it flows through the relay, which measures it.
    const viewer = await within(Moq.Connection.connect(new URL(`${gw.httpUrl}/`)), 'viewer connect');
    connections.push(viewer);
    const video = viewer.consume(path(NAME)).subscribe('video', 60);
    await within(video.nextGroupOrdered(), 'a video group', 10_000);
    await until(async () => ((await live())?.tracks.find((t) => t.name === 'video')?.bitrate ?? 0) > 0, 'video bitrate > 0', 5000);
    const watched = (await live())!;
    const videoTrack = watched.tracks.find((t) => t.name === 'video')!;
    expect(videoTrack.subscribers).toBe(1);
    // 30 frames of ~1 kB a second: about 240 kbit/s.
    expect(videoTrack.bitrate).toBeGreaterThan(100_000);
    expect(videoTrack.bitrate).toBeLessThan(500_000);
    expect(watched.tracks.find((t) => t.name === 'audio')).toMatchObject({ codec: 'opus', subscribers: 0, bitrate: 0 });
    expect(watched.viewers).toBe(1);
    const one = (await (await fetch(`${gw.httpUrl}/api/broadcasts/${NAME}`)).json()) as ApiBroadcast;
    expect(one.tracks.map((t) => t.name).sort()).toEqual(['audio', 'video']);
  });
});

describe('API authentication (documented 401/403)', () => {
  const SECRET = 'api-test-secret-that-is-at-least-32-bytes-long';
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let operator: string;
  let viewerOnly: string;

  beforeAll(async () => {
    gw = await startGateway({ authKey: SECRET, rtmpPort: -1 });
    const key = await loadSigningKey(SECRET);
    operator = await mintToken(key, { root: '', put: '', get: '' });
    viewerOnly = await mintToken(key, { root: '', get: '' });
  });
  afterAll(async () => gw?.stop());

  const api = (p: string, init?: RequestInit) => fetch(`${gw.httpUrl}${p}`, { ...init, signal: AbortSignal.timeout(5000) });

  it('refuses without a token (401) and with a narrower token (403), as text/plain', async () => {
    for (const [template, item] of apiPaths()) {
      const url = template.replace('{path}', 'live/x').replace('{id}', '1');
      for (const method of ['GET', 'DELETE'] as const) {
        if (!item[method.toLowerCase() as 'get']) continue;
        const none = await api(url, { method });
        expect(none.status, `${method} ${url}`).toBe(401);
        await expectDocumented(none, method, template);
        const bad = await api(url, { method, headers: { authorization: 'Bearer not.a.jwt' } });
        expect(bad.status, `${method} ${url} bad token`).toBe(401);
        const narrow = await api(url, { method, headers: { authorization: `Bearer ${viewerOnly}` } });
        expect(narrow.status, `${method} ${url}`).toBe(403);
        await expectDocumented(narrow, method, template);
      }
    }
  });

  it('answers an operator token, as Bearer or ?jwt=', async () => {
    const bearer = await api('/api/info', { headers: { authorization: `Bearer ${operator}` } });
    expect(bearer.status).toBe(200);
    const info = await expectDocumented(bearer, 'GET', '/api/info');
    // RTMP is off here: rtmpPort is left out, as documented.
    expect(info).toEqual({ httpPort: gw.gateway.ports.http, version: expect.any(String), udp: { mode: expect.stringMatching(/^(batched|dgram)$/), reason: expect.any(String) }, workers: { count: 1, index: 0 } });
    const query = await api(`/api/broadcasts?jwt=${operator}`);
    expect(query.status).toBe(200);
    expect(await expectDocumented(query, 'GET', '/api/broadcasts')).toEqual({ broadcasts: [] });
    expect((await api('/api/sessions', { method: 'OPTIONS' })).status).toBe(204);
  });
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!tools)('API with --record all', () => {
  const NAME = 'live/rec';
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let ffmpeg: TestPatternHandle;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(joinPath(tmpdir(), 'moq-api-rec-'));
    gw = await startGateway({ record: ['all'], recordDir: dir });
    ffmpeg = pushTestPattern({ rtmpUrl: `${gw.rtmpUrl}/${NAME}` });
  });
  afterAll(async () => {
    await ffmpeg?.stop();
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /api/recordings lists the recording in progress as documented', async () => {
    const list = async () => {
      const res = await fetch(`${gw.httpUrl}/api/recordings`, { signal: AbortSignal.timeout(5000) });
      return (await expectDocumented(res, 'GET', '/api/recordings')) as { recordings: ApiRecording[] };
    };
    await until(async () => ((await list()).recordings[0]?.durationS ?? 0) > 0, 'a recorded segment', 20_000);
    const [recording] = (await list()).recordings;
    expect(recording).toMatchObject({ broadcast: NAME, endedAt: null, mp4: null, playlist: `/recordings/${recording!.id}/index.m3u8` });
    expect(recording!.bytes).toBeGreaterThan(0);
  });
});
