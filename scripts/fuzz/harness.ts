/**
 * The fuzz harness behind `npm run fuzz` and test/unit/fuzz-targets.test.ts.
 *
 * Every target gets inputs of up to 4 KiB: random bytes (fast-check, sized from a few bytes to
 * the whole 4 KiB) and mutations of the target's seeds (real records with bytes overwritten,
 * inserted, deleted, duplicated, spliced from another seed, or cut short), so the parser is hit
 * both at its first checks and deep inside valid structures. A case fails when the parser
 *
 * - throws anything its `allowed` predicate rejects (a TypeError, RangeError, a foreign error…),
 * - grows the V8 heap or external (ArrayBuffer) memory by more than the allocation limit
 *   (default 64 MiB) — a length field trusted before the bytes arrived,
 * - (async targets) does not settle within the case timeout, or
 * - lets an exception or rejection escape to the process (uncaught / unhandled).
 *
 * The main run counts failing cases instead of stopping at the first, groups them by signature
 * (kind, error class, message shape, throwing frame), and then has fast-check shrink the first
 * input of each group to a minimal counterexample.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { hex, macrotask } from './bytes.ts';

export interface FuzzTarget {
  /** Unique, stable name (`--only` selects by it). */
  name: string;
  /**
   * Parses one input the way the gateway parses peer bytes. An async target returns a promise
   * for every input (write it as an `async` function): the harness probes once to tell.
   */
  run(bytes: Uint8Array): void | Promise<void>;
  /** Errors the parser may throw on bad input: its own error class(es), nothing else. */
  allowed(error: unknown): boolean;
  /** Valid records to mutate, so inputs get past the first checks. */
  seeds?: Uint8Array[];
  /**
   * Structure-aware inputs (e.g. JSON of the right shape, SDP with lines edited) for parsers
   * whose byte-level mutations mostly break the syntax before the interesting code.
   */
  generators?: fc.Arbitrary<Uint8Array>[];
  /** One-time preparation (keys, native bindings) before the first case. */
  setup?(): Promise<void>;
  /** Extra observations for the report (e.g. how a session ended), reset per run. */
  notes?(): string[];
}

export type ProblemKind = 'exception' | 'allocation' | 'timeout' | 'escaped';

export interface Problem {
  kind: ProblemKind;
  signature: string;
  /** Error class and message (or what the guard saw). */
  message: string;
  /** First stack frames pointing into our code or a dependency. */
  where: string | undefined;
  stack: string | undefined;
  /** First input that produced this signature. */
  input: Uint8Array;
  /** The same input after shrinking, when fast-check could reproduce it. */
  shrunk?: Uint8Array;
  count: number;
}

export interface TargetResult {
  name: string;
  cases: number;
  failures: number;
  /** Cases the parser refused with one of its own errors (the rest parsed, or failed). */
  rejected: number;
  seconds: number;
  problems: Problem[];
  notes: string[];
  seed: number;
}

export interface RunOptions {
  runs: number;
  /** fast-check seed; random when omitted (printed in the report so a run can be replayed). */
  seed?: number;
  /** Allowed growth of heap or external memory in one case (default 64 MiB). */
  memoryLimitBytes?: number;
  /** Async cases that take longer fail as 'timeout'. */
  caseTimeoutMs?: number;
  /** Shrink each distinct failure (default true). */
  shrink?: boolean;
  /** Largest input (default 4096). */
  maxLength?: number;
  /** Silence console.* while the target runs (parsers of dependencies print). Default true. */
  quiet?: boolean;
  /** Collect uncaught exceptions / unhandled rejections as failures (CLI); vitest reports its own. */
  trapEscapes?: boolean;
  /** Called before every case (the hang watchdog records the input). */
  onCase?: (bytes: Uint8Array) => void;
}

export const DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_CASE_TIMEOUT_MS = 10_000;
export const MAX_INPUT = 4096;
/** Time budget for shrinking one failure. */
const SHRINK_TIME_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Inputs

