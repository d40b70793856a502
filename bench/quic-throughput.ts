/**
 * QUIC / WebTransport throughput and connection setup time on 127.0.0.1.
 *
 *   npx tsx bench/quic-throughput.ts [--mib 256] [--chromium]
 *
 * Node → Node: the client sends `--mib` MiB on one bidirectional stream in 64 KiB writes; the
 * server counts the bytes and answers with the count when the stream ends. Measured over raw
 * QUIC (ALPN moq-lite-04) and WebTransport over HTTP/3. Setup time is the mean of 20 connects
 * (handshake + for WebTransport the CONNECT round trip). With --chromium, the server streams
 * data to a headless Chromium page over a unidirectional WebTransport stream.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectQuic, connectWebTransport, startQuicServer, type WebTransportSession } from '../src/transport/quic/index.ts';
import { createDevCertificate } from '../src/transport/tls/index.ts';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const totalMiB = Number(args[args.indexOf('--mib') + 1]) || 256;
const withChromium = args.includes('--chromium');

async function countingSink(session: WebTransportSession): Promise<void> {
  const streams = session.incomingBidirectionalStreams.getReader();
  for (;;) {
    const { value, done } = await streams.read();
    if (done) return;
    void (async () => {
      let bytes = 0;
      const reader = value.readable.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) bytes += chunk.value.byteLength;
      const writer = value.writable.getWriter();
      await writer.write(new TextEncoder().encode(String(bytes)));
      await writer.close();
    })();
  }
}

const tls = createDevCertificate();
const hashes = [{ algorithm: 'sha-256', value: tls.fingerprintHex }];
const pushTo = new Map<WebTransportSession, number>();
const server = await startQuicServer({
  host: '127.0.0.1',
  port: 0,
  tls,
  onSession: (session, info) => {
    if (info.url.pathname === '/push') {
      void pushToBrowser(session);
      return;
    }
    void countingSink(session).catch(() => {});
  },
});

async function pushToBrowser(session: WebTransportSession): Promise<void> {
  const stream = await session.createUnidirectionalStream();
  const writer = stream.getWriter();
  const chunk = new Uint8Array(64 * 1024).fill(1);
  for (let sent = 0; sent < totalMiB * MiB; sent += chunk.byteLength) {
    await writer.ready;
    void writer.write(chunk);
  }
  await writer.close();
  pushTo.set(session, totalMiB);
}

async function throughput(session: WebTransportSession): Promise<number> {
  const { readable, writable } = await session.createBidirectionalStream();
  const writer = writable.getWriter();
  const chunk = new Uint8Array(64 * 1024).fill(7);
  const start = performance.now();
  for (let sent = 0; sent < totalMiB * MiB; sent += chunk.byteLength) {
    await writer.ready;
    void writer.write(chunk);
  }
  await writer.close();
  const answer = await new Response(readable).text();
  const seconds = (performance.now() - start) / 1000;
  if (Number(answer) !== totalMiB * MiB) throw new Error(`server counted ${answer} bytes`);
  return totalMiB / seconds;
}

async function setupTime(open: () => Promise<WebTransportSession>): Promise<number> {
  const rounds = 20;
  let total = 0;
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const session = await open();
    total += performance.now() - start;
    session.close();
    await session.closed.catch(() => {});
  }
  return total / rounds;
}

const url = `https://127.0.0.1:${server.port}/`;
const openQuic = () => connectQuic(url, { alpn: 'moq-lite-04', serverCertificateHashes: hashes });
const openWebTransport = () => connectWebTransport(url, { protocols: ['moq-lite-04'], serverCertificateHashes: hashes });

for (const [name, open] of [
  ['raw QUIC (moq-lite-04)', openQuic],
  ['WebTransport (h3)', openWebTransport],
] as const) {
  const session = await open();
  const rate = await throughput(session);
  session.close();
  await session.closed.catch(() => {});
  const setup = await setupTime(open);
  console.log(`${name.padEnd(24)} Node→Node ${rate.toFixed(1)} MiB/s (${totalMiB} MiB, 1 stream); setup ${setup.toFixed(1)} ms`);
}

if (withChromium) {
  const { chromium } = await import('playwright-core');
  const page = `<!doctype html><script>
    async function pull(url, hashHex) {
      const value = new Uint8Array(hashHex.match(/../g).map((h) => parseInt(h, 16)));
      const wt = new WebTransport(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value }] });
      await wt.ready;
      const start = performance.now();
      const { value: stream } = await wt.incomingUnidirectionalStreams.getReader().read();
      let bytes = 0;
      const reader = stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
      const ms = performance.now() - start;
      wt.close();
      return { bytes, ms };
    }</script>`;
  const web = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext();
    await context.grantPermissions(['local-network-access']);
    const tab = await context.newPage();
    await tab.goto(`http://127.0.0.1:${(web.address() as AddressInfo).port}/`);
    const result = await tab.evaluate(([target, hash]) => (globalThis as unknown as { pull: (u: string, h: string) => Promise<{ bytes: number; ms: number }> }).pull(target, hash), [
      `${url}push`,
      tls.fingerprintHex,
    ] as const);
    console.log(`${'WebTransport (h3)'.padEnd(24)} Node→Chromium ${(result.bytes / MiB / (result.ms / 1000)).toFixed(1)} MiB/s (${(result.bytes / MiB).toFixed(0)} MiB, 1 uni stream)`);
  } finally {
    await browser.close();
    web.close();
  }
}

await server.close();
