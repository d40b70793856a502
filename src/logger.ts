import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * The one logging surface the gateway's modules take: fields first, message second, as pino
 * logs (a pino `Logger` fits as is). `child`, when present, tags a session's lines.
 * Methods, not function-typed properties, so a logger whose methods take narrower fields
 * (`Record<string, unknown>`) or require the message still fits.
 */
export interface StructuredLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  child?(bindings: Record<string, unknown>): StructuredLogger;
}

const ignore = (): void => {};

export const silentLogger: StructuredLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

export function childLogger(logger: StructuredLogger, bindings: Record<string, unknown>): StructuredLogger {
  if (logger.child) return logger.child(bindings);
  const tag = (fields: object): Record<string, unknown> => ({ ...bindings, ...fields });
  return {
    debug: (fields, message) => logger.debug(tag(fields), message),
    info: (fields, message) => logger.info(tag(fields), message),
    warn: (fields, message) => logger.warn(tag(fields), message),
    error: (fields, message) => logger.error(tag(fields), message),
  };
}

/**
 * Structured logs: JSON for machines, colourised lines on a terminal. Child loggers carry
 * session and broadcast ids (`logger.child({ session, broadcast })`).
 */
export function createLogger(level: string, format: 'auto' | 'pretty' | 'json' | string): Logger {
  const usePretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY);
  if (!usePretty) return pino({ level });
  return pino({ level }, pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
}
