import { leafFingerprintHex, type TlsMaterial } from '../../src/transport/tls/index.ts';

/**
 * Under `--workers N`, every worker must present the same dev certificate: a browser pins the
 * hash it read from /certificate.sha256 on one worker and may open WebTransport on another. The
 * supervisor owns the DevCertificateManager; a worker starts with its certificate (env at fork)
 * and follows its renewals (IPC), with the same live TlsMaterial view the manager gives.
 */
export const DEV_CERTIFICATE_ENV = 'GATEWAY_DEV_CERTIFICATE';

export interface DevCertificateMessage {
  type: 'dev-certificate';
  certPem: string;
  keyPem: string;
}

function isDevCertificateMessage(message: unknown): message is DevCertificateMessage {
  const m = message as Partial<DevCertificateMessage> | null;
  return typeof m === 'object' && m !== null && m.type === 'dev-certificate' && typeof m.certPem === 'string' && typeof m.keyPem === 'string';
}

export const encodeDevCertificate = (material: Pick<TlsMaterial, 'certPem' | 'keyPem'>): string => JSON.stringify({ certPem: material.certPem, keyPem: material.keyPem });

export class SharedDevCertificate {
  #current: TlsMaterial;
  readonly #listeners = new Set<(next: TlsMaterial) => void>();

  private constructor(certPem: string, keyPem: string) {
    this.#current = { certPem, keyPem, fingerprintHex: leafFingerprintHex(certPem) };
  }

  /** The certificate the supervisor handed this worker, or undefined outside a supervisor. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): SharedDevCertificate | undefined {
    const raw = env[DEV_CERTIFICATE_ENV];
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Partial<DevCertificateMessage>;
    if (typeof parsed.certPem !== 'string' || typeof parsed.keyPem !== 'string') throw new Error(`${DEV_CERTIFICATE_ENV} holds no certificate`);
    const shared = new SharedDevCertificate(parsed.certPem, parsed.keyPem);
    process.on('message', (message: unknown) => {
      if (isDevCertificateMessage(message)) shared.#renew(message.certPem, message.keyPem);
    });
    return shared;
  }

  get current(): TlsMaterial {
    return this.#current;
  }

  get material(): TlsMaterial {
    const shared = this;
    return {
      get certPem() {
        return shared.#current.certPem;
      },
      get keyPem() {
        return shared.#current.keyPem;
      },
      get fingerprintHex() {
        return shared.#current.fingerprintHex;
      },
      onRenew: (listener) => {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
      },
    };
  }

  stop(): void {
    this.#listeners.clear();
  }

  #renew(certPem: string, keyPem: string): void {
    this.#current = { certPem, keyPem, fingerprintHex: leafFingerprintHex(certPem) };
    for (const listener of this.#listeners) listener(this.#current);
  }
}
