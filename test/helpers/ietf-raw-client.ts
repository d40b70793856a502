/**
 * A bare IETF moq-transport peer for tests, built from the gateway's own codecs over a @moq/qmux
 * client session: it sends exactly the messages a test writes and exposes every control message
 * and data stream it receives, so tests can check wire-level details (extensions, object IDs).
 */
import Session from '@moq/qmux';
import { ByteWriter } from '../../src/wire/byte-writer.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';
import { controlCodec, type ControlCodec } from '../../src/moq/ietf/control-codec.ts';
import { dataCodec } from '../../src/moq/ietf/data/codecs.ts';
import { type DataCodec, FETCH_HEADER_TYPE } from '../../src/moq/ietf/data/data-codec.ts';
import type { DatagramObject, FetchObject, MoqObject, SubgroupHeader } from '../../src/moq/ietf/data/objects.ts';
import { encodeSubgroupHeader, encodeSubgroupObject, readSubgroupHeader, readSubgroupObject } from '../../src/moq/ietf/data/subgroup-stream.ts';
import type { ControlMessage } from '../../src/moq/ietf/messages.ts';
import { IETF_ALPN, IETF_VERSION_NUMBER, type IetfVersion, usesRequestStreams } from '../../src/moq/ietf/version.ts';
import { readControlMessage } from '../../src/moq/ietf/wire/control-framing.ts';

export interface ReceivedSubgroup {
  header: SubgroupHeader;
  objects: MoqObject[];
}

export interface RequestStream {
  messages: ControlMessage[];
  ended: boolean;
  writer: WritableStreamDefaultWriter<Uint8Array>;
}

/** draft-18: a request stream the server opened to us (its SUBSCRIBE / FETCH upstream). */
export interface IncomingRequest {
  request: ControlMessage;
  /** What followed on the stream; `ended` once the server finished or reset it. */
  stream: RequestStream;
}

export interface ReceivedFetch {
  requestId: number;
  objects: FetchObject[];
}

export class RawIetfClient {
  readonly codec: ControlCodec;
  readonly data: DataCodec;
  readonly received: ControlMessage[] = [];
  readonly subgroups: ReceivedSubgroup[] = [];
  readonly fetches: ReceivedFetch[] = [];
  /** OBJECT_DATAGRAMs received, decoded, in arrival order. */
  readonly datagrams: DatagramObject[] = [];
  /** draft-18: requests the server sent us, each on its own bidi stream. */
  readonly incoming: IncomingRequest[] = [];
  #writer!: WritableStreamDefaultWriter<Uint8Array>;
  #reader!: StreamReader;
  #changed: (() => void)[] = [];
  #nextRequestId = 0;
  /** stopReading(): data streams are no longer read (a viewer whose app stopped consuming). */
  #reading = true;
  closed = false;

  private constructor(
    readonly session: WebTransport,
    readonly version: IetfVersion,
  ) {
    this.codec = controlCodec(version);
    this.data = dataCodec(version);
  }

  /** Connects over WebSocket with `moqt-16` (draft-16) or `moql` (draft-14 via CLIENT_SETUP's version list). */
  static async connect(url: URL, version: IetfVersion, setup: { maxRequestId?: number; implementation?: string } = {}): Promise<RawIetfClient> {
    const protocol = version === 'draft-14' ? 'moql' : IETF_ALPN[version];
    const session = new Session(url, { protocols: [protocol], versions: { [protocol]: null }, requireProtocol: true });
    await session.ready;
    return RawIetfClient.over(session as unknown as WebTransport, version, setup);
  }

