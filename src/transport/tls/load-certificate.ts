import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { leafFingerprintHex } from './pem.ts';
import { TlsMaterialError, type TlsMaterial } from './tls-material.ts';

/**
 * Production TLS: a certificate chain and key from PEM files, shared by the TCP (HTTPS/WSS)
 * and UDP (QUIC) listeners. Fails early if the key does not belong to the leaf.
 */
export async function loadCertificate(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  const leaf = new X509Certificate(certPem);
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new TlsMaterialError(`${keyFile} is not the private key of the certificate in ${certFile}`);
  }
  return { certPem, keyPem, fingerprintHex: leafFingerprintHex(certPem), notAfter: new Date(leaf.validTo) };
}
