import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWhipService, type WhipService } from '../../adapters/ingest/whip/index.ts';
import { HttpServer } from '../../src/http/server.ts';
import { PublisherRegistry } from '../../src/media/publishers.ts';
import { Origin } from '../../src/relay/index.ts';
import { clientOffer } from '../helpers/whip-offer.ts';

/**
 * The WHIP HTTP surface (RFC 9725) against offers from a second WebRTC implementation (a werift
 * client): statuses, headers, trickle, and cleanup of sessions that never connect.
 */

const ICE_TIMEOUT_MS = 1500;
const TOKEN = 'secret-token';

const udpSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('WHIP service over HTTP', () => {
  let http: HttpServer;
  let whip: WhipService;
  let origin: Origin;
  let base: string;
  let offer: string;

  beforeAll(async () => {
    origin = new Origin();
    const registry = new PublisherRegistry(origin, { reconnectGraceMs: 0 });
    whip = createWhipService({
      openPublisher: (path, meta, terminate) => registry.open(path, meta, terminate),
      iceTimeoutMs: ICE_TIMEOUT_MS,
      iceHosts: ['127.0.0.1'],
      authorize: (path, token) => !path.startsWith('private/') || token === TOKEN,
    });
    http = new HttpServer({ host: '127.0.0.1', port: 0 });
    http.route('/whip/', (req, res, subpath) => whip.handle(req, res, subpath));
    base = `http://127.0.0.1:${await http.listen()}/whip/`;
    offer = await clientOffer();
  });

  afterAll(async () => {
    await whip.close();
    await http.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/sdp', ...headers }, body });

  it('answers CORS preflights on the endpoint', async () => {
    const res = await fetch(`${base}live/a`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(res.headers.get('accept-post')).toBe('application/sdp');
    const get = await fetch(`${base}live/a`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('OPTIONS, POST');
  });

  it('rejects bad requests with clear 4xx statuses', async () => {
    expect((await post('live/a', offer, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('', offer)).status).toBe(400);
    const garbage = await post('live/a', 'this is not SDP');
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toMatch(/not <type>=<value>/);
    expect((await post('live/a', offer.replace(/a=ice-pwd:.*\r\n/g, ''))).status).toBe(400);
    const noCodec = await post('live/a', offer.replace(/H264\/90000/g, 'H265/90000'));
    expect(noCodec.status).toBe(422);
    expect(await noCodec.text()).toMatch(/no supported video codec offered \(offered: H265/);
    const noMedia = await post('live/a', offer.replace(/a=sendonly/g, 'a=inactive'));
    expect(noMedia.status).toBe(422);
    const tooBig = await post('live/a', offer + 'a=x:'.padEnd(70_000, 'y'));
    expect(tooBig.status).toBe(413);
    expect(whip.sessions).toBe(0);
    expect(origin.get('live/a')).toBeUndefined();
  });

  it('asks for a Bearer token where authorize says so', async () => {
    const missing = await post('private/x', offer);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post('private/x', offer, { authorization: 'Bearer wrong' })).status).toBe(403);
    const ok = await post('private/x', offer, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(201);
    expect((await fetch(new URL(ok.headers.get('location')!, base), { method: 'DELETE' })).status).toBe(200);
  });

  it('creates a session: 201, answer, Location, ETag; 409 for a taken name; trickle; DELETE', async () => {
    const res = await post('live/b', offer);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/sdp');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/Location.*ETag/);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/whip\/live\/b\/[0-9a-f-]{36}$/);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const answer = await res.text();
    expect(answer).toMatch(/^v=0\r\n/);
    expect(answer).toMatch(/a=rtpmap:\d+ H264\/90000/);
    expect(answer).not.toMatch(/VP8|PCMU/);
    expect(answer).toMatch(/a=recvonly/);
    const candidates = answer.split('\r\n').filter((l) => l.startsWith('a=candidate'));
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((c) => c.includes(' 127.0.0.1 '))).toBe(true); // iceHosts: loopback only
    expect(whip.sessions).toBe(1);
    expect(origin.get('live/b')).toBeDefined();

    const taken = await post('live/b', offer);
    expect(taken.status).toBe(409);
    expect(await taken.text()).toMatch(/already being published/);

    const session = new URL(location, base).href;
    const preflight = await fetch(session, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('allow')).toBe('OPTIONS, PATCH, DELETE');
    const patch = (body: string, headers: Record<string, string> = {}) =>
      fetch(session, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', ...headers }, body });
    const ufrag = /a=ice-ufrag:(\S+)/.exec(offer)![1]!;
    const pwd = /a=ice-pwd:(\S+)/.exec(offer)![1]!;
    const fragment = `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2122194687 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n`;
    expect((await patch(fragment, { 'content-type': 'application/sdp' })).status).toBe(415);
    expect((await patch(fragment, { 'if-match': '"stale"' })).status).toBe(412);
    expect((await patch(fragment.replace(ufrag, 'zzzz'))).status).toBe(422); // an ICE restart
    expect((await patch(fragment, { 'if-match': '*' })).status).toBe(422);
    expect((await patch('a=candidate:garbage\r\n')).status).toBe(400);
    expect((await patch(fragment, { 'if-match': etag })).status).toBe(204);
    expect((await fetch(session, { method: 'POST', body: '' })).status).toBe(405);

    const deleted = await fetch(session, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(whip.sessions).toBe(0);
    expect(origin.get('live/b')).toBeUndefined();
    expect((await fetch(session, { method: 'DELETE' })).status).toBe(404);
  });

  it('accepts an audio-only offer', async () => {
    const res = await post('live/audio-only', await clientOffer('none'));
    expect(res.status).toBe(201);
    expect(await res.text()).not.toMatch(/m=video/);
    await fetch(new URL(res.headers.get('location')!, base), { method: 'DELETE' });
  });

  it('closes a session that never completes ICE, releasing its sockets and broadcast', async () => {
    await until(() => whip.sessions === 0, 2000);
    const baseline = udpSockets();
    const res = await post('live/never', offer); // the client is already gone: ICE cannot complete
    expect(res.status).toBe(201);
    expect(whip.sessions).toBe(1);
    expect(udpSockets()).toBeGreaterThan(baseline);
    expect(origin.get('live/never')).toBeDefined();
    await new Promise((r) => setTimeout(r, ICE_TIMEOUT_MS - 300));
    expect(whip.sessions).toBe(1); // not before the timeout
    await until(() => whip.sessions === 0, 2000);
    expect(origin.get('live/never')).toBeUndefined();
    await until(() => udpSockets() === baseline, 2000);
    expect((await fetch(new URL(res.headers.get('location')!, base), { method: 'DELETE' })).status).toBe(404);
  });

  it('binds ICE to the configured UDP port range and advertises the public address', async () => {
    const registry = new PublisherRegistry(new Origin(), { reconnectGraceMs: 0 });
    const ranged = createWhipService({
      openPublisher: (path, meta, terminate) => registry.open(path, meta, terminate),
      iceHosts: ['127.0.0.1'],
      publicIp: '203.0.113.9',
      udpPortRange: [47100, 47199],
      iceTimeoutMs: ICE_TIMEOUT_MS,
    });
    const server = new HttpServer({ host: '127.0.0.1', port: 0 });
    server.route('/whip/', (req, res, subpath) => ranged.handle(req, res, subpath));
    const url = `http://127.0.0.1:${await server.listen()}/whip/live/ranged`;
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
      expect(res.status).toBe(201);
      const candidates = (await res.text()).split('\r\n').filter((l) => l.startsWith('a=candidate'));
      const ports = candidates.map((c) => Number(c.split(' ')[5]));
      expect(ports.every((p) => p >= 47100 && p <= 47199)).toBe(true);
      // Loopback is not NATed: the public address only accompanies LAN host candidates.
      expect(candidates.some((c) => c.includes('203.0.113.9'))).toBe(false);
      expect(() => createWhipService({ openPublisher: () => registry.open('x', { protocol: 'whip', remoteAddress: '' }), udpPortRange: [5000, 5000] })).toThrow(/udpPortRange/);
      expect(() => createWhipService({ openPublisher: () => registry.open('x', { protocol: 'whip', remoteAddress: '' }), publicIp: '2001:db8::1' })).toThrow(/publicIp/);
      const unresolvable = createWhipService({ openPublisher: () => registry.open('x', { protocol: 'whip', remoteAddress: '' }), publicIp: 'no-such-host.invalid' });
      await expect(unresolvable.listen()).rejects.toThrow(/no-such-host\.invalid does not resolve/);
      await unresolvable.close();
    } finally {
      await ranged.close();
      await server.close();
    }
  });
});
