/**
 * What one session may do on the relay: publish and read under which paths. Decided once, when
 * the session connects, by the gateway's access policy (app/access-policy.ts) from the session's
 * credential; protocol code only asks it. Knows nothing of tokens' formats.
 */
export interface RelayAccess {
  canPublish(path: string): boolean;
  canSubscribe(path: string): boolean;
  /**
   * What a credential sent with one request grants instead (IETF AUTHORIZATION_TOKEN,
   * draft-ietf-moq-transport-16 §9.2.1.1); undefined when it does not verify. An empty one is
   * no credential: this session's own access.
   */
  withToken(token: Uint8Array): Promise<RelayAccess | undefined>;
}