/** Byte values that sit on varint, sign and length-prefix boundaries. */
const INTERESTING_BYTES = [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xfe, 0xff];
/** Multi-byte values for length fields: 2- and 4-byte extremes. */
const INTERESTING_WORDS: [number, number][] = [
  [0xffff, 2],
  [0x8000, 2],
  [0x7fff, 2],
  [0x4000, 2],
  [0xffffffff, 4],
  [0x7fffffff, 4],
  [0x80000000, 4],
  [0x00010000, 4],
  [0x00ffffff, 4],
];

type Edit =
  | { op: 'set'; at: number; value: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; length: number; to: number }
  | { op: 'splice'; at: number; seed: number; from: number; length: number }
  | { op: 'word'; at: number; word: number };

const position = fc.nat();
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), at: position, value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...INTERESTING_BYTES)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 32 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 256 }), to: position }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), at: position, seed: fc.nat(), from: position, length: fc.integer({ min: 1, max: 256 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('word' as const), at: position, word: fc.nat(INTERESTING_WORDS.length - 1) }) },
);

/** Applies edits to a copy of `seed` (positions wrap around the current length). */
export function applyEdits(seed: Uint8Array, edits: readonly Edit[], seeds: readonly Uint8Array[], maxLength = MAX_INPUT): Uint8Array {
  let bytes = seed.slice();
  const splice = (at: number, remove: number, insert: Uint8Array): void => {
    const out = new Uint8Array(bytes.byteLength - remove + insert.byteLength);
    out.set(bytes.subarray(0, at), 0);
    out.set(insert, at);
    out.set(bytes.subarray(at + remove), at + insert.byteLength);
    bytes = out;
  };
  for (const e of edits) {
    const n = bytes.byteLength;
    switch (e.op) {
      case 'set':
        if (n > 0) bytes[e.at % n] = e.value;
        break;
      case 'flip':
        if (n > 0) bytes[e.at % n]! ^= 1 << e.bit;
        break;
      case 'insert':
        splice(e.at % (n + 1), 0, e.bytes);
        break;
      case 'delete':
        if (n > 0) {
          const at = e.at % n;
          splice(at, Math.min(e.length, n - at), new Uint8Array(0));
        }
        break;
      case 'truncate':
        bytes = bytes.slice(0, e.at % (n + 1));
        break;
      case 'duplicate':
        if (n > 0) {
          const at = e.at % n;
          splice(e.to % (n + 1), 0, bytes.slice(at, at + e.length));
        }
        break;
      case 'splice': {
        const other = seeds[e.seed % seeds.length]!;
        if (other.byteLength > 0) {
          const from = e.from % other.byteLength;
          splice(e.at % (n + 1), 0, other.slice(from, from + e.length));
        }
        break;
      }
      case 'word': {
        const [value, size] = INTERESTING_WORDS[e.word]!;
        if (n >= size) {
          const at = e.at % (n - size + 1);
          for (let i = 0; i < size; i++) bytes[at + i] = (value >>> (8 * (size - 1 - i))) & 0xff;
        }
        break;
      }
    }
    if (bytes.byteLength > maxLength) bytes = bytes.slice(0, maxLength);
  }
  return bytes;
}

/**
 * Random bytes of every size up to `maxLength`, plus (when there are seeds) mutated seeds and
 * (when the target has them) structure-aware inputs.
 */
export function inputArbitrary(seeds: readonly Uint8Array[] = [], maxLength = MAX_INPUT, generators: readonly fc.Arbitrary<Uint8Array>[] = []): fc.Arbitrary<Uint8Array> {
  // fast-check 4 keeps arrays short unless asked: mix the size hints so most inputs are small
  // (cheap, and where most decoders' edge cases are) while some fill the whole 4 KiB.
  const random = fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength, size: 'small' }) },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength, size: 'medium' }) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength, size: 'large' }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength, size: 'max' }) },
  );
  const sources: fc.WeightedArbitrary<Uint8Array>[] = [{ weight: 2, arbitrary: random }];
  const usable = seeds.filter((s) => s.byteLength <= maxLength);
  if (usable.length > 0) {
    const mutated = fc
      .tuple(fc.nat(usable.length - 1), fc.array(edit, { maxLength: 8 }))
      .map(([index, edits]) => applyEdits(usable[index]!, edits, usable, maxLength));
    sources.push({ weight: 3, arbitrary: mutated });
  }
  if (generators.length > 0) {
    sources.push({ weight: 3, arbitrary: fc.oneof(...generators).map((bytes) => (bytes.byteLength > maxLength ? bytes.slice(0, maxLength) : bytes)) });
  }
  return fc.oneof(...sources);
}

