/**
 * Small hand-written SVG line charts, rendered to PNG by headless Chromium (playwright-core,
 * /usr/bin/chromium). When Chromium is unavailable the SVG is written alone.
 */
import { writeFileSync } from 'node:fs';

export interface Series {
  name: string;
  points: Array<[number, number]>;
  color?: string;
  dashed?: boolean;
}

export interface PanelSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  yLog?: boolean;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Horizontal reference line (e.g. the 100 ms target). */
  hLine?: { y: number; label: string };
  /** Panel width in px (default 620). */
  width?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const DEFAULT_W = 620;
const LEGEND_ROW = 16;
const H = 420;
const M = { left: 70, right: 20, top: 40, bottom: 55 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
      }
    }
    return out;
  }
  const span = max - min || 1;
  const step0 = 10 ** Math.floor(Math.log10(span / 5));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 7) ?? step0 * 10;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

function fmt(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

function panel(spec: PanelSpec, offsetX: number): string {
  const W = spec.width ?? DEFAULT_W;
  const all = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.xLog || x > 0) && (!spec.yLog || y > 0));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let xMin = spec.xMin ?? Math.min(...xs);
  let xMax = spec.xMax ?? Math.max(...xs);
  let yMin = spec.yMin ?? Math.min(0, ...ys);
  let yMax = spec.yMax ?? Math.max(...ys, spec.hLine?.y ?? Number.NEGATIVE_INFINITY) * 1.08;
  if (!Number.isFinite(xMin) || !Number.isFinite(xMax)) [xMin, xMax] = [spec.xLog ? 1 : 0, 10];
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) [yMin, yMax] = [spec.yLog ? 1 : 0, 1];
  if (xMax <= xMin) xMax = xMin + 1;
  if (yMax <= yMin) yMax = yMin + 1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => offsetX + M.left + (spec.xLog ? (Math.log(x) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin)) : (x - xMin) / (xMax - xMin)) * pw;
  const sy = (y: number) => M.top + ph - (spec.yLog ? (Math.log(y) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin)) : (y - yMin) / (yMax - yMin)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${offsetX + W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`);
  for (const t of niceTicks(xMin, xMax, !!spec.xLog)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.top}" y2="${M.top + ph}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${sx(t)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(yMin, yMax, !!spec.yLog)) {
    parts.push(`<line x1="${offsetX + M.left}" x2="${offsetX + M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${offsetX + M.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${offsetX + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${offsetX + M.left + pw / 2}" y="${H - 12}" text-anchor="middle" font-size="12">${esc(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(${offsetX + 16},${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(spec.yLabel)}</text>`);
  if (spec.hLine && spec.hLine.y > yMin && spec.hLine.y < yMax) {
    parts.push(`<line x1="${offsetX + M.left}" x2="${offsetX + M.left + pw}" y1="${sy(spec.hLine.y)}" y2="${sy(spec.hLine.y)}" stroke="#999" stroke-dasharray="6,4"/>`);
    parts.push(`<text x="${offsetX + M.left + pw - 4}" y="${sy(spec.hLine.y) - 4}" text-anchor="end" font-size="11" fill="#666">${esc(spec.hLine.label)}</text>`);
  }
  const clip = `clip${offsetX}`;
  parts.push(`<clipPath id="${clip}"><rect x="${offsetX + M.left}" y="${M.top}" width="${pw}" height="${ph}"/></clipPath>`);
  spec.series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length]!;
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.xLog || x > 0) && (!spec.yLog || y > 0));
    if (pts.length === 0) return;
    const d = pts.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" ${s.dashed ? 'stroke-dasharray="5,3"' : ''} clip-path="url(#${clip})"/>`);
    if (pts.length <= 12) for (const [x, y] of pts) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = H + 8 + i * LEGEND_ROW; // legend under the plot
    parts.push(`<line x1="${offsetX + M.left + 10}" x2="${offsetX + M.left + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2" ${s.dashed ? 'stroke-dasharray="5,3"' : ''}/>`);
    parts.push(`<text x="${offsetX + M.left + 35}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

export function svgChart(panels: PanelSpec[], footnote?: string): string {
  const width = panels.reduce((a, p) => a + (p.width ?? DEFAULT_W), 0);
  const legendRows = Math.max(0, ...panels.map((p) => p.series.length));
  const height = H + 8 + legendRows * LEGEND_ROW + (footnote ? 18 : 0);
  const offsets = panels.map((_, i) => panels.slice(0, i).reduce((a, p) => a + (p.width ?? DEFAULT_W), 0));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panel(p, offsets[i]!)),
    footnote ? `<text x="8" y="${height - 6}" font-size="10" fill="#666">${esc(footnote)}</text>` : '',
    '</svg>',
  ].join('\n');
}

/** Writes `<base>.svg` and, through Chromium, `<base>.png`; returns the files written. */
export async function renderCharts(charts: Array<{ base: string; svg: string }>): Promise<{ files: string[]; note?: string }> {
  const files: string[] = [];
  for (const c of charts) {
    writeFileSync(`${c.base}.svg`, c.svg);
    files.push(`${c.base}.svg`);
  }
  let browser: import('playwright-core').Browser | undefined;
  try {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 });
    const page = await browser.newPage({ deviceScaleFactor: 1.5 });
    for (const c of charts) {
      const m = /width="(\d+)" height="(\d+)"/.exec(c.svg);
      const [w, h] = m ? [Number(m[1]), Number(m[2])] : [800, 600];
      await page.setViewportSize({ width: w, height: h });
      await page.setContent(`<html><body style="margin:0">${c.svg}</body></html>`);
      await page.locator('svg').screenshot({ path: `${c.base}.png` });
      files.push(`${c.base}.png`);
    }
    return { files };
  } catch (error) {
    return { files, note: `PNG rendering skipped (${(error as Error).message.split('\n')[0]}); SVG written` };
  } finally {
    await browser?.close().catch(() => undefined);
  }
}
