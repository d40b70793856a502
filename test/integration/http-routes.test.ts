/**
 * docs/openapi.yaml against the HTTP server of a running gateway: every prefix the gateway
 * mounts is documented, every documented path is served by a route of its own (not the
 * catch-all `/`), and every documented GET outside /api/ answers a documented status with the
 * documented media type. test/integration/api.test.ts checks the JSON API in depth.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startGateway } from '../helpers/gateway.ts';

interface Operation {
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type PathItem = Partial<Record<'get' | 'post' | 'patch' | 'delete', Operation>>;

const spec = parseYaml(readFileSync(fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url)), 'utf8')) as { paths: Record<string, PathItem> };
const documented = Object.keys(spec.paths);

/** The route `pathname` reaches: the longest mounted prefix that matches (src/http/server.ts). */
function routeOf(routes: readonly string[], pathname: string): string | undefined {
  return [...routes]
    .sort((a, b) => b.length - a.length)
    .find((prefix) => (prefix.endsWith('/') ? pathname.startsWith(prefix) || pathname === prefix.slice(0, -1) : pathname === prefix));
}

/** A concrete URL path for a template: `{param}` → a sample value. */
const sample = (template: string) => template.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'path' || name === 'broadcast' ? 'live/none' : 'x'));

describe('docs/openapi.yaml covers the HTTP server', () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    gw = await startGateway({ quic: false });
  }, 30_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it('documents every mounted route', () => {
    const routes = gw.gateway.http.routes;
    expect(routes).toEqual(expect.arrayContaining(['/api/', '/access/', '/metrics', '/certificate.sha256', '/whip/', '/hls/', '/healthz', '/']));
    const undocumented = routes.filter((prefix) =>
      prefix === '/' ? !documented.includes('/') : prefix.endsWith('/') ? !documented.some((t) => t.startsWith(prefix)) : !documented.includes(prefix),
    );
    expect(undocumented).toEqual([]);
  });

  it('serves every documented path from a route of its own', () => {
    const routes = gw.gateway.http.routes;
    const unserved = documented.filter((template) => {
      const route = routeOf(routes, sample(template));
      return route === undefined || (route === '/' && template !== '/');
    });
    expect(unserved).toEqual([]);
  });

  it('answers every documented GET outside /api/ with a documented status and media type', async () => {
    let checked = 0;
    for (const [template, item] of Object.entries(spec.paths)) {
      if (!item.get || template.startsWith('/api/')) continue;
      const res = await fetch(`${gw.httpUrl}${sample(template)}`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      const response = item.get.responses[String(res.status)];
      expect(response, `GET ${template} answered ${res.status}, which is not documented`).toBeDefined();
      const mediaTypes = Object.keys(response!.content ?? {});
      if (mediaTypes.length > 0) {
        const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
        expect(mediaTypes, `GET ${template} ${res.status} content-type`).toContain(contentType);
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  }, 60_000);
});