// ---------------------------------------------------------------------------------------------
// One case

interface Memory {
  heap: number;
  external: number;
}

const memory = (): Memory => {
  const stats = v8.getHeapStatistics();
  return { heap: stats.used_heap_size, external: stats.external_memory };
};

/**
 * Growth over a case. Heap and external (ArrayBuffer) memory are measured apart: a large buffer
 * can trigger a GC that frees earlier garbage from the other one, and a sum would hide it.
 */
const growth = (before: Memory): number => {
  const now = memory();
  return Math.max(now.heap - before.heap, now.external - before.external, now.heap + now.external - before.heap - before.external);
};

class CaseTimeout extends Error {
  override name = 'CaseTimeout';
}

/** Errors that reached the process (uncaught exceptions, unhandled rejections), in order. */
const escapes: unknown[] = [];
let trapping = 0;
const onEscape = (error: unknown): void => {
  escapes.push(error);
};

function trapEscapes(): () => void {
  if (trapping++ === 0) {
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
  }
  return () => {
    if (--trapping === 0) {
      process.off('uncaughtException', onEscape);
      process.off('unhandledRejection', onEscape);
    }
  };
}

type Outcome = Omit<Problem, 'input' | 'count' | 'shrunk'> | undefined;

interface CaseLimits {
  memoryLimitBytes: number;
  caseTimeoutMs: number;
}

/** Frames of the code under test: ours or a dependency's, not the harness or fast-check. */
const CODE_UNDER_TEST = /\/(src|adapters)\/|\/node_modules\//;
const HARNESS = /\/node_modules\/fast-check\/|\/scripts\/fuzz\/harness\.ts|node:internal|<anonymous>/;

