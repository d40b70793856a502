/**
 * Property tests in `npm test` run from a fixed fast-check seed, so a CI failure replays exactly
 * and a run cannot fail on an input no one has seen before. Exploring new inputs is the job of
 * `npm run fuzz` (random seeds, 100k cases per parser); `FC_SEED=random npm test` explores here
 * too, and `FC_SEED=<n>` replays a reported seed.
 */
import fc from 'fast-check';

const FIXED_SEED = 20261121;
const wanted = process.env.FC_SEED;
if (wanted !== 'random') fc.configureGlobal({ seed: wanted === undefined ? FIXED_SEED : Number(wanted) });
