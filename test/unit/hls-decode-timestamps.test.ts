import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeTimestampReconstructor, type TimestampedFrame } from '../../src/media/decode-timestamps.ts';

const FRAME = 3000; // 90 kHz ticks at 30 fps

/** Decode-order PTS (in frame units) of x264's patterns, one closed GOP each. */
const PATTERNS: Record<string, number[]> = {
  'no B-frames': [0, 1, 2, 3, 4, 5, 6, 7],
  'bf=2, no pyramid': [0, 3, 1, 2, 6, 4, 5, 7],
  'bf=2 b-pyramid': [0, 3, 2, 1, 6, 5, 4, 7],
  'bf=3 b-pyramid': [0, 4, 2, 1, 3, 8, 6, 5, 7, 9],
};

function run(ptsInDecodeOrder: number[], depth: number, shift = 0): TimestampedFrame<number>[] {
  const r = new DecodeTimestampReconstructor<number>({ initialDepth: depth, shift });
  const out: TimestampedFrame<number>[] = [];
  for (const [i, pts] of ptsInDecodeOrder.entries()) out.push(...r.push(pts * FRAME, i));
  out.push(...r.flush());
  return out;
}

describe('DecodeTimestampReconstructor', () => {
  for (const [name, pattern] of Object.entries(PATTERNS)) {
    it(`stamps the k-th decoded frame with the k-th smallest PTS (${name})`, () => {
      const out = run(pattern, 2);
      expect(out.map((f) => f.frame)).toEqual(pattern.map((_, i) => i));
      expect(out.map((f) => f.dts)).toEqual([...pattern].sort((a, b) => a - b).map((p) => p * FRAME));
      expect(out[0]!.dts).toBe(out[0]!.pts); // the keyframe opens the GOP with DTS = PTS
    });
  }

  it('a constant shift keeps DTS at or before PTS', () => {
    for (const pattern of Object.values(PATTERNS)) {
      for (const f of run(pattern, 2, 2 * FRAME)) expect(f.dts).toBeLessThanOrEqual(f.pts);
    }
  });

  it('costs no lookahead without reordering', () => {
    const r = new DecodeTimestampReconstructor<number>();
    for (let i = 0; i < 5; i++) expect(r.push(i * FRAME, i)).toEqual([{ pts: i * FRAME, dts: i * FRAME, frame: i }]);
    expect(r.depth).toBe(0);
  });

  it('learns the reorder depth and stays strictly increasing while learning', () => {
    const pattern = [0, 3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10];
    const out = run(pattern, 0);
    for (let i = 1; i < out.length; i++) expect(out[i]!.dts).toBeGreaterThan(out[i - 1]!.dts);
    // Once the depth is known (after the first GOP) DTS is exact again.
    expect(out.slice(7).map((f) => f.dts)).toEqual([7, 8, 9, 10, 11, 12].map((p) => p * FRAME));
  });

  it('property: any reordering within the depth gives sorted PTS as DTS', () => {
    const reorder = fc
      .integer({ min: 1, max: 40 })
      .chain((n) => fc.tuple(fc.constant(n), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n })));
    fc.assert(
      fc.property(reorder, ([n, jitter]) => {
        // Presentation order 0..n-1, each frame decoded up to 3 places earlier than shown.
        const decodeOrder = Array.from({ length: n }, (_, i) => i).sort((a, b) => a - jitter[a]! - (b - jitter[b]!) || a - b);
        const out = run(decodeOrder, 3);
        expect(out.map((f) => f.dts)).toEqual(decodeOrder.map((_, i) => i * FRAME));
        expect(out.map((f) => f.pts)).toEqual(decodeOrder.map((p) => p * FRAME));
      }),
    );
  });

  it('property: DTS is strictly increasing whatever the input', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 60 }), fc.integer({ min: 0, max: 4 }), (pts, depth) => {
        const out = run(pts, depth);
        expect(out).toHaveLength(pts.length);
        for (let i = 1; i < out.length; i++) expect(out[i]!.dts).toBeGreaterThan(out[i - 1]!.dts);
      }),
    );
  });
});
