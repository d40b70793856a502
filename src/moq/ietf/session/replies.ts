/** Builders for the responses every handler sends. */
import { type RequestErrorReason, type RequestKind, requestErrorCode } from '../errors.ts';
import type { RequestError } from '../messages.ts';
import type { IetfVersion } from '../version.ts';

/** A refusal; Retry Interval 0 (do not retry) unless the reason is transient. */
export function requestError(version: IetfVersion, kind: RequestKind, requestId: number, reason: RequestErrorReason, message: string): RequestError {
  const retryInterval = reason === 'timeout' ? 1001 : 0;
  return { type: 'request_error', kind, requestId, code: requestErrorCode(version, kind, reason), retryInterval, reason: message };
}
