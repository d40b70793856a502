/**
 * The fuzz registry (scripts/fuzz/targets.ts) in `npm test`: every network parser runs a few
 * hundred random and mutated inputs through the same harness `npm run fuzz` uses for 100k, with
 * a fixed seed so a failure here replays exactly. Also checks the harness flags what it claims
 * to flag (foreign exceptions, allocation from a length field, hangs of async parsers).
 */
import { describe, expect, it } from 'vitest';
import { framed, fromHex, hex, text } from '../../scripts/fuzz/bytes.ts';
import { executeCase, runTarget, silenceConsole, type FuzzTarget, type Problem } from '../../scripts/fuzz/harness.ts';
import { selectTargets, targets } from '../../scripts/fuzz/targets.ts';

const CASES = 300;
const SEED = 0x6d6f71; // "moq"
const LIMITS = { memoryLimitBytes: 64 * 2 ** 20, caseTimeoutMs: 10_000 };

/** Inputs that once broke a parser (found by `npm run fuzz`); they must stay handled. */
const REGRESSIONS: Record<string, { counterexample: Uint8Array; bug: string }> = {
  'rtmp.normalizer': {
    counterexample: fromHex('0801940000000000000c019702000000014f70757300'),
    bug: 'an E-RTMP MultichannelConfig of 0 channels, then an Opus frame without a sequence start: buildOpusHead(0) escaped the normalizer',
  },
  'media.hang-legacy-frame': {
    counterexample: fromHex('c020000000000000'),
    bug: 'decodeLegacyFrame let a ProtocolError escape for a timestamp ≥ 2^53 instead of MediaParseError',
  },
  'media.loc-properties': {
    counterexample: fromHex('b0'), // empty extension block, catalog timescale 29.97
    bug: 'locTimestampUs called BigInt() on a non-integer MSF catalog timescale (29.97, 1e400)',
  },
  'media.msf-loc-ingest': {
    counterexample: framed([text('{"version":1,"tracks":[{"name":"video","packaging":"loc","codec":"avc1.64001f","timescale":29.97}]}')]),
    bug: 'an MSF catalog with a fractional "timescale" made every LOC object of the track throw RangeError',
  },
};

const describeProblem = (p: Problem): string => `${p.kind} ×${p.count}: ${p.message}${p.where ? ` at ${p.where}` : ''}; input ${hex(p.input)}`;

describe('fuzz registry', () => {
  it('has unique names and covers every parser family', () => {
    const names = targets.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const family of ['rtmp.', 'whip.', 'media.', 'lite-01.', 'lite-04.', 'ietf-14.', 'ietf-16.', 'qmux-0', 'web-transport-ws', 'h3.', 'quic.', 'auth.', 'hls.', 'cluster.']) {
      expect(names.some((n) => n.startsWith(family)), family).toBe(true);
    }
  });

  it('selects targets by name or prefix', () => {
    expect(selectTargets('h3.qpack').map((t) => t.name)).toEqual(['h3.qpack']);
    expect(selectTargets('ietf-16').length).toBe(4);
    expect(selectTargets('lite-0*.messages').length).toBe(4);
  });
});

describe.each(targets.map((t) => [t.name, t] as const))('fuzz target %s', (name, target: FuzzTarget) => {
  const regression = REGRESSIONS[name];

  it(`accepts or cleanly rejects its seeds, and survives ${CASES} cases`, async () => {
    const result = await runTarget(target, { runs: CASES, seed: SEED, shrink: false });
    expect(result.cases).toBe(CASES);
    expect(result.problems.map(describeProblem)).toEqual([]);

    const restore = silenceConsole();
    try {
      for (const seed of target.seeds ?? []) {
        const outcome = await executeCase(target, seed, LIMITS);
        if (outcome) expect.fail(`seed ${hex(seed)}: ${outcome.message}`);
      }
    } finally {
      restore();
    }
  });

  if (regression) {
    it(`handles the input that once broke it: ${regression.bug}`, async () => {
      const restore = silenceConsole();
      const outcome = await Promise.resolve(executeCase(target, regression.counterexample, LIMITS)).finally(restore);
      expect(outcome?.message).toBeUndefined();
    });
  }
});

describe('fuzz harness', () => {
  const base = { seeds: [Uint8Array.of(1, 2, 3)] };

  it('reports exceptions outside the allowed class, shrunk to a minimal input', async () => {
    const target: FuzzTarget = {
      ...base,
      name: 'self.type-error',
      allowed: (error) => error instanceof SyntaxError,
      run(bytes) {
        if (bytes.includes(0xab)) (undefined as unknown as { x: number }).x++;
        if (bytes.includes(0xcd)) throw new SyntaxError('allowed');
      },
    };
    const result = await runTarget(target, { runs: 2000, seed: SEED });
    expect(result.failures).toBeGreaterThan(0);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ kind: 'exception', message: expect.stringMatching(/^TypeError/) });
    expect(hex(result.problems[0]!.shrunk!)).toBe('ab');
  });

  it('reports a case that allocates more than the limit', async () => {
    const target: FuzzTarget = {
      ...base,
      name: 'self.allocation',
      allowed: () => false,
      run(bytes) {
        // A "length field" trusted before the bytes arrived.
        if (bytes[0] === 0xff) new Uint8Array(16 * 2 ** 20).fill(1, 0, 1);
      },
    };
    const result = await runTarget(target, { runs: 500, seed: SEED, memoryLimitBytes: 8 * 2 ** 20 });
    expect(result.problems.map((p) => p.kind)).toEqual(['allocation']);
  });

  it('reports an async case that never settles', async () => {
    const target: FuzzTarget = {
      ...base,
      name: 'self.hang',
      allowed: () => false,
      async run(bytes) {
        if (bytes[0] === 0x00 && bytes.byteLength === 2) await new Promise(() => {});
      },
    };
    const result = await runTarget(target, { runs: 300, seed: SEED, caseTimeoutMs: 50, shrink: false });
    expect(result.problems.map((p) => p.kind)).toEqual(['timeout']);
  });
});
