import type { StructuredLogger } from './logger.ts';

/**
 * Logs a recurring problem on its 1st, 10th, 100th, ... occurrence, so a misbehaving peer
 * cannot flood the log while the count still shows how often it happened.
 */
export class RecurringLog {
  readonly #counts = new Map<string, number>();

  constructor(private readonly logger: StructuredLogger) {}

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
