export type { TlsMaterial } from './tls-material.ts';
export { TlsMaterialError } from './tls-material.ts';
export { createDevCertificate, MAX_HASH_PINNED_VALIDITY_MS, type DevCertificateOptions } from './dev-certificate.ts';
export { DevCertificateManager, type DevCertificateManagerOptions } from './dev-certificate-manager.ts';
export { loadCertificate } from './load-certificate.ts';
export { leafFingerprintHex, sha256Hex } from './pem.ts';
