/**
 * Session close codes this server uses (moq-lite leaves them application-defined); the reason
 * string carries the detail, e.g. the ProtocolError message.
 */
export const LiteCloseCode = {
  normal: 0x0,
  internal: 0x1,
  unauthorized: 0x2,
  protocolViolation: 0x3,
  unsupportedVersion: 0x4,
  setupTimeout: 0x5,
  /** The client fell so far behind that its announcement backlog overflowed. */
  tooSlow: 0x6,
  /** The client stopped taking bytes for longer than the viewer stall timeout. */
  stalled: 0x7,
} as const;

export type LiteCloseCode = (typeof LiteCloseCode)[keyof typeof LiteCloseCode];
