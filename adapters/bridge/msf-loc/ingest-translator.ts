/**
 * How an IETF publisher's broadcast is stored so moq-lite/hang subscribers can read it: an MSF
 * `catalog` becomes `catalog.json` and LOC objects of the catalog's tracks become legacy frames;
 * a publisher that already speaks hang (`catalog.json`) or has no catalog at all is stored as it is.
 * Which of the three it is, the catalog tells (catalog-mode.ts); media tracks wait a little for it.
 */
import { CATALOG_TRACK, TRACK_PRIORITY } from '../../../src/media/hang/catalog.ts';
import { MSF_CATALOG_TRACK } from '../../../src/media/msf/catalog.ts';
import { type IngestTranslator, type ObjectToFrame, payloadOnly, type UpstreamCandidate } from '../../../src/moq/ietf/media-bridge.ts';
import { CatalogModeState, formatFor } from './catalog-mode.ts';
import { msfToHangCatalog } from './ingest-format.ts';

export class HangIngestTranslator implements IngestTranslator {
  readonly #mode = new CatalogModeState();
  #catalogRequested = false;
  #catalogRefused = false;

  constructor(private readonly catalogWaitMs: number) {}

  /** `catalog.json` is served from the MSF `catalog` if the publisher has one, else from its own `catalog.json`. */
  upstream(relayName: string): UpstreamCandidate[] | undefined {
    if (relayName !== CATALOG_TRACK) return [{ ietfName: relayName, format: () => this.#mediaFormat(relayName) }];
    if (this.#catalogRefused) return undefined;
    this.#catalogRequested = true;
    return [
      { ietfName: MSF_CATALOG_TRACK, format: async () => msfToHangCatalog((catalog) => this.#mode.settle({ kind: 'msf', catalog })) },
      { ietfName: CATALOG_TRACK, format: async () => payloadOnly, onAccepted: () => this.#mode.settle({ kind: 'hang' }) },
    ];
  }

  refused(relayName: string): void {
    if (relayName !== CATALOG_TRACK) return;
    this.#catalogRefused = true;
    this.#mode.settle({ kind: 'none' });
  }

  /** Media needs the catalog to know its format; ask for it if no one has yet. */
  companion(relayName: string): { name: string; priority: number } | undefined {
    if (relayName === CATALOG_TRACK || relayName === MSF_CATALOG_TRACK) return undefined;
    if (this.#catalogRequested || this.#mode.current) return undefined;
    this.#catalogRequested = true;
    return { name: CATALOG_TRACK, priority: TRACK_PRIORITY.catalog };
  }

  pushed(ietfName: string): { relayName: string; format: () => Promise<ObjectToFrame> } {
    if (ietfName === MSF_CATALOG_TRACK) {
      const convert = msfToHangCatalog((catalog) => this.#mode.settle({ kind: 'msf', catalog }));
      return { relayName: CATALOG_TRACK, format: async () => convert };
    }
    if (ietfName === CATALOG_TRACK) {
      this.#mode.settle({ kind: 'hang' });
      return { relayName: ietfName, format: async () => payloadOnly };
    }
    return { relayName: ietfName, format: () => this.#mediaFormat(ietfName) };
  }

  #mediaFormat(ietfName: string): Promise<ObjectToFrame> {
    return this.#mode.wait(this.catalogWaitMs).then((mode) => formatFor(mode, ietfName));
  }
}
