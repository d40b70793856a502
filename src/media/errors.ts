/**
 * The one error type codec parsers throw on malformed or unsupported input. Every parser of
 * untrusted bytes in src/media throws only this, so adapters can catch one class and drop the
 * offending packet (or publisher) without masking real bugs (TypeError, RangeError).
 */
export class MediaParseError extends Error {
  override name = 'MediaParseError';
}
