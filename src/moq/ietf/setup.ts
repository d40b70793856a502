/**
 * The CLIENT_SETUP / SERVER_SETUP exchange on the control stream (draft-16 §9.3, draft-14 §9.3).
 *
 * The gateway's shared `moql` / no-protocol path reads CLIENT_SETUP before it knows whether the
 * client wants moq-lite or IETF draft-14: it calls `readClientSetup(stream)` (draft-14 layout, with
 * the version list), picks a version from `message.versions`, and — for 0xff00000e — hands the
 * result to serveIetfSession as `setup`, reader and all, so no buffered byte is lost.
 */
import { StreamReader } from '../../wire/stream-reader.ts';
import { controlCodec } from './control-codec.ts';
import { IetfProtocolError, SessionErrorCode, violation } from './errors.ts';
import type { ClientSetup } from './messages.ts';
import type { ReceivedClientSetup } from './session/options.ts';
import type { IetfVersion } from './version.ts';
import { readControlMessage } from './wire/control-framing.ts';

/** CLIENT_SETUP's message type in every draft this gateway speaks (§9.3). */
const CLIENT_SETUP_TYPE = 0x20;

/**
 * Reads CLIENT_SETUP from a client-opened bidi stream. `layout` picks the body format: draft-14
 * (versions + parameters, also used by `moql`) or draft-16 (parameters only). Throws ProtocolError
 * when the stream does not start with a well-formed CLIENT_SETUP.
 */
export async function readClientSetup(stream: WebTransportBidirectionalStream, layout: IetfVersion = 'draft-14'): Promise<ReceivedClientSetup> {
  const reader = new StreamReader(stream.readable);
  const message = await readClientSetupFrom(reader, layout);
  return { stream, reader, message };
}

export async function readClientSetupFrom(reader: StreamReader, layout: IetfVersion): Promise<ClientSetup> {
  const raw = await readControlMessage(reader);
  if (!raw) throw violation('control stream ended before CLIENT_SETUP', 'unexpected-end');
  if (raw.type !== CLIENT_SETUP_TYPE) throw violation(`control stream starts with message 0x${raw.type.toString(16)}, not CLIENT_SETUP`, 'unexpected-message');
  const message = controlCodec(layout).decode(raw);
  if (message.type !== 'client_setup') throw violation('expected CLIENT_SETUP', 'unexpected-message');
  return message;
}

/** Throws VERSION_NEGOTIATION_FAILED when a draft-14 client did not offer draft-14 (§9.3.1). */
export function checkOfferedVersion(setup: ClientSetup, version: IetfVersion, versionNumber: number): void {
  if (version !== 'draft-14') return;
  if (!setup.versions.includes(versionNumber)) {
    throw new IetfProtocolError(SessionErrorCode.versionNegotiationFailed, `client offered no supported version (${setup.versions.map((v) => `0x${v.toString(16)}`).join(', ')})`);
  }
}
