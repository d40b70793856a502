/**
 * moq-transport error codes (draft-16 §13.1 registries; draft-14 §13.1 where they differ) and the
 * protocol error every IETF decoder throws.
 */
import { ProtocolError, type ProtocolErrorCode } from '../../wire/errors.ts';
import type { IetfVersion } from './version.ts';

/** Session termination codes (draft-14/16 §3.4). */
export const SessionErrorCode = {
  noError: 0x0,
  internalError: 0x1,
  unauthorized: 0x2,
  protocolViolation: 0x3,
  invalidRequestId: 0x4,
  duplicateTrackAlias: 0x5,
  keyValueFormattingError: 0x6,
  tooManyRequests: 0x7,
  invalidPath: 0x8,
  malformedPath: 0x9,
  goawayTimeout: 0x10,
  controlMessageTimeout: 0x11,
  dataStreamTimeout: 0x12,
  authTokenCacheOverflow: 0x13,
  duplicateAuthTokenAlias: 0x14,
  versionNegotiationFailed: 0x15,
  malformedAuthToken: 0x16,
  unknownAuthTokenAlias: 0x17,
  expiredAuthToken: 0x18,
  invalidAuthority: 0x19,
  malformedAuthority: 0x1a,
} as const;

export type SessionErrorCode = (typeof SessionErrorCode)[keyof typeof SessionErrorCode];

/**
 * A ProtocolError that names the session termination code the peer's mistake calls for.
 * Plain ProtocolErrors from the shared wire layer (truncation, oversize, bad UTF-8) map to
 * PROTOCOL_VIOLATION.
 */
export class IetfProtocolError extends ProtocolError {
  constructor(
    readonly sessionCode: SessionErrorCode,
    message: string,
    code: ProtocolErrorCode = 'invalid-value',
  ) {
    super(code, message);
  }
}

/** The code to close a session with after `error` escaped a decoder or handler. */
export function sessionCodeOf(error: unknown): SessionErrorCode {
  if (error instanceof IetfProtocolError) return error.sessionCode;
  if (error instanceof ProtocolError) return SessionErrorCode.protocolViolation;
  return SessionErrorCode.internalError;
}

export function violation(message: string, code: ProtocolErrorCode = 'invalid-value'): IetfProtocolError {
  return new IetfProtocolError(SessionErrorCode.protocolViolation, message, code);
}

/** Which request a response answers; draft-14 has one error message (and code table) per kind. */
export type RequestKind = 'subscribe' | 'fetch' | 'publish' | 'publish_namespace' | 'subscribe_namespace' | 'track_status' | 'update';

/** Why a request failed, independent of the version's numbering. */
export type RequestErrorReason =
  | 'internal'
  | 'unauthorized'
  | 'timeout'
  | 'notSupported'
  | 'doesNotExist'
  | 'invalidRange'
  | 'malformedAuthToken'
  | 'expiredAuthToken'
  | 'duplicateSubscription'
  | 'uninterested'
  | 'prefixOverlap'
  | 'invalidJoiningRequestId'
  | 'malformedTrack';

/** draft-16 §13.1.2: one REQUEST_ERROR table for every request. */
const DRAFT16_REQUEST_ERROR: Readonly<Record<RequestErrorReason, number>> = {
  internal: 0x0,
  unauthorized: 0x1,
  timeout: 0x2,
  notSupported: 0x3,
  malformedAuthToken: 0x4,
  expiredAuthToken: 0x5,
  doesNotExist: 0x10,
  invalidRange: 0x11,
  malformedTrack: 0x12,
  duplicateSubscription: 0x19,
  uninterested: 0x20,
  prefixOverlap: 0x30,
  invalidJoiningRequestId: 0x32,
};

/** draft-14 §13.1.2–13.1.7: each error message has its own table; missing reasons fall back to INTERNAL_ERROR. */
const DRAFT14_REQUEST_ERROR: Readonly<Record<Exclude<RequestKind, 'update'>, Partial<Record<RequestErrorReason, number>>>> = {
  subscribe: { unauthorized: 0x1, timeout: 0x2, notSupported: 0x3, doesNotExist: 0x4, invalidRange: 0x5, malformedAuthToken: 0x10, expiredAuthToken: 0x12 },
  track_status: { unauthorized: 0x1, timeout: 0x2, notSupported: 0x3, doesNotExist: 0x4, invalidRange: 0x5, malformedAuthToken: 0x10, expiredAuthToken: 0x12 },
  publish: { unauthorized: 0x1, timeout: 0x2, notSupported: 0x3, uninterested: 0x4 },
  fetch: {
    unauthorized: 0x1,
    timeout: 0x2,
    notSupported: 0x3,
    doesNotExist: 0x4,
    invalidRange: 0x5,
    invalidJoiningRequestId: 0x7,
    malformedTrack: 0x9,
    malformedAuthToken: 0x10,
    expiredAuthToken: 0x12,
  },
  publish_namespace: { unauthorized: 0x1, timeout: 0x2, notSupported: 0x3, uninterested: 0x4, malformedAuthToken: 0x10, expiredAuthToken: 0x12 },
  subscribe_namespace: {
    unauthorized: 0x1,
    timeout: 0x2,
    notSupported: 0x3,
    doesNotExist: 0x4,
    prefixOverlap: 0x5,
    malformedAuthToken: 0x10,
    expiredAuthToken: 0x12,
  },
};

export function requestErrorCode(version: IetfVersion, kind: RequestKind, reason: RequestErrorReason): number {
  // draft-18 keeps draft-16's REQUEST_ERROR numbers for these reasons (draft-18 §14 table).
  if (version !== 'draft-14') return DRAFT16_REQUEST_ERROR[reason];
  if (kind === 'update') return 0x0;
  return DRAFT14_REQUEST_ERROR[kind][reason] ?? 0x0;
}

/** PUBLISH_DONE status codes (draft-16 §13.1.3; draft-14 numbers MALFORMED_TRACK 0x7). */
export type PublishDoneStatus =
  | 'internal'
  | 'unauthorized'
  | 'trackEnded'
  | 'subscriptionEnded'
  | 'goingAway'
  | 'expired'
  | 'tooFarBehind'
  | 'updateFailed'
  | 'malformedTrack';

export function publishDoneCode(version: IetfVersion, status: PublishDoneStatus): number {
  switch (status) {
    case 'internal':
      return 0x0;
    case 'unauthorized':
      return 0x1;
    case 'trackEnded':
      return 0x2;
    case 'subscriptionEnded':
      return 0x3;
    case 'goingAway':
      return 0x4;
    // draft-18 §14 swaps these two: TOO_FAR_BEHIND 0x5, EXPIRED 0x6 (aligned with the stream reset codes).
    case 'expired':
      return version === 'draft-14' || version === 'draft-16' ? 0x5 : 0x6;
    case 'tooFarBehind':
      return version === 'draft-14' || version === 'draft-16' ? 0x6 : 0x5;
    case 'updateFailed':
      return version !== 'draft-14' ? 0x8 : 0x0;
    case 'malformedTrack':
      return version !== 'draft-14' ? 0x12 : 0x7;
  }
}

/** RESET_STREAM codes for data streams (draft-16 §13.1.4). */
export const StreamResetCode = {
  internalError: 0x0,
  cancelled: 0x1,
  deliveryTimeout: 0x2,
  sessionClosed: 0x3,
  unknownObjectStatus: 0x4,
  malformedTrack: 0x12,
} as const;
