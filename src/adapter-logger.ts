/**
 * The logging surface adapters need: a pino logger fits as is (fields first, message second);
 * `child` is used when present to tag a session's lines.
 */
export interface AdapterLogger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
  child?(bindings: Record<string, unknown>): AdapterLogger;
}

const ignore = (): void => {};

export const silentLogger: AdapterLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

export function childLogger(logger: AdapterLogger, bindings: Record<string, unknown>): AdapterLogger {
  if (logger.child) return logger.child(bindings);
  const tag = (fields: Record<string, unknown>): Record<string, unknown> => ({ ...bindings, ...fields });
  return {
    debug: (fields, message) => logger.debug(tag(fields), message),
    info: (fields, message) => logger.info(tag(fields), message),
    warn: (fields, message) => logger.warn(tag(fields), message),
    error: (fields, message) => logger.error(tag(fields), message),
  };
}

/**
 * Logs a recurring problem on its 1st, 10th, 100th, ... occurrence, so a misbehaving peer
 * cannot flood the log while the count still shows how often it happened.
 */
export class RecurringLog {
  readonly #counts = new Map<string, number>();

  constructor(private readonly logger: AdapterLogger) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const count = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, count);
    if (Number.isInteger(Math.log10(count))) this.logger.warn({ ...fields, occurrences: count }, message);
  }

  /** True the first time a key is seen. */
  first(key: string): boolean {
    if (this.#counts.has(key)) return false;
    this.#counts.set(key, 1);
    return true;
  }
}
