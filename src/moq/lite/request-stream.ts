/**
 * A bidi request stream the client opened (SUBSCRIBE, ANNOUNCE_PLEASE, FETCH, ...), after its
 * stream type and first message were read.
 */
import { StreamResetReason } from '../../wire/errors.ts';
import type { StreamReader } from '../../wire/stream-reader.ts';
import type { StreamWriter } from '../../wire/stream-writer.ts';

export interface RequestStream {
  reader: StreamReader;
  writer: StreamWriter;
}

/** Refuses the request: RESET_STREAM and STOP_SENDING with the same code (moq-lite: a rejection is a reset). */
export function refuse(stream: RequestStream, code: number, reason: string): void {
  stream.writer.reset(code, reason);
  void stream.reader.cancel(new StreamResetReason(code, reason));
}