function describeError(error: unknown): { message: string; where: string | undefined; stack: string | undefined; name: string } {
  if (error instanceof Error) {
    const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ') && !HARNESS.test(line));
    const frame = frames.find((line) => CODE_UNDER_TEST.test(line)) ?? frames[0];
    const where = frame?.trim().replace(/^at /, '').replace(/^.*?\((.*)\)$/, '$1').replace(/^file:\/\//, '');
    return { message: `${error.name}: ${error.message}`, where, stack: error.stack, name: error.name };
  }
  return { message: `non-Error thrown: ${String(error)}`, where: undefined, stack: undefined, name: typeof error };
}

/** Message with numbers and quoted values blanked, so one bug is one signature. */
const shape = (message: string): string =>
  message
    .replace(/0x[0-9a-f]+/gi, 'N')
    .replace(/-?(\d+(\.\d+)?(e[-+]?\d+)?|Infinity)|NaN/gi, 'N')
    .replace(/"[^"]*"/g, '"…"')
    .slice(0, 160);

function problemFrom(kind: ProblemKind, error: unknown): NonNullable<Outcome> {
  const { message, where, stack, name } = describeError(error);
  return { kind, message, where, stack, signature: `${kind}|${name}|${shape(message)}|${where?.replace(/:\d+$/, '') ?? ''}` };
}

function memoryProblem(grown: number, limit: number): NonNullable<Outcome> {
  return {
    kind: 'allocation',
    message: `heap or external memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB in one case (limit ${(limit / 2 ** 20).toFixed(0)} MiB)`,
    where: undefined,
    stack: undefined,
    signature: 'allocation',
  };
}

/** Cases the parser refused with an allowed error (how many inputs it got past its checks). */
let rejections = 0;

function judge(target: FuzzTarget, error: unknown, before: Memory, limits: CaseLimits): Outcome {
  if (error instanceof CaseTimeout) return { kind: 'timeout', message: error.message, where: undefined, stack: undefined, signature: 'timeout' };
  if (!target.allowed(error)) return problemFrom('exception', error);
  rejections++;
  return afterCase(before, limits);
}

function afterCase(before: Memory, limits: CaseLimits): Outcome {
  const grown = growth(before);
  return grown > limits.memoryLimitBytes ? memoryProblem(grown, limits.memoryLimitBytes) : undefined;
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaseTimeout(`case did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function drainEscapes(): Outcome {
  if (escapes.length === 0) return undefined;
  const [first] = escapes.splice(0);
  return problemFrom('escaped', first);
}

/** Runs one input through the target: an outcome for sync targets, a promise for async ones. */
export function executeCase(target: FuzzTarget, bytes: Uint8Array, limits: CaseLimits): Outcome | Promise<Outcome> {
  const before = memory();
  let result: void | Promise<void>;
  try {
    result = target.run(bytes);
  } catch (error) {
    return judge(target, error, before, limits);
  }
  if (!(result instanceof Promise)) return afterCase(before, limits);
  return withTimeout(result, limits.caseTimeoutMs).then(
    async () => {
      const outcome = afterCase(before, limits);
      await macrotask(); // let unhandled rejections surface while this input is still current
      return outcome ?? drainEscapes();
    },
    async (error: unknown) => {
      const outcome = judge(target, error, before, limits);
      await macrotask();
      return outcome ?? drainEscapes();
    },
  );
}

// ---------------------------------------------------------------------------------------------
// A whole target

const noop = (): void => {};
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export function silenceConsole(): () => void {
  const saved = CONSOLE_METHODS.map((m) => console[m]);
  for (const m of CONSOLE_METHODS) console[m] = noop;
  return () => {
    for (const [i, m] of CONSOLE_METHODS.entries()) console[m] = saved[i]!;
  };
}

/** Probes with an empty input: async targets return a promise whatever the input. */
async function isAsyncTarget(target: FuzzTarget): Promise<boolean> {
  let result: unknown;
  try {
    result = target.run(new Uint8Array(0));
  } catch {
    return false;
  }
  if (!(result instanceof Promise)) return false;
  await result.catch(noop);
  return true;
}

/** fast-check reports a property that threw; ours never throws unless the harness itself broke. */
function checkHarness<T>(details: fc.RunDetails<T>): void {
  if (details.failed) throw new Error(`fuzz harness failed: ${String(details.errorInstance ?? 'property returned false')}`, { cause: details.errorInstance });
}

export async function runTarget(target: FuzzTarget, options: RunOptions): Promise<TargetResult> {
  const limits: CaseLimits = { memoryLimitBytes: options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT, caseTimeoutMs: options.caseTimeoutMs ?? DEFAULT_CASE_TIMEOUT_MS };
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;
  const restoreConsole = options.quiet === false ? noop : silenceConsole();
  const untrap = options.trapEscapes ? trapEscapes() : noop;
  const problems = new Map<string, Problem>();
  let cases = 0;
  let failures = 0;
  const started = performance.now();
  try {
    await target.setup?.();
    const asyncTarget = await isAsyncTarget(target);
    await macrotask();
    escapes.length = 0;
    target.notes?.(); // reset what the probe (or an earlier run) left
    rejections = 0;

    const record = (bytes: Uint8Array, outcome: Outcome): void => {
      if (!outcome) return;
      failures++;
      const known = problems.get(outcome.signature);
      if (known) known.count++;
      else problems.set(outcome.signature, { ...outcome, input: bytes, count: 1 });
    };
    const arbitrary = inputArbitrary(target.seeds, options.maxLength, target.generators);
    if (asyncTarget) {
      checkHarness(
        await fc.check(
          fc.asyncProperty(arbitrary, async (bytes) => {
            cases++;
            options.onCase?.(bytes);
            record(bytes, await executeCase(target, bytes, limits));
          }),
          { numRuns: options.runs, seed },
        ),
      );
    } else {
      checkHarness(
        fc.check(
          fc.property(arbitrary, (bytes) => {
            cases++;
            options.onCase?.(bytes);
            record(bytes, executeCase(target, bytes, limits) as Outcome);
          }),
          { numRuns: options.runs, seed },
        ),
      );
      await macrotask();
      // A sync parser that leaked a rejection: the input is unknown, report it anyway.
      const leaked = drainEscapes();
      if (leaked) record(new Uint8Array(0), { ...leaked, message: `${leaked.message} (escaped after the run; input unknown)` });
    }
    const seconds = (performance.now() - started) / 1000;
    const rejected = rejections;
    const notes = target.notes?.() ?? [];
    if (options.shrink !== false) {
      for (const problem of [...problems.values()].slice(0, 5)) {
        problem.shrunk = await shrink(target, problem, limits, seed, options);
      }
    }
    return { name: target.name, cases, failures, rejected, seconds, problems: [...problems.values()], notes, seed };
  } finally {
    untrap();
    restoreConsole();
  }
}

let gcFunction: (() => void) | null | undefined;

/** A full GC, so an allocation check measures only the case (V8's gc, exposed at run time). */
function collectGarbage(): void {
  if (gcFunction === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFunction = vm.runInNewContext('gc') as () => void;
    } catch {
      gcFunction = null;
    }
  }
  gcFunction?.();
}

/** A minimal input with the same signature, found by fast-check's shrinker. */
async function shrink(target: FuzzTarget, problem: Problem, limits: CaseLimits, seed: number, options: RunOptions): Promise<Uint8Array | undefined> {
  if (problem.kind === 'timeout' || problem.input.byteLength === 0) return undefined;
  // Garbage of earlier cases can be freed inside the measured case and hide its growth: collect
  // it (and let V8 finish sweeping array buffers, which it does off the main thread) whenever it
  // has piled up.
  let settled: Memory | undefined;
  const settle = async (): Promise<void> => {
    if (problem.kind !== 'allocation') return;
    if (settled && growth(settled) < limits.memoryLimitBytes / 4) return;
    collectGarbage();
    await macrotask();
    collectGarbage();
    settled = memory();
  };
  const details = await fc.check(
    fc.asyncProperty(fc.uint8Array({ maxLength: options.maxLength ?? MAX_INPUT }), async (bytes) => {
      await settle();
      options.onCase?.(bytes);
      const outcome = await executeCase(target, bytes, limits);
      return outcome?.signature !== problem.signature;
    }),
    // Shrinking stops after SHRINK_TIME_MS with the smallest counterexample found so far.
    { examples: [[problem.input]], numRuns: 1, seed, endOnFailure: false, interruptAfterTimeLimit: SHRINK_TIME_MS, markInterruptAsFailure: false },
  );
  return details.failed ? details.counterexample?.[0] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Hang watchdog

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const state = new Int32Array(workerData.sab, 0, 4);
const input = new Uint8Array(workerData.sab, 16);
let seen = -1;
let since = Date.now();
setInterval(() => {
  const count = Atomics.load(state, 0);
  if (Atomics.load(state, 3) === 0 || count !== seen) {
    seen = count;
    since = Date.now();
    return;
  }
  if (Date.now() - since < workerData.hangMs) return;
  const length = Atomics.load(state, 1);
  const name = workerData.names[Atomics.load(state, 2)];
  fs.writeSync(2, '\\nFUZZ HANG: target ' + name + ', case ' + count + ': no progress for ' + Math.round((Date.now() - since) / 1000) + ' s\\n' +
    'input (' + length + ' bytes): ' + Buffer.from(input.subarray(0, length)).toString('hex') + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 500);
`;

export interface Watchdog {
  /** Records the case about to run (copied into shared memory for the watchdog thread). */
  beginCase(targetIndex: number, bytes: Uint8Array): void;
  idle(): void;
  stop(): Promise<void>;
}

/**
 * A thread that kills the process (after printing the stuck target and input) when no case
 * starts for `hangMs`: an infinite loop in a sync parser cannot be interrupted from inside.
 */
export function startWatchdog(names: readonly string[], hangMs: number, maxLength = MAX_INPUT): Watchdog {
  const sab = new SharedArrayBuffer(16 + maxLength);
  const state = new Int32Array(sab, 0, 4);
  const input = new Uint8Array(sab, 16);
  const worker = new Worker(WATCHDOG, { eval: true, workerData: { sab, hangMs, names } });
  worker.unref();
  return {
    beginCase(targetIndex, bytes) {
      input.set(bytes.subarray(0, maxLength));
      Atomics.store(state, 1, Math.min(bytes.byteLength, maxLength));
      Atomics.store(state, 2, targetIndex);
      Atomics.store(state, 3, 1);
      Atomics.add(state, 0, 1);
    },
    idle() {
      Atomics.store(state, 3, 0);
    },
    async stop() {
      await worker.terminate();
    },
  };
}

export { hex };
