/**
 * Decoding of the binding's thrown errors. quiche's Rust error enum reaches JS as the Error
 * message ("Done", "StreamReset(42)", "StreamStopped(42)", ...).
 */

function codeFrom(error: unknown, name: string): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = new RegExp(`^${name}\\((\\d{1,20})\\)$`).exec(error.message);
  return match ? Number(match[1]) : undefined;
}

/** The peer sent RESET_STREAM (RFC 9000 §19.4) with this code. */
export const streamResetCode = (error: unknown): number | undefined => codeFrom(error, 'StreamReset');

/** The peer sent STOP_SENDING (RFC 9000 §19.5) with this code. */
export const streamStoppedCode = (error: unknown): number | undefined => codeFrom(error, 'StreamStopped');

export const isNativeError = (error: unknown, name: string): boolean => error instanceof Error && error.message === name;
