/**
 * Version negotiation, client side (draft-lcurley-moq-lite Appendix A).
 *
 * - `moq-lite-03` / `moq-lite-04`: the protocol pins the version; nothing is sent.
 * - `moql` or no protocol: we open a bidi stream with type 0x20 and a draft-14 style
 *   CLIENT_SETUP (u16 length) offering lite-02 and lite-01; the server answers 0x21 and a
 *   SERVER_SETUP naming one. That stream stays open as the lite-01/02 session stream.
 */
import { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError } from '../../wire/errors.ts';
import { StreamReader } from '../../wire/stream-reader.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import { SERVER_IMPLEMENTATION } from './handshake.ts';
import type { RequestStream } from './request-stream.ts';
import { decodeServerSetup, encodeClientSetup } from './setup-compat.ts';
import { SetupParameter } from './setup-parameters.ts';
import { BidiStreamType, SERVER_SETUP_COMPAT } from './stream-type.ts';
import { isLiteVersion, LiteProtocol, SETUP_NEGOTIATED_VERSIONS, versionFromProtocol, type LiteVersion } from './version.ts';
import type { WebTransportLike } from './web-transport.ts';

const utf8 = new TextEncoder();

export interface ClientNegotiated {
  version: LiteVersion;
  /** lite-01/02: the SETUP stream, left open. */
  sessionStream?: RequestStream;
}

/**
 * The version for the negotiated protocol, running the `moql` SETUP when the protocol does not
 * pin one. `path` (raw QUIC only: the URI's path and query) goes in SETUP's PATH parameter.
 */
export async function negotiateAsClient(transport: WebTransportLike, protocol: string, maxMessageBytes: number, path?: string): Promise<ClientNegotiated> {
  const pinned = versionFromProtocol(protocol);
  if (pinned !== undefined) return { version: pinned };
  if (protocol !== LiteProtocol.Compat && protocol !== '') {
    throw new ProtocolError('unsupported-version', `protocol "${protocol}" is not moq-lite`);
  }
  const bidi = await transport.createBidirectionalStream();
  const stream: RequestStream = { reader: new StreamReader(bidi.readable), writer: new StreamWriter(bidi.writable) };
  const bytes = new Map<bigint, Uint8Array>([[SetupParameter.Implementation, utf8.encode(SERVER_IMPLEMENTATION)]]);
  if (path) bytes.set(SetupParameter.Path, utf8.encode(path));
  const setup = encodeClientSetup({ versions: [...SETUP_NEGOTIATED_VERSIONS], parameters: { varints: new Map(), bytes } });
  await stream.writer.write(new ByteWriter(setup.byteLength + 1).varint(BidiStreamType.ClientSetupCompat).bytes(setup).finish());
  const type = await stream.reader.varint();
  if (type !== SERVER_SETUP_COMPAT) {
    throw new ProtocolError('unexpected-message', `expected SERVER_SETUP (0x21), got stream type 0x${type.toString(16)}`);
  }
  const server = decodeServerSetup(await stream.reader.messageU16(maxMessageBytes));
  const chosen = server.version;
  if (!isLiteVersion(chosen) || !SETUP_NEGOTIATED_VERSIONS.includes(chosen)) {
    throw new ProtocolError('unsupported-version', `server chose version 0x${chosen.toString(16)}, which we did not offer`);
  }
  return { version: chosen, sessionStream: stream };
}
