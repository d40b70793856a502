import { controlCodec } from './ietf/control-codec.ts';
import type { IetfVersion } from './ietf/version.ts';
import { decodeVarintAt, varintLengthFromFirstByte } from '../wire/varint.ts';
import { ProtocolError } from '../wire/errors.ts';
import { canOpenPushStreams } from '../transport/push-stream.ts';
import { StreamReader } from '../wire/stream-reader.ts';
import type { ClientSetup } from './ietf/messages.ts';
import type { ReceivedClientSetup } from './ietf/index.ts';

/** CLIENT_SETUP's message type (draft-ietf-moq-transport-14 and -16 §9.3). */
const CLIENT_SETUP = 0x20;
const MAX_SETUP_BYTES = 64 * 1024;

export interface PeekedSetup {
  /** The versions a CLIENT_SETUP offered, or undefined when the first stream is not one. */
  versions: number[] | undefined;
  /** Its PATH parameter (§9.3.2: the URI's path and query, on raw QUIC only), if sent. */
  path: string | undefined;
  /** The CLIENT_SETUP itself; undefined when the first stream opens with something else. */
  setup: ReceivedClientSetup | undefined;
  /**
   * The same session for whoever runs it next: without its first bidi stream when `setup` holds
   * it, else with that stream's bytes replayed unchanged (a lite-01/02 native SETUP).
   */
  transport: WebTransport;
}

/**
 * Reads the CLIENT_SETUP a session opens with, once. On `moql` (or no protocol), moq-lite and
 * IETF draft-14 clients both open with a draft-14 CLIENT_SETUP and the version list decides who
 * serves the session; on raw QUIC the PATH parameter names the session root and carries the
 * token. `layout` is the body format: draft-14 (versions, then parameters) or draft-16
 * (parameters only). Reads just enough of the first bidi stream to decode it and hands the
 * decoded message on with the stream, so the session that answers it does not parse it again.
 */
export async function peekClientSetup(transport: WebTransport, timeoutMs: number, layout: IetfVersion = 'draft-14'): Promise<PeekedSetup> {
  const streams = transport.incomingBidirectionalStreams.getReader();
  const timer = setTimeout(() => transport.close({ closeCode: 0x10, reason: 'no SETUP in time' }), timeoutMs);
  try {
    const first = await streams.read();
    if (first.done) throw new ProtocolError('unexpected-end', 'the session ended before SETUP');
    const bytes = first.value.readable.getReader();
    let buffered: Uint8Array = new Uint8Array(0);
    let needed = 1;
    let message: ClientSetup | undefined;
    let end = 0;
    for (;;) {
      while (buffered.byteLength < needed) {
        const chunk = await bytes.read();
        if (chunk.done) throw new ProtocolError('unexpected-end', 'the stream ended inside SETUP');
        buffered = concat(buffered, chunk.value);
      }
      const typeLength = varintLengthFromFirstByte(buffered[0]!);
      if (buffered.byteLength < typeLength) {
        needed = typeLength;
        continue;
      }
      if (decodeVarintAt(buffered, 0) !== CLIENT_SETUP) break; // not a compat SETUP: lite decides
      if (buffered.byteLength < typeLength + 2) {
        needed = typeLength + 2;
        continue;
      }
      const length = (buffered[typeLength]! << 8) | buffered[typeLength + 1]!;
      if (length > MAX_SETUP_BYTES) throw new ProtocolError('message-too-large', `CLIENT_SETUP of ${length} bytes`);
      end = typeLength + 2 + length;
      if (buffered.byteLength < end) {
        needed = end;
        continue;
      }
      const decoded = controlCodec(layout).decode({ type: CLIENT_SETUP, body: buffered.subarray(typeLength + 2, end) });
      if (decoded.type === 'client_setup') message = decoded;
      break;
    }
    if (!message) {
      return { versions: undefined, path: undefined, setup: undefined, transport: withIncoming(transport, streams, { readable: replay(buffered, bytes), writable: first.value.writable }) };
    }
    const stream = { readable: replay(buffered.subarray(end), bytes), writable: first.value.writable } as unknown as WebTransportBidirectionalStream;
    return {
      versions: message.versions,
      path: message.parameters.path,
      setup: { message, stream, reader: new StreamReader(stream.readable) },
      transport: withIncoming(transport, streams),
    };
  } finally {
    clearTimeout(timer);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/** A stream that yields `head`, then whatever is left in `rest`. */
function replay(head: Uint8Array, rest: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.byteLength > 0) controller.enqueue(head);
    },
    async pull(controller) {
      const next = await rest.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return rest.cancel(reason);
    },
  });
}

/**
 * The same session whose incoming bidi streams are the `remaining` ones, with `first` (when
 * given) put back in front. Everything else delegates (bound: transports keep private state on
 * the original object).
 */
function withIncoming(
  transport: WebTransport,
  remaining: ReadableStreamDefaultReader<WebTransportBidirectionalStream>,
  first?: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
): WebTransport {
  const incoming = new ReadableStream<WebTransportBidirectionalStream>({
    start(controller) {
      if (first) controller.enqueue(first as unknown as WebTransportBidirectionalStream);
    },
    async pull(controller) {
      const next = await remaining.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return remaining.cancel(reason);
    },
  });
  const delegate = {
    get ready() {
      return transport.ready;
    },
    get closed() {
      return transport.closed;
    },
    get datagrams() {
      return transport.datagrams;
    },
    get incomingUnidirectionalStreams() {
      return transport.incomingUnidirectionalStreams;
    },
    incomingBidirectionalStreams: incoming,
    get protocol() {
      return (transport as unknown as { protocol?: string }).protocol ?? '';
    },
    close: transport.close.bind(transport),
    createBidirectionalStream: transport.createBidirectionalStream.bind(transport),
    createUnidirectionalStream: transport.createUnidirectionalStream.bind(transport),
    // The fan-out push path (transport/push-stream.ts), where the transport has one.
    ...(canOpenPushStreams(transport) ? { openPushStream: transport.openPushStream.bind(transport) } : {}),
  };
  return delegate as unknown as WebTransport;
}
