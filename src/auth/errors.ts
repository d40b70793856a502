/** Why a credential was refused; callers map it to a protocol status (HTTP 401/403, MoQ unauthorized). */
export type AuthFailure =
  | 'missing' // no token where one is required
  | 'malformed' // not a JWT, or claims of the wrong shape
  | 'bad-signature' // signed by none of our keys
  | 'unknown-key' // `kid` or `alg` matches none of our keys
  | 'expired'
  | 'not-yet-valid' // `nbf` in the future
  | 'forbidden'; // valid credential, but not for this path

/** The one error type auth code throws for a refused credential; anything else is a bug. */
export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
  }

  /** HTTP status: 403 when the caller is known but not allowed, 401 when we could not tell who it is. */
  get status(): 401 | 403 {
    return this.reason === 'forbidden' ? 403 : 401;
  }
}
