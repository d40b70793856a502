import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HttpServer } from './server.ts';

/** Totals by label set, sampled from the live parts of the gateway at scrape time. */
export type Totals = { labels: Record<string, string>; value: number }[];

export interface MetricsSources {
  sessions: () => Totals;
  broadcasts: () => number;
  ingestFrames: () => Totals;
  ingestBytes: () => Totals;
  egressBytes: () => Totals;
  egressGroups: () => Totals;
  groupsDropped: () => Totals;
  viewersStalled: () => Totals;
  hlsRequests: () => Totals;
  clusterUpstreams: () => number;
}

/**
 * Prometheus metrics at /metrics (prom-client). Counters are read from the sessions' and
 * publishers' own counters when scraped (plus what ended sessions had counted), so the hot
 * path pays nothing for them; only the latency histogram is observed per frame.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  /** Relay arrival → hand-off to a subscriber's transport, per frame. */
  readonly latency: Histogram;

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'moq_gateway_' });
    const gauge = (name: string, help: string, labelNames: string[], read: () => Totals | number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          const value = read();
          if (typeof value === 'number') this.set(value);
          else for (const t of value) this.set(t.labels, t.value);
        },
      });
    const counter = (name: string, help: string, labelNames: string[], read: () => Totals) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const t of read()) if (t.value > 0) this.inc(t.labels, t.value);
        },
      });
    // Under --workers N a scrape sums every worker's registry: this one says how many answered.
    gauge('moq_gateway_processes', 'Gateway processes whose metrics this scrape sums (the workers that answered)', [], () => 1);
    gauge('moq_gateway_sessions', 'Open sessions by protocol and transport', ['protocol', 'transport'], sources.sessions);
    gauge('moq_gateway_broadcasts', 'Live broadcasts held by this node', [], sources.broadcasts);
    gauge('moq_gateway_cluster_upstreams', 'Upstream subscriptions to other cluster nodes', [], sources.clusterUpstreams);
    counter('moq_gateway_ingest_frames_total', 'Frames received from publishers', ['protocol'], sources.ingestFrames);
    counter('moq_gateway_ingest_bytes_total', 'Media bytes received from publishers', ['protocol'], sources.ingestBytes);
    counter('moq_gateway_egress_bytes_total', 'Bytes sent to subscribers', ['protocol'], sources.egressBytes);
    counter('moq_gateway_egress_groups_total', 'Groups sent to subscribers', ['protocol'], sources.egressGroups);
    counter('moq_gateway_groups_dropped_total', 'Groups slow subscribers lost', ['protocol'], sources.groupsDropped);
    counter('moq_gateway_viewers_stalled_total', 'Subscribers closed for taking no bytes past --viewer-stall-timeout', ['protocol'], sources.viewersStalled);
    counter('moq_gateway_hls_requests_total', 'HLS requests served', ['kind'], sources.hlsRequests);
    this.latency = new Histogram({
      name: 'moq_gateway_relay_latency_seconds',
      help: 'Time from a frame arriving in the relay to its hand-off to a subscriber transport',
      labelNames: ['protocol'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
  }

  /** This process's metrics as prom-client JSON, for the worker that sums a scrape. */
  json(): Promise<object> {
    return this.registry.getMetricsAsJSON();
  }

  /**
   * Serves /metrics on `server`. With a token, a scrape needs `Authorization: Bearer <token>`
   * (Prometheus `authorization: { credentials: ... }`); label values carry protocol and
   * transport names only, never a broadcast path, token or stream key.
   */
  mount(server: HttpServer, token = '', others?: () => Promise<unknown[]>): void {
    const expected = Buffer.from(`Bearer ${token}`);
    server.route('/metrics', async (req, res) => {
      if (token !== '' && !sameSecret(req.headers.authorization, expected)) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' });
        res.end('/metrics needs Authorization: Bearer <the --metrics-token>\n');
        return;
      }
      // Test hook (`node --expose-gc`): collect garbage first, so memory gauges show what is
      // retained rather than what the collector has not reached yet.
      if (process.env.MOQ_TEST_GC_BEFORE_METRICS === '1') (globalThis as { gc?: () => void }).gc?.();
      // `others`: the other workers' registries (as JSON), summed with ours by prom-client's rules
      // (counters and gauges add up, version info is the first's).
      const registry = others ? AggregatorRegistry.aggregate([await this.registry.getMetricsAsJSON(), ...(await others())] as object[]) : this.registry;
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' });
      res.end(body);
    });
  }
}

function sameSecret(header: http.IncomingHttpHeaders['authorization'], expected: Buffer): boolean {
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Sums values by label set. */
export function sumBy(entries: Iterable<{ labels: Record<string, string>; value: number }>): Totals {
  const out = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const e of entries) {
    const key = JSON.stringify(e.labels);
    const existing = out.get(key);
    if (existing) existing.value += e.value;
    else out.set(key, { labels: e.labels, value: e.value });
  }
  return [...out.values()];
}
