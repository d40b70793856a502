/**
 * With a certificate configured the gateway serves HTTPS and RTMPS (a second RTMP port), and
 * stops advertising a pinnable dev certificate.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, until } from '../helpers/gateway.ts';
import { haveTools } from '../helpers/tools.ts';
import { createDevCertificate } from '../../src/transport/tls/index.ts';

const tools = haveTools('ffmpeg');
const stops: (() => unknown)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe.skipIf(!tools)('TLS: HTTPS and RTMPS', () => {
  it('serves HTTPS with the configured certificate and accepts an RTMPS publish', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moq-tls-'));
    const material = createDevCertificate({ hosts: ['127.0.0.1', 'localhost'] });
    writeFileSync(join(dir, 'cert.pem'), material.certPem);
    writeFileSync(join(dir, 'key.pem'), material.keyPem);
    const gw = await startGateway({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem'), rtmpsPort: 0 });
    stops.push(gw.stop);
    const base = `https://127.0.0.1:${gw.gateway.ports.http}`;
    expect(await httpsGet(`${base}/healthz`, material.certPem)).toMatchObject({ status: 200 });
    // A real certificate is not pinned by hash: the dev-mode endpoint is gone.
    expect((await httpsGet(`${base}/certificate.sha256`, material.certPem)).status).toBe(404);

    const rtmps = gw.gateway.ports.rtmps;
    expect(rtmps).toBeGreaterThan(0);
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15:duration=10', '-c:v', 'libx264', '-g', '15', '-f', 'flv', `rtmps://127.0.0.1:${rtmps}/live/secure`]);
    stops.push(() => ffmpeg.kill('SIGKILL'));
    await until(() => gw.gateway.origin.get('live/secure')?.getTrack('video') !== undefined, 'RTMPS publish', 15_000);
  });

  it('closes a TLS connection that never finishes its handshake at --handshake-timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moq-tls-'));
    const material = createDevCertificate({ hosts: ['127.0.0.1'] });
    writeFileSync(join(dir, 'cert.pem'), material.certPem);
    writeFileSync(join(dir, 'key.pem'), material.keyPem);
    const gw = await startGateway({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem'), handshakeTimeout: 1000 });
    stops.push(gw.stop);
    // A TCP connection to the HTTPS port that sends half a TLS record header, then nothing:
    // Node's TLS server alone waits 120 s for the handshake.
    const socket = net.connect(gw.gateway.ports.http, '127.0.0.1');
    stops.push(() => socket.destroy());
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    socket.write(Buffer.from([0x16, 0x03, 0x01]));
    await new Promise((resolve, reject) => {
      socket.once('close', resolve);
      setTimeout(() => reject(new Error('not closed within 10 s')), 10_000).unref();
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2500);
    expect(await httpsGet(`https://127.0.0.1:${gw.gateway.ports.http}/healthz`, material.certPem)).toMatchObject({ status: 200 });
  });
});
