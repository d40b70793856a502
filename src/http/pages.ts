import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type http from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HttpError, type HttpServer } from './server.ts';
import type { StructuredLogger } from '../logger.ts';
import { DEFAULT_WEB_DIR, ensureWebBundle, type WebBundle } from './web-bundle.ts';

/**
 * The browser pages: `/` dashboard, `/watch/<broadcast>`, `/publish/<broadcast>` and their
 * bundle under `/assets/`. Pages are small HTML shells; the bundle fills them in.
 */

export interface PagesOptions {
  /** Only `info` and `error` are used: a build reports what it did or why it failed. */
  logger: Pick<StructuredLogger, 'info' | 'error'>;
  /** web/ folder override (tests). */
  webDir?: string;
}

export interface MountedPages {
  /** Settles when the bundle is ready (or failed: the pages then answer 503). */
  ready: Promise<WebBundle | undefined>;
}

export function mountPages(http: HttpServer, opts: PagesOptions): MountedPages {
  // Build in the background: the gateway accepts publishers while the bundle is being made.
  const ready = ensureWebBundle({ logger: opts.logger, webDir: opts.webDir }).catch(() => undefined);

  http.route('/', (req, res, subpath) => {
    // `/` is also the catch-all prefix: anything nobody else routed ends up here.
    if (subpath !== '') throw new HttpError(404, 'not found');
    sendHtml(req, res, dashboardHtml(), { isolated: true });
  });
  http.route('/watch/', (req, res, subpath) => {
    if (trimSlashes(subpath) === '') return redirect(res, '/');
    sendHtml(req, res, watchHtml(trimSlashes(subpath)), { isolated: true });
  });
  // The WHIP publish page (web/publish) reads the broadcast name from the URL itself.
  const publishPage = readFile(join(opts.webDir ?? DEFAULT_WEB_DIR, 'publish', 'index.html'), 'utf8');
  http.route('/publish/', async (req, res) => {
    sendHtml(req, res, await publishPage);
  });
  http.route('/assets/', async (req, res, subpath) => {
    const bundle = await ready;
    if (!bundle) throw new HttpError(503, 'web bundle unavailable (see the gateway log)');
    await sendAsset(req, res, bundle.dir, subpath);
  });
  return { ready };
}

// ---- HTML ----

function page(opts: { title: string; bodyClass?: string; body: string; script?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="dark">
<title>${escapeHtml(opts.title)}</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='6' fill='%23f90'/%3E%3C/svg%3E">
<link rel="stylesheet" href="/assets/style.css">
${opts.script ? `<script type="module" src="/assets/${opts.script}"></script>\n` : ''}</head>
<body${opts.bodyClass ? ` class="${opts.bodyClass}"` : ''}>
${opts.body}
</body>
</html>
`;
}

const topbar = (extra: string) => `<header class="topbar"><a class="brand" href="/">moq-gateway</a>${extra}</header>`;

function dashboardHtml(): string {
  return page({
    title: 'moq-gateway',
    script: 'dashboard.js',
    body: `${topbar('<span class="version" id="version"></span><span class="status" id="status">connecting…</span>')}
<main class="dashboard">
<section class="panel token-panel" id="token-form" hidden></section>
<section class="panel list-panel"><h2>Live broadcasts <span class="count" id="count"></span></h2><ul class="broadcasts" id="broadcasts"></ul><p class="empty" id="empty">No live broadcasts.</p></section>
<section class="panel detail-panel" id="detail"></section>
<section class="panel golive-panel" id="go-live"></section>
</main>`,
  });
}

function watchHtml(broadcast: string): string {
  return page({
    title: `${broadcast} · moq-gateway`,
    bodyClass: 'watch-page',
    script: 'watch.js',
    body: `${topbar(`<span class="watch-name" id="broadcast-name">${escapeHtml(broadcast)}</span>`)}
<main class="stage" id="player"></main>`,
  });
}

/**
 * `isolated`: cross-origin isolation lets the player share its audio ring buffer with the
 * audio worklet (SharedArrayBuffer) instead of copying every chunk through postMessage. Only
 * for pages that load nothing from other origins.
 */
function sendHtml(req: http.IncomingMessage, res: http.ServerResponse, html: string, opts: { isolated?: boolean } = {}): void {
  allowReadOnly(req);
  const body = Buffer.from(html);
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'text/html; charset=utf-8',
    'content-length': body.byteLength,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  };
  if (opts.isolated) {
    headers['cross-origin-opener-policy'] = 'same-origin';
    headers['cross-origin-embedder-policy'] = 'require-corp';
  }
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-length': 0 });
  res.end();
}

// ---- assets ----

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

async function sendAsset(req: http.IncomingMessage, res: http.ServerResponse, dir: string, subpath: string): Promise<void> {
  allowReadOnly(req);
  const path = resolve(dir, `.${sep}${subpath}`);
  const type = CONTENT_TYPES[extname(path)];
  if (!path.startsWith(dir + sep) || type === undefined) throw new HttpError(404, 'not found');

  const encoding = pickEncoding(req.headers['accept-encoding'], type);
  const candidates = encoding ? [{ file: `${path}.${encoding === 'br' ? 'br' : 'gz'}`, encoding }, { file: path }] : [{ file: path }];
  for (const { file, encoding: contentEncoding } of candidates) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) continue;
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}${contentEncoding ? `-${contentEncoding}` : ''}"`;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': type,
      // Chunks carry a content hash in their name; entry files keep theirs and revalidate.
      'cache-control': subpath.startsWith('chunks/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag,
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    };
    if (contentEncoding) headers['content-encoding'] = contentEncoding;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = info.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    await pipeline(createReadStream(file), res);
    return;
  }
  throw new HttpError(404, 'not found');
}

/** Precompressed siblings exist for text assets only. */
function pickEncoding(accept: string | undefined, type: string): 'br' | 'gzip' | undefined {
  if (!accept || !/javascript|css|json|svg/.test(type)) return undefined;
  if (/\bbr\b/.test(accept)) return 'br';
  if (/\bgzip\b/.test(accept)) return 'gzip';
  return undefined;
}

// ---- helpers ----

function allowReadOnly(req: http.IncomingMessage): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
