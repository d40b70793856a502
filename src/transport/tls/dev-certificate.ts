/**
 * Self-signed development certificate that Chromium accepts through
 * `WebTransport({ serverCertificateHashes })`: ECDSA P-256, X.509 v3, validity under 14 days
 * (W3C WebTransport §"custom certificate requirements"; RSA or longer validity is rejected).
 * Built with Node's crypto and our DER encoder, so no openssl binary or npm package is needed.
 */
import { X509Certificate, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import {
  derBitString,
  derBoolean,
  derExplicit,
  derImplicitPrimitive,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSet,
  derSmallInteger,
  derTime,
  derUnsignedInteger,
  derUtf8String,
} from './der.ts';
import { derToPem, sha256Hex } from './pem.ts';
import { TlsMaterialError, type TlsMaterial } from './tls-material.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Chromium refuses hash-pinned certificates valid for 14 days or more. */
export const MAX_HASH_PINNED_VALIDITY_MS = 14 * DAY_MS;

export interface DevCertificateOptions {
  /** Total validity (notAfter - notBefore). Default 10 days; must stay under 14. */
  readonly validityMs?: number;
  /** DNS names and IP literals for subjectAltName. Default localhost, 127.0.0.1, ::1. */
  readonly hosts?: readonly string[];
  /** Clock, for tests. */
  readonly now?: Date;
}

function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return Uint8Array.from(ip.split('.').map(Number));
  // Expand IPv6 (with at most one "::") into 8 groups of 16 bits.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const out = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  });
  return out;
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? derSequence(derObjectIdentifier(oid), derBoolean(true), derOctetString(value))
    : derSequence(derObjectIdentifier(oid), derOctetString(value));
}

function subjectAltNames(hosts: readonly string[]): Uint8Array {
  const names = hosts.map((host) =>
    isIP(host) ? derImplicitPrimitive(7, ipBytes(host)) : derImplicitPrimitive(2, new TextEncoder().encode(host)),
  );
  return derSequence(...names);
}

export function createDevCertificate(options: DevCertificateOptions = {}): TlsMaterial {
  const validityMs = options.validityMs ?? 10 * DAY_MS;
  if (validityMs >= MAX_HASH_PINNED_VALIDITY_MS) throw new TlsMaterialError('dev certificate validity must stay under 14 days');
  const hosts = options.hosts ?? ['localhost', '127.0.0.1', '::1'];
  // Backdate a little for clock skew; the backdating counts towards the 14-day limit.
  const notBefore = new Date((options.now ?? new Date()).getTime() - 60 * 60 * 1000);
  const notAfter = new Date(notBefore.getTime() + validityMs);

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const signatureAlgorithm = derSequence(derObjectIdentifier(OID.ecdsaWithSha256));
  const name = derSequence(derSet(derSequence(derObjectIdentifier(OID.commonName), derUtf8String(hosts[0] ?? 'localhost'))));
  const serial = new Uint8Array(randomBytes(16));
  serial[0]! &= 0x7f; // positive, RFC 5280 §4.1.2.2

  // keyCertSign lets TLS stacks (BoringSSL, OpenSSL) accept the self-signed certificate as its
  // own trust anchor when a client pins it as a CA; digitalSignature is what TLS 1.3 uses.
  const extensions = derSequence(
    extension(OID.keyUsage, true, derBitString(Uint8Array.of(0x84), 2)), // digitalSignature, keyCertSign
    extension(OID.extKeyUsage, false, derSequence(derObjectIdentifier(OID.serverAuth))),
    extension(OID.subjectAltName, false, subjectAltNames(hosts)),
  );
  const tbs = derSequence(
    derExplicit(0, derSmallInteger(2)), // v3
    derUnsignedInteger(serial),
    signatureAlgorithm,
    name,
    derSequence(derTime(notBefore), derTime(notAfter)),
    name,
    spki,
    derExplicit(3, extensions),
  );
  const signature = new Uint8Array(sign('sha256', tbs, privateKey)); // DER ECDSA-Sig-Value
  const certificate = derSequence(tbs, signatureAlgorithm, derBitString(signature));

  const certPem = derToPem('CERTIFICATE', certificate);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Self-check: Node must parse it, the signature must verify and the key must match.
  const parsed = new X509Certificate(certPem);
  if (!parsed.verify(publicKey) || !parsed.checkPrivateKey(privateKey)) throw new TlsMaterialError('generated certificate does not verify');
  return { certPem, keyPem, fingerprintHex: sha256Hex(certificate), notAfter };
}
