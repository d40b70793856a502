/** Why a relay object ended abnormally. `code` is carried to peers where the protocol has one. */
export class RelayError extends Error {
  constructor(
    message: string,
    readonly code: number = 0,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

/** Error codes shared by the relay and the session layers (moq-lite uses plain varint codes). */
export const RelayErrorCode = {
  internal: 0,
  notFound: 0x4,
  duplicate: 0x5,
  unauthorized: 0x2,
  publisherGone: 0x10,
  tooFarBehind: 0x11,
  cancelled: 0x12,
  tooLarge: 0x13,
  /** An upstream never answered (IETF REQUEST_ERROR TIMEOUT). */
  timeout: 0x14,
} as const;
