import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Origin } from '../../src/relay/index.ts';
import { createHlsService, type HlsService, type HlsServiceOptions } from '../../adapters/egress/hls/index.ts';

export interface HlsTestServer {
  service: HlsService;
  port: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/**
 * A plain HTTP server on 127.0.0.1 (port 0) mounting the HLS service at /hls/ the way the
 * gateway does (decoded path after the prefix), plus hls.js and any extra static pages.
 */
export async function startHlsTestServer(
  origin: Origin,
  options: Partial<Omit<HlsServiceOptions, 'origin'>> = {},
  pages: Record<string, string> = {},
): Promise<HlsTestServer> {
  const service = createHlsService({ origin, logger: pino({ level: process.env.HLS_TEST_LOG ?? 'silent' }), ...options });
  const require = createRequire(import.meta.url);
  const t0 = Date.now();
  const server = http.createServer((req, res) => {
    if (process.env.HLS_TEST_REQUESTS) {
      const at = Date.now() - t0;
      res.once('finish', () => console.log(`[req] ${at} +${Date.now() - t0 - at}ms ${res.statusCode} ${req.url}`));
    }
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (pathname.startsWith('/hls/')) return service.handle(req, res, pathname.slice('/hls/'.length));
    if (pathname === '/hls.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(readFileSync(require.resolve('hls.js/dist/hls.min.js')));
    }
    const page = pages[pathname];
    if (page !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    service,
    port,
    base: `http://127.0.0.1:${port}`,
    close: async () => {
      service.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