  /**
   * Runs on a session already connected (e.g. raw QUIC); `setup.path` goes in CLIENT_SETUP's PATH,
   * `setup.implementation` in MOQT IMPLEMENTATION (default `raw-test-client`).
   */
  static async over(session: WebTransport, version: IetfVersion, setup: { maxRequestId?: number; path?: string; implementation?: string } = {}): Promise<RawIetfClient> {
    const client = new RawIetfClient(session, version);
    if (usesRequestStreams(version)) {
      // draft-18 §3.3: each peer opens a uni control stream with SETUP; the server's arrives in #readUni.
      client.#writer = (await session.createUnidirectionalStream()).getWriter();
    } else {
      const control = await session.createBidirectionalStream();
      client.#writer = control.writable.getWriter();
      client.#reader = new StreamReader(control.readable);
    }
    await client.send({
      type: 'client_setup',
      versions: version === 'draft-14' ? [0xff0dad02, IETF_VERSION_NUMBER['draft-14']] : [],
      parameters: { authorizationTokens: [], maxRequestId: setup.maxRequestId ?? 100, implementation: setup.implementation ?? 'raw-test-client', path: setup.path },
    });
    if (!usesRequestStreams(version)) void client.#readControl();
    else void client.#acceptRequests();
    void client.#acceptUnis();
    void client.#readDatagrams();
    session.closed.then(
      () => client.#markClosed(),
      () => client.#markClosed(),
    );
    await client.next('server_setup');
    return client;
  }

  requestId(): number {
    const id = this.#nextRequestId;
    this.#nextRequestId += 2;
    return id;
  }

  async send(message: ControlMessage): Promise<void> {
    await this.#writer.write(this.codec.frame(message));
  }

  /** FIN on the control stream (a protocol violation, §3.3). */
  async finishControl(): Promise<void> {
    await this.#writer.close();
  }

