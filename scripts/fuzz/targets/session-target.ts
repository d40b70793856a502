/**
 * The raw-QUIC session target (src/moq/session-target.ts): the first bidi stream of a `moql` /
 * `moq-00` (draft-14 layout) or `moqt-16` (draft-16 layout) session, peeked for CLIENT_SETUP
 * and its PATH parameter, which becomes the session URL before auth runs.
 */
import { controlCodec } from '../../../src/moq/ietf/control-codec.ts';
import { rawQuicTarget } from '../../../src/moq/session-target.ts';
import { ProtocolError } from '../../../src/wire/errors.ts';
import { sinkStream, streamOf } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const base = new URL('https://127.0.0.1:4443/');

/** A session whose first incoming bidi stream carries `bytes`. */
function sessionOpeningWith(bytes: Uint8Array): WebTransport {
  const stream = { readable: streamOf(bytes), writable: sinkStream() };
  return {
    incomingBidirectionalStreams: new ReadableStream({ start: (controller) => controller.enqueue(stream) }),
    incomingUnidirectionalStreams: new ReadableStream(),
    close: () => {},
    createBidirectionalStream: async () => stream,
    createUnidirectionalStream: async () => sinkStream(),
  } as unknown as WebTransport;
}

export const sessionTargetTargets: FuzzTarget[] = (['draft-14', 'draft-16'] as const).map((layout) => ({
  name: `moq.raw-quic-setup-${layout.slice(-2)}`,
  seeds: ['/live?jwt=aaa.bbb.ccc', '/', undefined].map((path) =>
    controlCodec(layout).frame({ type: 'client_setup', versions: layout === 'draft-14' ? [0xff0dad02, 0xff00000e] : [], parameters: { authorizationTokens: [], path, maxRequestId: 10 } }),
  ),
  allowed: (error) => error instanceof ProtocolError,
  async run(bytes) {
    const target = await rawQuicTarget(sessionOpeningWith(bytes), layout === 'draft-16' ? 'moqt-16' : 'moql', base, 1000);
    if (target.url.origin !== base.origin) throw new Error(`PATH changed the origin to ${target.url.origin}`);
  },
}));
