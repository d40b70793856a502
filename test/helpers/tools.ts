import { spawnSync } from 'node:child_process';

/**
 * Whether the external tools a test needs are installed. Outside CI a missing tool skips the
 * test (with a note); with CI=true it is a failure, never a silent skip.
 */
export function haveTools(...names: string[]): boolean {
  const missing = names.filter((name) => spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0);
  return missing.length === 0 || missingTool(missing.join(', '));
}

/** Whether a check command succeeds (a library or plugin, not just a command); same CI rule. */
export function haveRunnable(what: string, command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { timeout: 20_000 });
  return result.status === 0 || missingTool(`${what}: ${String(result.stderr ?? result.error ?? '').trim().split('\n').at(-1)}`);
}

function missingTool(what: string): false {
  const message = `missing tools: ${what} (run \`npm run setup\`)`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(message);
  console.warn(`skipping: ${message}`);
  return false;
}
