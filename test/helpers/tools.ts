import { spawnSync } from 'node:child_process';

/**
 * Whether the external tools a test needs are installed. Outside CI a missing tool skips the
 * test (with a note); with CI=true it is a failure, never a silent skip.
 */
export function haveTools(...names: string[]): boolean {
  const missing = names.filter((name) => spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0);
  if (missing.length === 0) return true;
  const message = `missing tools: ${missing.join(', ')} (run \`npm run setup\`)`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(message);
  console.warn(`skipping: ${message}`);
  return false;
}