  /** Raw bytes on the control stream (for malformed-input tests). */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    await this.#writer.write(bytes);
  }

  /** The first received control message of `type` (matching `where`), waiting for it. */
  async next<T extends ControlMessage['type']>(type: T, where: (message: Extract<ControlMessage, { type: T }>) => boolean = () => true, ms = 5000): Promise<Extract<ControlMessage, { type: T }>> {
    return this.until(() => this.received.find((m): m is Extract<ControlMessage, { type: T }> => m.type === type && where(m as Extract<ControlMessage, { type: T }>)), ms, `control message ${type}`);
  }

  /** Waits until `probe` returns a value. */
  async until<V>(probe: () => V | undefined, ms = 5000, what = 'condition'): Promise<V> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what} did not arrive`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 25);
        this.#changed.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** draft-16: opens a bidi request stream (SUBSCRIBE_NAMESPACE) and collects what comes back. */
  async openRequestStream(message: ControlMessage): Promise<RequestStream> {
    const stream = await this.session.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(this.codec.frame(message));
    const request: RequestStream = { messages: [], ended: false, writer };
    const reader = new StreamReader(stream.readable, this.data.integers);
    // draft-18 responses carry no Request ID: decode them with the request's.
    const requestId = 'requestId' in message && typeof message.requestId === 'number' ? message.requestId : 0;
    void (async () => {
      try {
        for (;;) {
          const raw = await readControlMessage(reader);
          if (!raw) break;
          request.messages.push(this.codec.decode(raw, requestId));
          this.#notify();
        }
      } catch {
        // Reset by the peer.
      }
      request.ended = true;
      this.#notify();
    })();
    return request;
  }

  /** Sends `message` on a request stream (a reply to an incoming request, or REQUEST_UPDATE). */
  async reply(stream: RequestStream, message: ControlMessage): Promise<void> {
    await stream.writer.write(this.codec.frame(message));
  }

  async #acceptRequests(): Promise<void> {
    const bidis = this.session.incomingBidirectionalStreams.getReader();
    for (;;) {
      const next = await bidis.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) return;
      const reader = new StreamReader(next.value.readable, this.data.integers);
      const writer = next.value.writable.getWriter();
      void (async () => {
        const raw = await readControlMessage(reader);
        if (!raw) return;
        const request = this.codec.decode(raw);
        const requestId = 'requestId' in request && typeof request.requestId === 'number' ? request.requestId : 0;
        const incoming: IncomingRequest = { request, stream: { messages: [], ended: false, writer } };
        this.incoming.push(incoming);
        this.#notify();
        try {
          for (let more = await readControlMessage(reader); more; more = await readControlMessage(reader)) {
            incoming.stream.messages.push(this.codec.decode(more, requestId));
            this.#notify();
          }
        } catch {
          // Reset by the server.
        }
        incoming.stream.ended = true;
        this.#notify();
      })().catch(() => undefined);
    }
  }

  /** Opens a subgroup stream and writes `objects` (then FIN unless `keepOpen`). */
  async publishSubgroup(header: SubgroupHeader, objects: MoqObject[], keepOpen = false): Promise<WritableStreamDefaultWriter<Uint8Array>> {
    const stream = await this.session.createUnidirectionalStream();
    const writer = stream.getWriter();
    await writer.write(encodeSubgroupHeader(header, this.data));
    let previous: number | undefined;
    for (const object of objects) {
      await writer.write(encodeSubgroupObject(header, object, previous, this.data));
      previous = object.objectId;
    }
    if (!keepOpen) await writer.close();
    return writer;
  }

  /** Answers a FETCH with `objects` on a fetch stream. */
  async publishFetch(requestId: number, objects: FetchObject[]): Promise<void> {
    const stream = await this.session.createUnidirectionalStream();
    const writer = stream.getWriter();
    const out = new ByteWriter(64, this.data.integers).varint(FETCH_HEADER_TYPE).varint(requestId);
    let previous: FetchObject | undefined;
    for (const object of objects) {
      this.data.writeFetchObject(out, object, previous);
      previous = object;
    }
    await writer.write(out.finish());
    await writer.close();
  }

  close(): void {
    this.session.close();
  }

  /**
   * Stops reading data streams, as a player that froze would: their bytes stay unread in the
   * transport, so its flow-control credit is never given back and the sender backs up.
   */
  stopReading(): void {
    this.#reading = false;
  }

  #markClosed(): void {
    this.closed = true;
    this.#notify();
  }

  #notify(): void {
    const waiters = this.#changed;
    this.#changed = [];
    for (const wake of waiters) wake();
  }

  async #readControl(): Promise<void> {
    try {
      for (;;) {
        const raw = await readControlMessage(this.#reader);
        if (!raw) return;
        this.received.push(this.codec.decode(raw));
        this.#notify();
      }
    } catch {
      // Session over.
    }
  }

  async #readDatagrams(): Promise<void> {
    const reader = this.session.datagrams.readable.getReader();
    try {
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        this.datagrams.push(this.data.decodeDatagram(next.value));
        this.#notify();
      }
    } catch {
      // Session over.
    }
  }

  async #acceptUnis(): Promise<void> {
    const unis = this.session.incomingUnidirectionalStreams.getReader();
    for (;;) {
      const next = await unis.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done || !this.#reading) return;
      void this.#readUni(next.value).catch(() => undefined);
    }
  }

  async #readUni(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = new StreamReader(stream, this.data.integers);
    const type = await reader.varint();
    if (usesRequestStreams(this.version) && type === 0x2f00) {
      // The server's control stream: SETUP (read as the peer's setup), then control messages.
      const setup = this.codec.decode({ type, body: await reader.messageU16() });
      if (setup.type === 'client_setup') this.received.push({ type: 'server_setup', parameters: setup.parameters });
      this.#notify();
      this.#reader = reader;
      return this.#readControl();
    }
    if (type === FETCH_HEADER_TYPE) {
      const fetch: ReceivedFetch = { requestId: await reader.varint(), objects: [] };
      this.fetches.push(fetch);
      let previous: FetchObject | undefined;
      for (;;) {
        const object = await this.data.readFetchObject(reader, previous, 1 << 24);
        if (!object) break;
        if ('endOfRange' in object) continue;
        previous = object;
        fetch.objects.push(object);
        this.#notify();
      }
      return;
    }
    const header = await readSubgroupHeader(reader, type, this.data);
    const received: ReceivedSubgroup = { header, objects: [] };
    this.subgroups.push(received);
    let previous: number | undefined;
    while (this.#reading) {
      const object = await readSubgroupObject(reader, header, previous, this.data, 1 << 24);
      if (!object) break;
      previous = object.objectId;
      received.objects.push(object);
      this.#notify();
    }
    this.#notify();
  }
}
