import { createHash } from 'node:crypto';
import { TlsMaterialError } from './tls-material.ts';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM bundle as DER, in order (leaf first by convention). */
function certificatesFromPem(pem: string): Uint8Array[] {
  const blocks = [...pem.matchAll(CERTIFICATE_BLOCK)].map((match) => new Uint8Array(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64')));
  if (blocks.length === 0) throw new TlsMaterialError('no CERTIFICATE block in PEM');
  return blocks;
}

export function derToPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** SHA-256 over DER, lowercase hex (the form WebTransport `serverCertificateHashes` compares). */
export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

export function leafFingerprintHex(certPem: string): string {
  return sha256Hex(certificatesFromPem(certPem)[0]!);
}
