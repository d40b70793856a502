/** Authentication: moq-token JWTs, public prefixes and RTMP/WHIP stream keys. */
export { Authenticator, type AuthenticatorOptions } from './authenticator.ts';
export { canPublish, canSubscribe, coveredBy, parseClaims, publishPrefixes, subscribePrefixes, type Claims } from './claims.ts';
export type { AuthContext, PublicPrefixes } from './context.ts';
export { bearerFrom, rtmpStreamKey, rtmpToken, splitCredential, tokenFrom, type HeaderSource, type PublishCredentials } from './credentials.ts';
export { AuthError, type AuthFailure } from './errors.ts';
export { expiryTimer } from './expiry.ts';
export { KeyLoadError, type KeySource } from './key-source.ts';
export { ALGORITHMS, KeyRing, loadSigningKey, loadVerificationKeys, publicJwk, type Algorithm, type LoadedKey } from './keys.ts';
export { parseExpiresAt } from './lifetime.ts';
export { generateKey, mintToken, type TokenRequest } from './mint.ts';
export { runTokenCli, type CliOutput } from './token-cli.ts';
