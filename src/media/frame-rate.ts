/**
 * A video track's frame rate measured from its presentation timestamps, for sources that do not
 * state one (WHIP: WebRTC has no frame rate field, and the browser's encoder varies it).
 */

/** Frames per second (two decimals) from the median step of `timestampsUs`, or undefined with too few. */
export function estimateFramerate(timestampsUs: readonly number[]): number | undefined {
  // Presentation order: B-frames arrive out of it.
  const sorted = [...timestampsUs].sort((a, b) => a - b);
  const steps: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const step = sorted[i]! - sorted[i - 1]!;
    if (step > 0) steps.push(step);
  }
  if (steps.length < 2) return undefined;
  steps.sort((a, b) => a - b);
  const median = steps[Math.floor(steps.length / 2)]!;
  const fps = Math.round((1_000_000 / median) * 100) / 100;
  // Beyond what any camera or encoder makes: a timestamp glitch, not a rate.
  return fps >= 1 && fps <= 240 ? fps : undefined;
}
