/** The data-plane codec for a negotiated version. */
import { draft14DataCodec } from '../draft14/data-codec.ts';
import { draft16DataCodec } from '../draft16/data-codec.ts';
import { draft18DataCodec } from '../draft18/data-codec.ts';
import type { IetfVersion } from '../version.ts';
import type { DataCodec } from './data-codec.ts';

export function dataCodec(version: IetfVersion): DataCodec {
  return version === 'draft-14' ? draft14DataCodec : version === 'draft-16' ? draft16DataCodec : draft18DataCodec;
}
