/**
 * Version negotiation, server side.
 *
 * - `moq-lite-03` / `moq-lite-04`: the protocol pins the version; there is no SETUP.
 * - `moql` / '': the client's first bidi stream carries the setup, either the compat form
 *   (type 0x20 + draft-14 CLIENT_SETUP with a u16 length; we answer 0x21 + SERVER_SETUP) or the
 *   native lite-01/02 form (type 0 + SESSION_CLIENT; we answer SESSION_SERVER). The stream then
 *   stays open as the lite-01/02 session stream (SESSION_INFO may follow).
 */
import { ByteWriter } from '../../wire/byte-writer.ts';
import { ProtocolError } from '../../wire/errors.ts';
import { StreamReader } from '../../wire/stream-reader.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import { chooseVersion, decodeClientSetup, encodeServerSetup } from './setup-compat.ts';
import { SetupParameter } from './setup-parameters.ts';
import { decodeSessionClient, encodeSessionServer } from './session-setup.ts';
import { BidiStreamType, SERVER_SETUP_COMPAT } from './stream-type.ts';
import { SETUP_NEGOTIATED_VERSIONS, type LiteVersion } from './version.ts';
import type { BidirectionalStream } from './web-transport.ts';

export const SERVER_IMPLEMENTATION = 'moq-gateway';

export interface Negotiated {
  version: LiteVersion;
  /** lite-01/02 session stream, left open after SETUP. */
  sessionStream?: { reader: StreamReader; writer: StreamWriter };
}

/** Reads the client's SETUP from its first bidi stream and answers it. */
export async function answerSetup(stream: BidirectionalStream, maxMessageBytes: number): Promise<Negotiated> {
  const reader = new StreamReader(stream.readable);
  const writer = new StreamWriter(stream.writable);
  const type = await reader.varint();
  if (type === BidiStreamType.ClientSetupCompat) {
    return answerCompat(decodeClientSetup(await reader.messageU16(maxMessageBytes)).versions, reader, writer);
  }
  if (type === BidiStreamType.Session) {
    const client = decodeSessionClient(await reader.message(maxMessageBytes));
    const version = pick(client.versions);
    await writer.write(encodeSessionServer({ version, extensions: new Map() }));
    return { version, sessionStream: { reader, writer } };
  }
  throw new ProtocolError('unknown-stream-type', `expected SETUP (0x20 or 0x0) on the first stream, got 0x${type.toString(16)}`);
}

/**
 * A compat CLIENT_SETUP the gateway already read and decoded (src/moq/setup-peek.ts: the `moql`
 * peek decides moq-lite or IETF from it): answered on its stream, `reader` positioned after it.
 */
export interface ReadClientSetup {
  versions: readonly number[];
  reader: StreamReader;
  writable: WritableStream<Uint8Array>;
}

export function answerReadSetup(setup: ReadClientSetup): Promise<Negotiated> {
  return answerCompat(setup.versions, setup.reader, new StreamWriter(setup.writable));
}

async function answerCompat(offered: readonly number[], reader: StreamReader, writer: StreamWriter): Promise<Negotiated> {
  const version = pick(offered);
  const reply = new ByteWriter().varint(SERVER_SETUP_COMPAT).bytes(
    encodeServerSetup({
      version,
      parameters: {
        varints: new Map(),
        bytes: new Map([[SetupParameter.Implementation, new TextEncoder().encode(SERVER_IMPLEMENTATION)]]),
      },
    }),
  );
  await writer.write(reply.finish());
  return { version, sessionStream: { reader, writer } };
}

function pick(offered: readonly number[]): LiteVersion {
  const version = chooseVersion(offered, SETUP_NEGOTIATED_VERSIONS);
  if (version === undefined) {
    const list = offered.map((v) => `0x${v.toString(16)}`).join(', ');
    throw new ProtocolError('unsupported-version', `no common moq-lite version in [${list}]`);
  }
  return version;
}
