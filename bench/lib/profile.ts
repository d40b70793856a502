/** Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeEntry {
  function: string;
  location: string;
  selfMs: number;
  percent: number;
}

/**
 * Self time per function. `window` (ms since the profile started, i.e. since the process started)
 * keeps only samples inside it, e.g. to leave out start-up (tsx compiling TypeScript).
 */
export function topSelfTime(file: string, root: string, top = 5, window: { fromMs?: number; toMs?: number } = {}): { total: number; entries: SelfTimeEntry[]; idleMs: number; gcMs: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const fromUs = (window.fromMs ?? 0) * 1000;
  const toUs = (window.toMs ?? Number.POSITIVE_INFINITY) * 1000;
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i]!;
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const grouped = new Map<string, { fn: string; loc: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  let gcUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    totalUs += us;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    if (functionName === '(garbage collector)') gcUs += us;
    const path = url.startsWith('file://') ? relative(root, new URL(url).pathname) : url;
    const loc = path ? `${path}:${lineNumber + 1}` : '';
    const fn = functionName || '(anonymous)';
    const key = `${fn}@${loc}`;
    const entry = grouped.get(key) ?? { fn, loc, us: 0 };
    entry.us += us;
    grouped.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const entries = [...grouped.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ function: e.fn, location: e.loc, selfMs: Math.round(e.us / 1000), percent: Math.round((1000 * e.us) / Math.max(1, busyUs)) / 10 }));
  return { total: Math.round(busyUs / 1000), entries, idleMs: Math.round(idleUs / 1000), gcMs: Math.round(gcUs / 1000) };
}
