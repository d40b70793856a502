/**
 * Every parser of network bytes in the gateway, as a fuzz target (see harness.ts for what a
 * target is and what counts as a failure). `npm run fuzz` runs each for 100k cases;
 * test/unit/fuzz-targets.test.ts runs each for a few hundred in `npm test`.
 *
 * Adding a parser of peer input? Add a target here (with seeds: real records to mutate).
 */
import type { FuzzTarget } from './harness.ts';
import { authTargets } from './targets/auth.ts';
import { egressTargets } from './targets/egress.ts';
import { h3Targets } from './targets/h3.ts';
import { ietfTargets } from './targets/ietf.ts';
import { ietfDraft18Targets } from './targets/ietf-draft18.ts';
import { liteTargets } from './targets/lite.ts';
import { mediaTargets } from './targets/media.ts';
import { qmuxTargets } from './targets/qmux.ts';
import { rtmpTargets } from './targets/rtmp.ts';
import { sessionTargetTargets } from './targets/session-target.ts';
import { udpTargets } from './targets/udp.ts';
import { whepTargets } from './targets/whep.ts';
import { whipTargets } from './targets/whip.ts';

export type { FuzzTarget } from './harness.ts';

export const targets: readonly FuzzTarget[] = [
  ...rtmpTargets,
  ...whipTargets,
  ...whepTargets,
  ...mediaTargets,
  ...liteTargets,
  ...ietfTargets,
  ...ietfDraft18Targets,
  ...sessionTargetTargets,
  ...qmuxTargets,
  ...h3Targets,
  ...authTargets,
  ...egressTargets,
  ...udpTargets,
];

/** Targets whose name equals, or starts with, one of the comma-separated `patterns` (`*` = any). */
export function selectTargets(patterns: string | undefined): FuzzTarget[] {
  if (!patterns) return [...targets];
  const wanted = patterns.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const matches = (name: string, pattern: string): boolean =>
    pattern.includes('*') ? new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`).test(name) : name.startsWith(pattern);
  return targets.filter((t) => wanted.some((p) => matches(t.name, p)));
}

const escapeRegExp = (text: string): string => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
