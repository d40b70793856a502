/** The data-plane codec for a negotiated version. */
import { draft14DataCodec } from '../draft14/data-codec.ts';
import { draft16DataCodec } from '../draft16/data-codec.ts';
import { draft18DataCodec, draft19DataCodec } from '../draft18/data-codec.ts';
import type { IetfVersion } from '../version.ts';
import type { DataCodec } from './data-codec.ts';

export function dataCodec(version: IetfVersion): DataCodec {
  switch (version) {
    case 'draft-14':
      return draft14DataCodec;
    case 'draft-16':
      return draft16DataCodec;
    case 'draft-18':
      return draft18DataCodec;
    case 'draft-19':
      return draft19DataCodec;
  }
}
