import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * Structured logs: JSON for machines, colourised lines on a terminal. Child loggers carry
 * session and broadcast ids (`logger.child({ session, broadcast })`).
 */
export function createLogger(level: string, format: 'auto' | 'pretty' | 'json' | string): Logger {
  const usePretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY);
  if (!usePretty) return pino({ level });
  return pino({ level }, pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
}
