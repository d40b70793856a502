export { childLogger, silentLogger, type StructuredLogger } from '../../../src/logger.ts';
export { RecurringLog } from '../../../src/recurring-log.ts';
