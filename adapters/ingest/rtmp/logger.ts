export { type AdapterLogger as RtmpLogger, childLogger, RecurringLog, silentLogger } from '../../../src/adapter-logger.ts';
