/**
 * TLS material for the QUIC listener: the dev certificate Chromium accepts by hash, its
 * renewal (new connections get the new certificate), production PEM files, and CA-based
 * verification in our Node client.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectQuic, startQuicServer } from '../../src/transport/quic/index.ts';
import {
  DevCertificateManager,
  MAX_HASH_PINNED_VALIDITY_MS,
  TlsMaterialError,
  createDevCertificate,
  loadCertificate,
} from '../../src/transport/tls/index.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('dev certificate', () => {
  it('is ECDSA P-256, valid under 14 days, for localhost and loopback, with its SHA-256 fingerprint', () => {
    const material = createDevCertificate();
    const certificate = new X509Certificate(material.certPem);
    expect(certificate.publicKey.asymmetricKeyType).toBe('ec');
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const validity = Date.parse(certificate.validTo) - Date.parse(certificate.validFrom);
    expect(validity).toBeLessThan(MAX_HASH_PINNED_VALIDITY_MS);
    expect(validity).toBeGreaterThan(7 * 24 * 3600 * 1000);
    expect(Date.parse(certificate.validFrom)).toBeLessThanOrEqual(Date.now());
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkIP('::1')).toBeDefined();
    expect(material.fingerprintHex).toBe(createHash('sha256').update(certificate.raw).digest('hex'));
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(() => createDevCertificate({ validityMs: MAX_HASH_PINNED_VALIDITY_MS })).toThrow(TlsMaterialError);
  });

  it('loads production PEM files and refuses a key that does not match', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'quic-tls-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const first = createDevCertificate();
    const second = createDevCertificate();
    await writeFile(join(directory, 'cert.pem'), first.certPem);
    await writeFile(join(directory, 'key.pem'), first.keyPem);
    await writeFile(join(directory, 'other-key.pem'), second.keyPem);
    const loaded = await loadCertificate(join(directory, 'cert.pem'), join(directory, 'key.pem'));
    expect(loaded.fingerprintHex).toBe(first.fingerprintHex);
    await expect(loadCertificate(join(directory, 'cert.pem'), join(directory, 'other-key.pem'))).rejects.toThrow(TlsMaterialError);
  });
});

describe('QUIC server TLS', () => {
  it('serves the renewed certificate to new connections while old sessions keep working', async () => {
    const manager = new DevCertificateManager();
    cleanups.push(() => manager.stop());
    const server = await startQuicServer({ host: '127.0.0.1', port: 0, tls: manager.material, onSession: () => {} });
    cleanups.push(() => server.close());
    const url = `https://127.0.0.1:${server.port}/`;
    const before = manager.current.fingerprintHex;
    const old = await connectQuic(url, { alpn: 'moql', serverCertificateHashes: [{ algorithm: 'sha-256', value: before }] });

    const renewals: string[] = [];
    manager.material.onRenew?.((next) => renewals.push(next.fingerprintHex));
    const after = manager.renew().fingerprintHex;
    expect(after).not.toBe(before);
    expect(renewals).toEqual([after]);
    expect(manager.material.fingerprintHex).toBe(after);

    await expect(connectQuic(url, { alpn: 'moql', serverCertificateHashes: [{ algorithm: 'sha-256', value: before }] })).rejects.toThrow(/certificate hash/);
    const fresh = await connectQuic(url, { alpn: 'moql', serverCertificateHashes: [{ algorithm: 'sha-256', value: after }] });
    // The session opened before the renewal is unaffected.
    const { readable, writable } = await old.createBidirectionalStream();
    const writer = writable.getWriter();
    await writer.write(new Uint8Array([1]));
    expect(old.protocol).toBe('moql');
    void readable.cancel();
    old.close();
    fresh.close();
  });

  it('verifies the server against a CA bundle (name and IP)', async () => {
    const material = createDevCertificate();
    const server = await startQuicServer({ host: '127.0.0.1', port: 0, tls: material, onSession: () => {} });
    cleanups.push(() => server.close());
    const byName = await connectQuic(`https://localhost:${server.port}/`, { alpn: 'moql', ca: material.certPem });
    const byIp = await connectQuic(`https://127.0.0.1:${server.port}/`, { alpn: 'moql', ca: material.certPem });
    byName.close();
    byIp.close();
    await expect(connectQuic(`https://localhost:${server.port}/`, { alpn: 'moql', ca: createDevCertificate().certPem })).rejects.toThrow();
  });
});
