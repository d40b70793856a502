import { createRequire } from 'node:module';
import { RtmpProtocolError } from './errors.ts';

/**
 * AMF0 command and data messages (RTMP 1.0, 7.1.1-7.1.2), decoded with node-media-server 4.4's
 * AMF0 codec (src/protocol/amf.js) and narrowed here to plain typed values.
 *
 * Its decoder was not written for hostile input: on garbage it throws RangeError/TypeError or
 * returns partial objects, and object keys are assigned blindly (a `__proto__` key replaces
 * the object's prototype). So every call is wrapped, failures become RtmpProtocolError, and
 * fields are read as own properties only.
 */

interface NmsAmf {
  decodeAmf0Cmd(payload: Buffer): Record<string, unknown>;
  decodeAmf0Data(payload: Buffer): Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const nmsAmf = require('node-media-server/src/protocol/amf.js') as NmsAmf;

export interface RtmpCommand {
  /** Command name: connect, createStream, publish, play, deleteStream, ... */
  name: string;
  transactionId: number;
  /** The command object (connect's properties), or null. */
  commandObject: Record<string, unknown> | null;
  /** publish/play: the stream name argument, when it is a string. */
  streamName?: string;
}

/** Own property of a decoded AMF object, never one inherited through a forged prototype. */
export function ownField(object: Record<string, unknown> | null | undefined, key: string): unknown {
  return object != null && Object.hasOwn(object, key) ? object[key] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const AMF0_STRING_MARKER = 0x02;

function decodeWith(decode: (payload: Buffer) => Record<string, unknown>, payload: Buffer, what: string): Record<string, unknown> {
  // Commands and data messages open with their name, an AMF0 string (RTMP 1.0, 7.1.1-7.1.2).
  // Checking it first also spares the log node-media-server prints to stdout on an unknown marker.
  if (payload[0] !== AMF0_STRING_MARKER) throw new RtmpProtocolError(`AMF0 ${what} does not start with a string name`);
  let decoded: unknown;
  try {
    decoded = decode(payload);
  } catch (error) {
    throw new RtmpProtocolError(`malformed AMF0 ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isRecord(decoded)) throw new RtmpProtocolError(`malformed AMF0 ${what}`);
  return decoded;
}

/**
 * Decode an AMF0 command message body (type 20; for type 17 the caller strips the leading
 * AMF3 format byte). Throws RtmpProtocolError.
 */
export function decodeCommand(payload: Buffer): RtmpCommand {
  const fields = decodeWith((p) => nmsAmf.decodeAmf0Cmd(p), payload, 'command');
  const name = ownField(fields, 'cmd');
  if (typeof name !== 'string' || name.length === 0) throw new RtmpProtocolError('AMF0 command without a name');
  const transId = ownField(fields, 'transId');
  const cmdObj = ownField(fields, 'cmdObj');
  const streamName = ownField(fields, 'streamName');
  return {
    name,
    transactionId: typeof transId === 'number' && Number.isFinite(transId) ? transId : 0,
    commandObject: isRecord(cmdObj) ? cmdObj : null,
    ...(typeof streamName === 'string' ? { streamName } : {}),
  };
}

/**
 * The onMetaData object of a data message (`@setDataFrame onMetaData {...}` from encoders, or
 * a bare `onMetaData {...}`); null for other data messages. Throws RtmpProtocolError.
 */
export function decodeMetadata(payload: Buffer): Record<string, unknown> | null {
  const fields = decodeWith((p) => nmsAmf.decodeAmf0Data(p), payload, 'data message');
  const cmd = ownField(fields, 'cmd');
  const isMetadata = cmd === 'onMetaData' || (cmd === '@setDataFrame' && ownField(fields, 'method') === 'onMetaData');
  const data = ownField(fields, 'dataObj');
  return isMetadata && isRecord(data) ? data : null;
}
