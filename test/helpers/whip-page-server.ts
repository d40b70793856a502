import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, stop as stopEsbuild } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { createWhipService, type WhipService } from '../../adapters/ingest/whip/index.ts';
import { HttpServer, type RouteHandler } from '../../src/http/server.ts';
import { PublisherRegistry, type PublisherRegistryOptions } from '../../src/media/publishers.ts';
import { Origin } from '../../src/relay/index.ts';

/** Chromium with a fake camera and microphone that may use loopback ICE candidates. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PAGE_DIR = fileURLToPath(new URL('../../web/publish/', import.meta.url));

export interface WhipPageServer {
  origin: Origin;
  whip: WhipService;
  browser: Browser;
  /** `http://127.0.0.1:<port>`: /publish/<broadcast> is the publish page, /whip/ the endpoint. */
  base: string;
  close(): Promise<void>;
}

/**
 * The WHIP service and the /publish page (bundled from web/publish) on loopback, publishing
 * into a fresh relay, plus a Chromium to open the page in.
 */
export async function startWhipPageServer(registryOptions?: PublisherRegistryOptions): Promise<WhipPageServer> {
  const origin = new Origin();
  const registry = new PublisherRegistry(origin, registryOptions);
  const whip = createWhipService({ openPublisher: (path, meta, terminate) => registry.open(path, meta, terminate) });
  const script = (await build({ entryPoints: [`${PAGE_DIR}publish.ts`], bundle: true, write: false, format: 'esm', target: 'chrome120' })).outputFiles[0]!.text;
  const html = await readFile(`${PAGE_DIR}index.html`, 'utf8');
  const http = new HttpServer({ host: '127.0.0.1', port: 0 });
  const serve = (body: string, type: string): RouteHandler => (_req, res) => {
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  };
  http.route('/whip/', (req, res, subpath) => whip.handle(req, res, subpath));
  http.route('/publish/', serve(html, 'text/html; charset=utf-8'));
  http.route('/assets/publish.js', serve(script, 'text/javascript; charset=utf-8'));
  http.route('/assets/style.css', serve('', 'text/css'));
  const base = `http://127.0.0.1:${await http.listen()}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return {
    origin,
    whip,
    browser,
    base,
    close: async () => {
      await browser.close();
      await whip.close();
      await http.close();
      await stopEsbuild(); // its service child process
    },
  };
}
