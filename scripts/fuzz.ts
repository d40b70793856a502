/**
 * `npm run fuzz` — property-based fuzzing of every parser of network bytes (scripts/fuzz/targets.ts).
 *
 *   npx tsx scripts/fuzz.ts [--runs N] [--only name[,name…]] [--seed N] [--memory-mib N]
 *                           [--hang-seconds N] [--json report.json] [--no-shrink] [--list]
 *
 * Runs each target for N cases (default 100 000) of random and mutated inputs up to 4 KiB and
 * prints a table (parser, cases, failures, seconds, and the share of inputs the parser accepted
 * rather than refused with its own error), then every distinct failure with its
 * shrunk counterexample in hex. Exits 1 on any failure, 2 on bad arguments; a hang (no case
 * started for --hang-seconds) prints the stuck input and kills the process.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MEMORY_LIMIT, hex, runTarget, startWatchdog, type TargetResult } from './fuzz/harness.ts';
import { selectTargets, targets } from './fuzz/targets.ts';

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: tsx scripts/fuzz.ts [--runs N] [--only name,…] [--seed N] [--memory-mib N] [--hang-seconds N] [--json file] [--no-shrink] [--list]\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    only: { type: 'string' },
    seed: { type: 'string' },
    'memory-mib': { type: 'string' },
    'hang-seconds': { type: 'string', default: '120' },
    json: { type: 'string' },
    'no-shrink': { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
  },
  strict: true,
});

const integer = (text: string | undefined, name: string): number | undefined => {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) usage(`--${name} must be a non-negative integer`);
  return value;
};

if (values.list) {
  for (const target of targets) out(`${target.name}${target.seeds?.length ? `  (${target.seeds.length} seeds)` : ''}`);
  process.exit(0);
}

const runs = integer(values.runs, 'runs')!;
const seed = integer(values.seed, 'seed');
const memoryLimitBytes = (integer(values['memory-mib'], 'memory-mib') ?? DEFAULT_MEMORY_LIMIT / 2 ** 20) * 2 ** 20;
const hangMs = integer(values['hang-seconds'], 'hang-seconds')! * 1000;
const selected = selectTargets(values.only);
if (selected.length === 0) usage(`no target matches --only ${values.only}; see --list`);

const nameWidth = Math.max(6, ...selected.map((t) => t.name.length));
const row = (name: string, cases: string, failures: string, seconds: string, parsed = ''): string =>
  `${name.padEnd(nameWidth)}  ${cases.padStart(8)}  ${failures.padStart(8)}  ${seconds.padStart(8)}  ${parsed.padStart(7)}`.trimEnd();
/** Share of inputs the parser accepted: how far past its first checks the inputs got. */
const parsedShare = (r: TargetResult): string => `${((100 * (r.cases - r.rejected - r.failures)) / Math.max(1, r.cases)).toFixed(1)}%`;

out(`fuzzing ${selected.length} parsers × ${runs} cases (inputs ≤ 4 KiB, allocation limit ${memoryLimitBytes / 2 ** 20} MiB/case${seed === undefined ? '' : `, seed ${seed}`})`);
out();
out(row('parser', 'cases', 'failures', 'seconds', 'parsed'));
out(row('-'.repeat(nameWidth), '--------', '--------', '--------', '-------'));

const watchdog = startWatchdog(
  selected.map((t) => t.name),
  hangMs,
);
const results: TargetResult[] = [];
const started = performance.now();
for (const [index, target] of selected.entries()) {
  const result = await runTarget(target, {
    runs,
    seed,
    memoryLimitBytes,
    trapEscapes: true,
    shrink: !values['no-shrink'],
    onCase: (bytes) => watchdog.beginCase(index, bytes),
  });
  watchdog.idle();
  results.push(result);
  out(row(result.name, String(result.cases), String(result.failures), result.seconds.toFixed(1), parsedShare(result)));
}
await watchdog.stop();

const totalCases = results.reduce((n, r) => n + r.cases, 0);
const totalFailures = results.reduce((n, r) => n + r.failures, 0);
out(row('-'.repeat(nameWidth), '--------', '--------', '--------', '-------'));
out(row(`total (${results.length} parsers)`, String(totalCases), String(totalFailures), ((performance.now() - started) / 1000).toFixed(1)));

const notes = results.filter((r) => r.notes.length > 0);
if (notes.length > 0) {
  out();
  out('notes:');
  for (const r of notes) for (const note of r.notes) out(`  ${r.name}: ${note}`);
}

/** Hex (cut at 1 KiB), plus the text when the input is mostly printable (JSON, SDP, tokens). */
function preview(bytes: Uint8Array): string {
  const shown = `${hex(bytes.subarray(0, 1024))}${bytes.byteLength > 1024 ? '…' : ''}`;
  const printable = bytes.filter((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09).length;
  if (bytes.byteLength < 8 || printable < bytes.byteLength * 0.9) return shown;
  const text = Buffer.from(bytes).toString('latin1');
  return `${shown}\n    as text: ${JSON.stringify(text.length > 600 ? `${text.slice(0, 600)}…` : text)}`;
}

const failed = results.filter((r) => r.failures > 0);
if (failed.length > 0) {
  out();
  out('FAILURES');
  for (const r of failed) {
    for (const p of r.problems) {
      out();
      out(`${r.name}: ${p.kind} ×${p.count} (seed ${r.seed})`);
      out(`  ${p.message}`);
      if (p.where) out(`  at ${p.where}`);
      const shown = p.shrunk ?? p.input;
      out(`  ${p.shrunk ? 'shrunk input' : 'input'} (${shown.byteLength} bytes): ${preview(shown)}`);
      if (p.shrunk) out(`  original input (${p.input.byteLength} bytes): ${preview(p.input)}`);
      if (p.stack) out(p.stack.split('\n').slice(1, 8).map((l) => `    ${l.trim()}`).join('\n'));
    }
  }
}

if (values.json) {
  const report = results.map((r) => ({
    ...r,
    problems: r.problems.map((p) => ({ ...p, input: hex(p.input), shrunk: p.shrunk ? hex(p.shrunk) : undefined })),
  }));
  writeFileSync(values.json, `${JSON.stringify({ runs, memoryLimitBytes, results: report }, null, 2)}\n`);
}

process.exit(failed.length > 0 ? 1 : 0);
