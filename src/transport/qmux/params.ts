/**
 * QX_TRANSPORT_PARAMETERS (QMux §Transport Parameters; RFC 9000 §18.2 ids), as @moq/qmux 0.3.3
 * encodes and validates them: zero values are omitted, a repeated known id, a QUIC v1 parameter
 * QMux forbids, application_protocols (WebSocket negotiates the protocol itself) or a non-empty
 * reset_stream_at is a TRANSPORT_PARAMETER_ERROR; unknown ids are skipped.
 */
import { ProtocolError } from '../../wire/errors.ts';
import { varintLength, writeVarint } from '../../wire/varint.ts';
import { FrameReader } from './reader.ts';

export interface TransportParameters {
  /** Milliseconds, 0 = none. */
  maxIdleTimeout: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  maxDatagramFrameSize: number;
  maxRecordSize: number;
  /** Accepts RESET_STREAM_AT (advertised on qmux-02 only). */
  resetStreamAt: boolean;
}

/** QMux draft-01 default and minimum max_record_size. */
export const DEFAULT_MAX_RECORD_SIZE = 16382;

/** What a peer that sent no parameter has. */
export const DEFAULT_PARAMETERS: TransportParameters = {
  maxIdleTimeout: 0,
  initialMaxData: 0,
  initialMaxStreamDataBidiLocal: 0,
  initialMaxStreamDataBidiRemote: 0,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsBidi: 0,
  initialMaxStreamsUni: 0,
  maxDatagramFrameSize: 0,
  maxRecordSize: DEFAULT_MAX_RECORD_SIZE,
  resetStreamAt: false,
};

const MAX_RECORD_SIZE_ID = 0x0571c59429cd0845n;
const APPLICATION_PROTOCOLS_ID = 0x3d4f9c2a8b1e6075n;
const RESET_STREAM_AT_ID = 0x1dn;

type NumericKey = Exclude<keyof TransportParameters, 'resetStreamAt'>;
const IDS: ReadonlyArray<readonly [bigint, NumericKey]> = [
  [0x01n, 'maxIdleTimeout'],
  [0x04n, 'initialMaxData'],
  [0x05n, 'initialMaxStreamDataBidiLocal'],
  [0x06n, 'initialMaxStreamDataBidiRemote'],
  [0x07n, 'initialMaxStreamDataUni'],
  [0x08n, 'initialMaxStreamsBidi'],
  [0x09n, 'initialMaxStreamsUni'],
  [0x20n, 'maxDatagramFrameSize'],
  [MAX_RECORD_SIZE_ID, 'maxRecordSize'],
];
const KEY_OF = new Map<bigint, NumericKey>(IDS);

export function encodeTransportParameters(params: TransportParameters): Uint8Array {
  const parts: Array<number | bigint> = [];
  for (const [id, key] of IDS) {
    const value = params[key];
    if (value === 0) continue;
    parts.push(id, varintLength(value), value);
  }
  if (params.resetStreamAt) parts.push(RESET_STREAM_AT_ID, 0);
  let length = 0;
  for (const v of parts) length += varintLength(v);
  const out = new Uint8Array(length);
  let at = 0;
  for (const v of parts) at = writeVarint(out, at, v);
  return out;
}

const paramError = (message: string): ProtocolError => new ProtocolError('invalid-value', `transport parameters: ${message}`);

export function decodeTransportParameters(bytes: Uint8Array): TransportParameters {
  const params = { ...DEFAULT_PARAMETERS };
  const seen = new Set<bigint>();
  const r = new FrameReader(bytes);
  while (r.remaining > 0) {
    const id = r.big('parameter id');
    const value = r.take(r.number('parameter length'), 'parameter value');
    const key = KEY_OF.get(id);
    const known = key !== undefined || id === APPLICATION_PROTOCOLS_ID || id === RESET_STREAM_AT_ID;
    if (known) {
      if (seen.has(id)) throw paramError(`duplicate parameter 0x${id.toString(16)}`);
      seen.add(id);
    }
    if (id === APPLICATION_PROTOCOLS_ID) throw paramError('application_protocols is not allowed over WebSocket');
    if (id === RESET_STREAM_AT_ID) {
      if (value.byteLength !== 0) throw paramError('reset_stream_at must be empty');
      params.resetStreamAt = true;
      continue;
    }
    // QUIC v1 parameters QMux does not allow.
    if (id === 0x00n || id === 0x02n || id === 0x03n || (id >= 0x0an && id <= 0x10n)) throw paramError(`forbidden parameter 0x${id.toString(16)}`);
    if (key === undefined) continue;
    const inner = new FrameReader(value);
    params[key] = inner.limit(key);
    if (inner.remaining !== 0) throw paramError(`trailing bytes in 0x${id.toString(16)}`);
  }
  return params;
}
