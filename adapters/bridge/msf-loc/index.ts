/**
 * The hang ⇄ MSF/LOC bridge (draft-lcurley-moq-hang, draft-ietf-moq-msf, draft-ietf-moq-loc),
 * injected into IETF sessions by the composition root: IETF subscribers see hang broadcasts as
 * MSF + LOC, IETF publishers' MSF + LOC broadcasts are stored as hang.
 */
import type { IetfMediaBridge } from '../../../src/moq/ietf/media-bridge.ts';
import { resolveEgressTrack } from './egress-format.ts';
import { HangIngestTranslator } from './ingest-translator.ts';

export const msfLocBridge: IetfMediaBridge = {
  egressTrack: resolveEgressTrack,
  ingestTranslator: (catalogWaitMs) => new HangIngestTranslator(catalogWaitMs),
};
