/**
 * HTTP/3 error codes (RFC 9114 §8.1, RFC 9204 §6, RFC 9297 §5) and the single error class
 * every decoder of HTTP/3, QPACK and capsule bytes throws. `code` is the code to reset the
 * stream or close the connection with.
 */
export const H3ErrorCode = {
  NoError: 0x100,
  GeneralProtocolError: 0x101,
  InternalError: 0x102,
  StreamCreationError: 0x103,
  ClosedCriticalStream: 0x104,
  FrameUnexpected: 0x105,
  FrameError: 0x106,
  ExcessiveLoad: 0x107,
  IdError: 0x108,
  SettingsError: 0x109,
  MissingSettings: 0x10a,
  RequestRejected: 0x10b,
  RequestCancelled: 0x10c,
  RequestIncomplete: 0x10d,
  MessageError: 0x10e,
  ConnectError: 0x10f,
  VersionFallback: 0x110,
  QpackDecompressionFailed: 0x200,
  QpackEncoderStreamError: 0x201,
  QpackDecoderStreamError: 0x202,
  DatagramError: 0x33,
} as const;

export class Http3Error extends Error {
  override readonly name = 'Http3Error';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
