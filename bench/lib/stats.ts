/**
 * A latency histogram that merges across processes: 0.1 ms buckets below 100 ms, 1 ms buckets to
 * 10 s, one overflow bucket; the exact maximum and sum are kept beside it.
 */
const FINE = 1000; // 0..100 ms in 0.1 ms
const COARSE = 9900; // 100..10000 ms in 1 ms
const SIZE = FINE + COARSE + 1;

export interface HistogramJson {
  counts: Record<string, number>;
  count: number;
  sum: number;
  max: number;
  min: number;
}

export class Histogram {
  readonly counts = new Float64Array(SIZE);
  count = 0;
  sum = 0;
  max = Number.NEGATIVE_INFINITY;
  min = Number.POSITIVE_INFINITY;

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const v = Math.max(0, ms);
    this.counts[bucketOf(v)]! += 1;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  merge(other: Histogram | HistogramJson): void {
    if (other instanceof Histogram) {
      for (let i = 0; i < SIZE; i++) this.counts[i]! += other.counts[i]!;
    } else {
      for (const [k, c] of Object.entries(other.counts)) this.counts[Number(k)]! += c;
    }
    this.count += other.count;
    this.sum += other.sum;
    if (other.count > 0) {
      this.max = Math.max(this.max, other.max);
      this.min = Math.min(this.min, other.min);
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = Number.NEGATIVE_INFINITY;
    this.min = Number.POSITIVE_INFINITY;
  }

  /** The q-quantile (0..1): upper edge of the bucket holding it, capped at the true max. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperEdge(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: round(this.quantile(0.5)),
      p90: round(this.quantile(0.9)),
      p99: round(this.quantile(0.99)),
      max: round(this.count ? this.max : Number.NaN),
      mean: round(this.mean()),
      min: round(this.count ? this.min : Number.NaN),
    };
  }

  /** Sparse JSON (only non-empty buckets). */
  toJSON(): HistogramJson {
    const counts: Record<string, number> = {};
    for (let i = 0; i < SIZE; i++) if (this.counts[i]) counts[i] = this.counts[i]!;
    return { counts, count: this.count, sum: this.sum, max: this.max, min: this.min };
  }

  static fromJSON(json: HistogramJson): Histogram {
    const h = new Histogram();
    h.merge(json);
    return h;
  }

  /** [bucket lower edge ms, count] for non-empty buckets, for charts. */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i]) out.push([lowerEdge(i), this.counts[i]!]);
    return out;
  }
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  min: number;
}

function bucketOf(ms: number): number {
  if (ms < 100) return Math.floor(ms * 10);
  if (ms < 10_000) return FINE + Math.floor(ms - 100);
  return SIZE - 1;
}

function lowerEdge(i: number): number {
  if (i < FINE) return i / 10;
  if (i < FINE + COARSE) return 100 + (i - FINE);
  return 10_000;
}

function upperEdge(i: number): number {
  if (i < FINE) return (i + 1) / 10;
  if (i < FINE + COARSE) return 100 + (i - FINE) + 1;
  return Number.POSITIVE_INFINITY;
}

export function round(v: number, digits = 2): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const d = n * sxx - sx * sx;
  return d === 0 ? 0 : (n * sxy - sx * sy) / d;
}
