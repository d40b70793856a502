/**
 * The logging surface the adapter needs: a pino logger fits as is (fields first, message
 * second); `child` is used when present to tag a session's lines.
 */
export interface WhipLogger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
  child?(bindings: Record<string, unknown>): WhipLogger;
}

const ignore = (): void => {};

export const silentLogger: WhipLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

export function childLogger(logger: WhipLogger, bindings: Record<string, unknown>): WhipLogger {
  if (logger.child) return logger.child(bindings);
  const tag = (fields: Record<string, unknown>): Record<string, unknown> => ({ ...bindings, ...fields });
  return {
    debug: (fields, message) => logger.debug(tag(fields), message),
    info: (fields, message) => logger.info(tag(fields), message),
    warn: (fields, message) => logger.warn(tag(fields), message),
    error: (fields, message) => logger.error(tag(fields), message),
  };
}

/** Logs a recurring problem on its 1st, 10th, 100th, ... occurrence: a bad sender cannot flood the log. */
export class RecurringLog {
  readonly #counts = new Map<string, number>();

  constructor(private readonly logger: WhipLogger) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const count = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, count);
    if (Number.isInteger(Math.log10(count))) this.logger.warn({ ...fields, occurrences: count }, message);
  }
}
