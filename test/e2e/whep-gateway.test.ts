/**
 * WHEP playback through the real gateway process: Chromium plays over WHEP a broadcast that
 * Chromium's fake camera publishes over WHIP (H.264 + Opus), and one that ffmpeg publishes
 * over RTMP (H.264 + AAC: the video plays; AAC → Opus is a later slice). Malformed offers get
 * 400/422 with a reason; DELETE on the Location ends the session.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningKey, mintToken } from '../../src/auth/index.ts';
import { WHEP_OFFER } from '../../scripts/fuzz/targets/whep.ts';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { pushTestPattern, startGateway, type GatewayProcess, type TestPatternHandle } from '../helpers/gateway-process.ts';
import { haveTools } from '../helpers/tools.ts';
import { until } from '../helpers/gateway.ts';

interface PlayerState {
  decodedFrames: number;
  width: number;
  /** A coarse signature of the picture (sampled luma), to see it change. */
  signature: string;
  audioPackets: number;
  videoPackets: number;
  connection: string;
}

/** Start a WHEP player in the page (recvonly video + audio, non-trickle offer). */
async function startPlayer(page: Page, endpoint: string): Promise<{ status: number; location: string | null; etag: string | null; text: string }> {
  return page.evaluate(async (url) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    document.body.append(video);
    const stream = new MediaStream();
    pc.ontrack = (event) => {
      stream.addTrack(event.track);
      video.srcObject = stream;
      void video.play().catch(() => undefined);
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
      setTimeout(resolve, 3000);
    });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    const text = await res.text();
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: text });
    (window as unknown as { whep: unknown }).whep = { pc, video };
    return { status: res.status, location: res.headers.get('location'), etag: res.headers.get('etag'), text };
  }, endpoint);
}

async function playerState(page: Page): Promise<PlayerState> {
  return page.evaluate(async () => {
    const { pc, video } = (window as unknown as { whep: { pc: RTCPeerConnection; video: HTMLVideoElement } }).whep;
    let audioPackets = 0;
    let videoPackets = 0;
    (await pc.getStats()).forEach((report: { type: string; kind?: string; packetsReceived?: number }) => {
      if (report.type !== 'inbound-rtp') return;
      if (report.kind === 'audio') audioPackets = report.packetsReceived ?? 0;
      if (report.kind === 'video') videoPackets = report.packetsReceived ?? 0;
    });
    let signature = '';
    if (video.videoWidth > 0) {
      const canvas = document.createElement('canvas');
      canvas.width = 32;
      canvas.height = 24;
      const context = canvas.getContext('2d', { willReadFrequently: true })!;
      context.drawImage(video, 0, 0, 32, 24);
      const pixels = context.getImageData(0, 0, 32, 24).data;
      for (let i = 0; i < pixels.length; i += 4 * 7) signature += (pixels[i]! >> 4).toString(16);
    }
    return {
      decodedFrames: video.getVideoPlaybackQuality().totalVideoFrames,
      width: video.videoWidth,
      signature,
      audioPackets,
      videoPackets,
      connection: pc.connectionState,
    };
  });
}

/** Frames decoded and the picture changing between two samples a second apart. */
async function expectMovingVideo(page: Page): Promise<PlayerState> {
  let first: PlayerState | undefined;
  await until(async () => {
    first = await playerState(page);
    return first.decodedFrames >= 10 && first.signature !== '';
  }, `video frames decoded over WHEP: ${JSON.stringify(first)}`, 20_000);
  let second: PlayerState | undefined;
  await until(async () => {
    second = await playerState(page);
    return second.decodedFrames >= first!.decodedFrames + 10 && second.signature !== first!.signature;
  }, `the picture changes: ${JSON.stringify({ first, second })}`, 10_000);
  return second!;
}

