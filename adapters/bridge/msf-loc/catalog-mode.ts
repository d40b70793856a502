/**
 * What an IETF publisher's broadcast carries, learnt from its catalog: MSF (draft-ietf-moq-msf,
 * LOC tracks to convert), hang (`catalog.json` and legacy frames, stored as they are) or neither
 * (objects stored as opaque frames). Media tracks wait a little for it before their first object.
 */
import type { MsfCatalog } from '../../../src/media/msf/catalog.ts';
import { type ObjectToFrame, payloadOnly } from '../../../src/moq/ietf/media-bridge.ts';
import { locToLegacy } from './ingest-format.ts';

export type CatalogMode = { kind: 'msf'; catalog: MsfCatalog } | { kind: 'hang' } | { kind: 'none' };

const NONE: CatalogMode = { kind: 'none' };

export class CatalogModeState {
  #mode: CatalogMode | undefined;
  #waiters: ((mode: CatalogMode) => void)[] = [];
  #deadline: ReturnType<typeof setTimeout> | undefined;

  get current(): CatalogMode | undefined {
    return this.#mode;
  }

  /** Records what the catalog turned out to be; a later MSF catalog replaces an earlier one. */
  settle(mode: CatalogMode): void {
    if (this.#mode && this.#mode.kind !== 'none' && mode.kind === 'none') return;
    this.#mode = mode;
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake(mode);
  }

  /**
   * The mode, waiting up to `ms` (from the first waiter) for it. When nothing is known by then the
   * mode settles as 'none' for everyone, so later streams don't each wait again (a catalog that
   * shows up later still replaces it); waiters wake in arrival order, keeping groups in order.
   */
  wait(ms: number): Promise<CatalogMode> {
    if (this.#mode) return Promise.resolve(this.#mode);
    const known = new Promise<CatalogMode>((resolve) => this.#waiters.push(resolve));
    if (!this.#deadline) {
      this.#deadline = setTimeout(() => this.settle(NONE), ms);
      (this.#deadline as { unref?: () => void }).unref?.();
    }
    return known;
  }
}

/** How objects of IETF track `name` become relay frames under `mode`. */
export function formatFor(mode: CatalogMode, name: string): ObjectToFrame {
  if (mode.kind !== 'msf') return payloadOnly;
  const track = mode.catalog.tracks.find((entry) => entry.name === name);
  if (track?.packaging !== 'loc') return payloadOnly;
  return locToLegacy(typeof track.timescale === 'number' ? track.timescale : undefined);
}
