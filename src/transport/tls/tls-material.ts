/** What a TLS endpoint (TCP HTTPS/WSS and UDP QUIC alike) needs to present a certificate. */
export interface TlsMaterial {
  /** Leaf certificate first, then any chain, PEM. */
  readonly certPem: string;
  /** Private key of the leaf, PEM (PKCS#8 or SEC1). */
  readonly keyPem: string;
  /** SHA-256 of the leaf certificate's DER, lowercase hex: what `GET /certificate.sha256` serves. */
  readonly fingerprintHex: string;
  /** Leaf validity end, when known. */
  readonly notAfter?: Date;
  /**
   * Subscribes to replacements of this material (dev certificates renew before expiry).
   * Returns an unsubscribe function. Absent when the material never changes.
   */
  readonly onRenew?: (listener: (next: TlsMaterial) => void) => () => void;
}

export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
}