describe.skipIf(!haveTools('chromium', 'ffmpeg'))('WHEP through the gateway', () => {
  let gateway: GatewayProcess | undefined;
  let browser: TestBrowser | undefined;
  let rtmp: TestPatternHandle | undefined;

  beforeAll(async () => {
    gateway = await startGateway();
    browser = await launchBrowser({
      origin: gateway.url,
      extraArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'],
    });
  }, 60_000);

  afterAll(async () => {
    try {
      await rtmp?.stop();
      await browser?.close();
    } finally {
      await gateway?.stop();
    }
  }, 30_000);

  const sessions = async (): Promise<number> => {
    const lines = gateway!.logs().filter((l) => l.includes('whep session'));
    return lines.filter((l) => l.includes('whep session created')).length - lines.filter((l) => l.includes('whep session closed')).length;
  };

  it('plays a WHIP (fake camera) broadcast: video decoded and moving, audio received; DELETE ends it', async () => {
    const broadcast = 'live/whep-whip';
    const publisher = await browser!.newPage();
    await publisher.goto(`${gateway!.url}/publish/${broadcast}`);
    await publisher.selectOption('#codec', 'H264');
    await publisher.click('#start');
    await publisher.waitForSelector('#state[data-state="live"]', { timeout: 20_000 });

    const viewer = await browser!.newPage();
    await viewer.goto(`${gateway!.url}/healthz`);
    const started = await startPlayer(viewer, `${gateway!.url}/whep/${broadcast}`);
    expect(started.status, started.text).toBe(201);
    expect(started.location).toMatch(/^\/whep\/live\/whep-whip\/[0-9a-f-]{36}$/);
    expect(started.etag).toMatch(/^".+"$/);
    const state = await expectMovingVideo(viewer);
    await until(async () => (await playerState(viewer)).audioPackets > 0, 'audio packets received', 10_000);
    expect(state.width).toBeGreaterThan(0);

    const deleted = await fetch(`${gateway!.url}${started.location}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    await until(async () => (await sessions()) === 0, 'the session closed on DELETE', 5000);
    expect((await fetch(`${gateway!.url}${started.location}`, { method: 'DELETE' })).status).toBe(404);
    await viewer.close();
    await publisher.click('#stop');
  }, 90_000);

  it('plays the video of an RTMP (ffmpeg H.264 + AAC) broadcast', async () => {
    const broadcast = 'live/whep-rtmp';
    rtmp = pushTestPattern({ rtmpUrl: gateway!.rtmpUrl(broadcast), extraArgs: ['-bf', '0'] });
    await until(async () => {
      const body = (await (await fetch(`${gateway!.url}/api/broadcasts`)).json()) as { broadcasts: { path: string; tracks: unknown[] }[] };
      return (body.broadcasts.find((b) => b.path === broadcast)?.tracks.length ?? 0) >= 2;
    }, 'the RTMP broadcast is live', 20_000);
    const viewer = await browser!.newPage();
    await viewer.goto(`${gateway!.url}/healthz`);
    const started = await startPlayer(viewer, `${gateway!.url}/whep/${broadcast}`);
    expect(started.status, started.text).toBe(201);
    const state = await expectMovingVideo(viewer);
    expect(state.width).toBe(320);
    await viewer.close();
    await rtmp.stop();
  }, 90_000);

  it('answers malformed and unusable offers with 400/422 and a reason, and OPTIONS with CORS', async () => {
    const post = (body: string, type = 'application/sdp') => fetch(`${gateway!.url}/whep/live/anything`, { method: 'POST', headers: { 'content-type': type }, body });
    const garbage = await post('hello');
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toMatch(/SDP/);
    const sendonly = await post(
      'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n' +
        'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 ' +
        Array.from({ length: 32 }, () => 'AB').join(':') +
        '\r\na=setup:actpass\r\n',
    );
    expect(sendonly.status).toBe(422);
    expect(await sendonly.text()).toMatch(/must receive media/);
    expect((await post('v=0', 'text/plain')).status).toBe(415);
    const preflight = await fetch(`${gateway!.url}/whep/live/anything`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('accept-post')).toBe('application/sdp');
  });
});

describe.skipIf(!haveTools('ffmpeg'))('WHEP with --auth-key', () => {
  const SECRET = 'whep-auth-test-secret-of-at-least-32-bytes';
  let gateway: GatewayProcess | undefined;
  let push: TestPatternHandle | undefined;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moq-whep-auth-'));
    writeFileSync(join(dir, 'key'), SECRET);
    gateway = await startGateway({ args: ['--auth-key-file', join(dir, 'key')] });
    const key = await loadSigningKey(SECRET);
    push = pushTestPattern({ rtmpUrl: gateway.rtmpUrl(`live/guarded?jwt=${await mintToken(key, { root: 'live', put: 'guarded' })}`), noAudio: true });
  }, 60_000);

  afterAll(async () => {
    await push?.stop();
    await gateway?.stop();
  }, 30_000);

  it('needs a Bearer token with the get scope of the broadcast', async () => {
    const key = await loadSigningKey(SECRET);
    const watch = await mintToken(key, { root: 'live', get: 'guarded' });
    const other = await mintToken(key, { root: 'live', get: 'elsewhere' });
    const publishOnly = await mintToken(key, { root: 'live', put: 'guarded' });
    const post = (token?: string) =>
      fetch(`${gateway!.url}/whep/live/guarded`, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: WHEP_OFFER,
      });
    await until(async () => {
      const body = (await (await fetch(`${gateway!.url}/api/broadcasts`, { headers: { authorization: `Bearer ${await mintToken(key, { root: '', put: '', get: '' })}` } })).json()) as { broadcasts: { path: string }[] };
      return body.broadcasts.some((b) => b.path === 'live/guarded');
    }, 'the guarded broadcast is live', 20_000);
    const none = await post();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(other)).status).toBe(403);
    expect((await post(publishOnly)).status).toBe(403);
    const ok = await post(watch);
    expect(ok.status, await ok.clone().text()).toBe(201);
    expect(await ok.text()).toMatch(/a=sendonly/);
    expect((await fetch(`${gateway!.url}${ok.headers.get('location')}`, { method: 'DELETE' })).status).toBe(200);
  }, 60_000);
});

describe.skipIf(!haveTools('ffmpeg'))('WHEP with --workers 2', () => {
  let gateway: GatewayProcess | undefined;
  let push: TestPatternHandle | undefined;

  beforeAll(async () => {
    gateway = await startGateway({ args: ['--workers', '2'] });
    push = pushTestPattern({ rtmpUrl: gateway.rtmpUrl('live/workers'), noAudio: true });
  }, 60_000);

  afterAll(async () => {
    await push?.stop();
    await gateway?.stop();
  }, 30_000);

  it('serves the offer and the session resource on the worker holding the broadcast', async () => {
    await until(async () => {
      const body = (await (await fetch(`${gateway!.url}/api/broadcasts`)).json()) as { broadcasts: { path: string }[] };
      return body.broadcasts.some((b) => b.path === 'live/workers');
    }, 'the broadcast is live', 20_000);
    // Fresh connections land on either worker: every POST and DELETE must find the session.
    for (let i = 0; i < 8; i++) {
      const created = await fetch(`${gateway!.url}/whep/live/workers`, { method: 'POST', headers: { 'content-type': 'application/sdp', connection: 'close' }, body: WHEP_OFFER });
      expect(created.status, await created.clone().text()).toBe(201);
      await created.text();
      const deleted = await fetch(`${gateway!.url}${created.headers.get('location')}`, { method: 'DELETE', headers: { connection: 'close' } });
      expect(deleted.status, `DELETE ${i}`).toBe(200);
    }
  }, 60_000);
});
