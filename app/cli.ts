import { parseArgs } from 'node:util';
import { ConfigError, helpText, loadConfig, OPTIONS, unknownEnvironment } from './config.ts';
import { createLogger } from '../src/logger.ts';
import { Gateway } from './gateway.ts';
import { runTokenCli } from '../src/auth/index.ts';
import { onShutdownRequest } from './shutdown-triggers.ts';
import { workerCount, workerRole } from './workers/worker-role.ts';
import { runSupervisor } from './workers/supervisor.ts';
import type { WorkerReady } from './workers/worker-messages.ts';

/** Entry point: `moq-gateway [options]`. */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'token') return runTokenCli(argv.slice(1));
  const options: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' }, help: { type: 'boolean' } };
  for (const spec of Object.values(OPTIONS)) options[spec.flag] = { type: spec.type === 'bool' ? 'boolean' : 'string' };
  let flags: Record<string, string | boolean>;
  try {
    // --no-quic turns a boolean off; a value option takes a negative number (--rtmp-port -1).
    const parsed = parseArgs({ args: attachNegativeValues(argv, options), options, strict: true, allowPositionals: false, allowNegative: true });
    flags = parsed.values as Record<string, string | boolean>;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${helpText()}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ file: flags.config as string | undefined, env: process.env, flags });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`config error: ${error.message}\n`);
    return 2;
  }

  const role = workerRole();
  const rootLogger = createLogger(config.logLevel, config.logFormat);
  const logger = role ? rootLogger.child({ worker: role.index }) : rootLogger;
  if (!role) for (const name of unknownEnvironment(process.env)) logger.warn({ variable: name }, `${name} is not a moq-gateway option: ignored (see --help for the MOQ_* names)`);
  // --workers N > 1: this process supervises N workers (each runs this same CLI) and serves nothing.
  const count = role ? 1 : workerCount(config);
  if (count > 1) return runSupervisor({ config, argv, count, logger });
  const gateway = new Gateway(config, logger, role);
  try {
    const ports = await gateway.start();
    const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
    logger.info(
      { http: ports.http, rtmp: ports.rtmp, rtmps: ports.rtmps, metrics: ports.metrics },
      `${role ? `worker ${role.index} ` : 'moq-gateway '}listening: MoQ/HTTP http://${host}:${ports.http}/` + (ports.rtmp ? `, RTMP rtmp://${host}:${ports.rtmp}/live` : ''),
    );
    if (role) process.send?.({ type: 'ready', pid: process.pid, ports, steeringPort: gateway.steeringPort } satisfies WorkerReady);
  } catch (error) {
    logger.fatal({ err: error }, `failed to start: ${(error as Error).message}`);
    await gateway.close();
    return 1;
  }

  await new Promise<void>((resolve) => {
    onShutdownRequest((reason) => {
      logger.info({ reason }, 'shutting down');
      // Never hang: a stuck peer must not keep the process alive past 5 s.
      setTimeout(() => process.exit(0), 4500).unref();
      void gateway.close().then(resolve);
    });
  });
  return 0;
}

/**
 * parseArgs reads `-1` after `--rtmp-port` as an option of its own ("argument is ambiguous");
 * joining such a value to its flag (`--rtmp-port=-1`) makes it the flag's value.
 */
function attachNegativeValues(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && options[arg.slice(2)]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
