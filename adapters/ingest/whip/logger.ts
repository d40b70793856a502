export { type AdapterLogger as WhipLogger, childLogger, RecurringLog, silentLogger } from '../../../src/adapter-logger.ts';
