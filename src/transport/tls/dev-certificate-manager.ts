import { createDevCertificate, type DevCertificateOptions } from './dev-certificate.ts';
import type { TlsMaterial } from './tls-material.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface DevCertificateManagerOptions extends Omit<DevCertificateOptions, 'now'> {
  /** Renew this long before notAfter. Default 2 days (a 10-day certificate lives 8). */
  readonly renewBeforeMs?: number;
}

/**
 * Owns the dev certificate and replaces it before it expires. `material` is a stable
 * TlsMaterial view: its fields always show the current certificate and its `onRenew` lets the
 * QUIC server (new connections) and the HTTP server (`/certificate.sha256`) follow renewals.
 */
export class DevCertificateManager {
  #current: TlsMaterial;
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(next: TlsMaterial) => void>();
  readonly #options: DevCertificateManagerOptions;

  constructor(options: DevCertificateManagerOptions = {}) {
    this.#options = options;
    this.#current = createDevCertificate(options);
    this.#schedule();
  }

  get current(): TlsMaterial {
    return this.#current;
  }

  /** A live view; pass it wherever a TlsMaterial is expected. */
  get material(): TlsMaterial {
    const manager = this;
    return {
      get certPem() {
        return manager.#current.certPem;
      },
      get keyPem() {
        return manager.#current.keyPem;
      },
      get fingerprintHex() {
        return manager.#current.fingerprintHex;
      },
      get notAfter() {
        return manager.#current.notAfter;
      },
      onRenew: (listener) => {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
      },
    };
  }

  /** Replaces the certificate now and tells every subscriber. */
  renew(): TlsMaterial {
    const { renewBeforeMs: _unused, ...certificateOptions } = this.#options;
    this.#current = createDevCertificate(certificateOptions);
    for (const listener of this.#listeners) listener(this.#current);
    this.#schedule();
    return this.#current;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const renewBefore = this.#options.renewBeforeMs ?? 2 * DAY_MS;
    const notAfter = this.#current.notAfter?.getTime() ?? Date.now();
    const delay = Math.max(1000, Math.min(notAfter - renewBefore - Date.now(), 2 ** 31 - 1));
    this.#timer = setTimeout(() => this.renew(), delay);
    this.#timer.unref();
  }
}
