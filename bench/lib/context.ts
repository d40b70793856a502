/**
 * What every bench section shares: the command line, the results directory, the machine, and
 * the bench's own console (client libraries' logging is silenced; the bench prints progress).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from './machine.ts';
import { round } from './stats.ts';

// @moq/lite logs every control message; the bench prints its own progress.
export const log = console.log.bind(console);
for (const level of ['log', 'debug', 'info', 'warn', 'error'] as const) console[level] = () => undefined;

export const SECTIONS = ['latency', 'fanout', 'ingest', 'hls', 'memory', 'profile'] as const;
export type Section = (typeof SECTIONS)[number];

/** Fan-out series: the gateway over WebSocket and raw QUIC, and the two baselines. */
export const FANOUT_PROTOCOLS = ['ws', 'quic', 'bare-ws', 'nms'] as const;
export type FanoutProtocol = (typeof FANOUT_PROTOCOLS)[number];

const args = process.argv.slice(2).filter((a) => a !== '--');
const { values: argv } = parseArgs({
  args,
  options: {
    only: { type: 'string' },
    soak: { type: 'string' },
    window: { type: 'string' },
    steps: { type: 'string' },
    protocols: { type: 'string' },
    'gateway-workers': { type: 'string' },
    pin: { type: 'boolean' },
    out: { type: 'string' },
    quick: { type: 'boolean' },
    report: { type: 'boolean' },
    help: { type: 'boolean' },
  },
  allowNegative: true,
  strict: true,
});

export const HELP = argv.help ?? false;
export const REPORT_ONLY = argv.report ?? false;
export const QUICK = argv.quick ?? false;
export const WINDOW_S = Number(argv.window ?? (QUICK ? 4 : 10));
export const SOAK_S = Number(argv.soak ?? (QUICK ? 20 : 60));
export const STEPS = (argv.steps ?? (QUICK ? '10,50' : '10,50,100,200,500,1000')).split(',').map(Number).filter((n) => n > 0);
export const ONLY = new Set<Section>(REPORT_ONLY ? [] : ((argv.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()) as Section[]));
for (const s of ONLY) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s} (known: ${SECTIONS.join(', ')})`);
export const RESULTS = argv.out ? resolve(argv.out) : fileURLToPath(new URL('../results/', import.meta.url));
export const PROTOCOLS = new Set((argv.protocols ?? FANOUT_PROTOCOLS.join(',')).split(',').map((s) => s.trim()) as FanoutProtocol[]);
for (const p of PROTOCOLS) if (!FANOUT_PROTOCOLS.includes(p)) throw new Error(`unknown protocol ${p} (known: ${FANOUT_PROTOCOLS.join(', ')})`);
/** Gateway `--workers` values to run the ws/quic series with (1 = today's single process). */
export const GATEWAY_WORKERS = (argv['gateway-workers'] ?? '1').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
/** Pin the server and the load to separate cores with taskset (`--no-pin` turns it off). */
export const PIN = argv.pin ?? true;
/** The profile watches WebSocket viewers unless only QUIC was asked for. */
export const PROFILE_PROTOCOL: 'lite-ws' | 'lite-quic' = !PROTOCOLS.has('ws') && PROTOCOLS.has('quic') ? 'lite-quic' : 'lite-ws';
export const GATEWAY_ARGS = ['--max-sessions-per-ip', '100000'];
export const P99_TARGET_MS = 100;
/** A subscriber gets "full rate" when it received at least this share of the frames sent. */
export const FULL_RATE_SHARE = 0.95;

export const machine = machineInfo();
export const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
if (!HELP) mkdirSync(RESULTS, { recursive: true });

export function writeResult(section: string, data: unknown): void {
  writeFileSync(join(RESULTS, `${section}.json`), `${JSON.stringify({ section, command, machine, finishedAt: new Date().toISOString(), ...(data as object) }, null, 2)}\n`);
}

export function readResult<T>(section: string): T | undefined {
  const file = join(RESULTS, `${section}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

export const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
