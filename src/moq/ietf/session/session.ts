/**
 * One IETF moq-transport session over any WebTransport-shaped transport (native, @moq/qmux over
 * WebSocket, our QUIC stack). Owns the control stream, request IDs and the stream/datagram loops,
 * and dispatches each control message to the handler for it; the handlers talk to the relay.
 *
 * Any ProtocolError from a decoder or handler closes the session with its termination code
 * (§3.4); nothing the peer sends can throw past this class.
 */
import type { Origin } from '../../../relay/origin.ts';
import { ProtocolError, StreamAbortedError } from '../../../wire/errors.ts';
import { StreamReader } from '../../../wire/stream-reader.ts';
import { type ControlCodec, controlCodec } from '../control-codec.ts';
import { dataCodec } from '../data/codecs.ts';
import { type DataCodec, FETCH_HEADER_TYPE } from '../data/data-codec.ts';
import { readSubgroupHeader } from '../data/subgroup-stream.ts';
import { EgressFetches } from '../egress/fetches.ts';
import { NamespaceSubscriptions } from '../egress/namespaces.ts';
import { CONTROL_SEND_ORDER } from '../egress/send-order.ts';
import { EgressSubscriptions } from '../egress/subscriptions.ts';
import { answerTrackStatus } from '../egress/track-status.ts';
import { IetfProtocolError, SessionErrorCode, sessionCodeOf, StreamResetCode, violation } from '../errors.ts';
import { InboundAliases } from '../ingest/aliases.ts';
import { DatagramReceiver } from '../ingest/datagram-receiver.ts';
import { receiveFetch } from '../ingest/fetch-receiver.ts';
import { FetchRoutes } from '../ingest/fetch-routes.ts';
import { IngestPublishers } from '../ingest/publishers.ts';
import { receiveSubgroup } from '../ingest/subgroup-receiver.ts';
import { DEFAULT_MAX_OBJECT_BYTES } from '../limits.ts';
import { type IetfMediaBridge, type IetfPeer, passthroughBridge } from '../media-bridge.ts';
import type { ClientSetup, ControlMessage } from '../messages.ts';
import { checkOfferedVersion, readClientSetupFrom } from '../setup.ts';
import { IETF_VERSION_NUMBER, type IetfVersion, usesRequestStreams } from '../version.ts';
import { Draft18MessageType } from '../draft18/control-codec.ts';
import { requestError } from './replies.ts';
import type { AuthToken } from '../wire/token.ts';
import { AuthTokenCache, isAuthorized } from './authorization.ts';
import { emptyCounters, type IetfSessionCounters } from './counters.ts';
import type { AuthorizationResult, SessionContext, SessionTuning } from './context.ts';
import { MessageStream } from './message-stream.ts';
import type { StructuredLogger } from '../../../logger.ts';
import type { AuthorizeAction, IetfSessionCloseInfo, IetfSessionStats, ServeIetfSessionOptions, SessionHandle } from './options.ts';
import { SendBudget } from '../../send-budget.ts';
import { StallWatch } from '../../stall-watch.ts';
import { OutboundRequests } from './outbound-requests.ts';
import { type PeerQuirks, peerQuirks } from './peer.ts';
import { InboundRequestIds, OutboundRequestIds } from './request-ids.ts';
import { streamError } from './stream-error.ts';
import { withTimeout } from './timers.ts';

const DEFAULT_SETUP_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_ID_WINDOW = 128;
/** @moq/net waits 10 s for a SUBSCRIBE answer too. */
const DEFAULT_UPSTREAM_RESPONSE_TIMEOUT_MS = 10_000;
/** MAX_AUTH_TOKEN_CACHE_SIZE we advertise (§9.3.2.4). */
const AUTH_TOKEN_CACHE_BYTES = 8 * 1024;
/** A data stream must deliver its header within this (§3.4 DATA_STREAM_TIMEOUT, applied per stream). */
const STREAM_HEADER_TIMEOUT_MS = 10_000;
const DEFAULT_SUBSCRIBER_QUEUE_BYTES = 4 * 1024 * 1024;
const DEFAULT_VIEWER_STALL_TIMEOUT_MS = 30_000;

export class IetfSession implements SessionContext, SessionHandle {
  readonly version: IetfVersion;
  peer: IetfPeer;
  quirks: PeerQuirks;
  codec: ControlCodec;
  readonly data: DataCodec;
  readonly origin: Origin;
  readonly root: string;
  readonly logger: StructuredLogger;
  readonly media: IetfMediaBridge;
  readonly tuning: SessionTuning;
  readonly counters: IetfSessionCounters = emptyCounters();
  readonly budget: SendBudget;
  readonly ended: Promise<void>;
  readonly closed: Promise<IetfSessionCloseInfo>;
  #markEnded!: (info: IetfSessionCloseInfo) => void;
  readonly #stallWatch: StallWatch;
  #isClosed = false;
  #control: MessageStream | undefined;
  #datagramWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #options: ServeIetfSessionOptions;
  readonly #inbound: InboundRequestIds;
  #outboundIds = new OutboundRequestIds(0);
  readonly #outbound = new OutboundRequests();
  readonly #authTokens = new AuthTokenCache(AUTH_TOKEN_CACHE_BYTES);
  #sessionTokens: Uint8Array[] = [];
  #goawayReceived = false;
  readonly #aliases = new InboundAliases();
  readonly #fetchRoutes = new FetchRoutes();
  readonly #subscriptions: EgressSubscriptions;
  readonly #fetches: EgressFetches;
  readonly #namespaces: NamespaceSubscriptions;
  readonly #publishers: IngestPublishers;
  /** draft-18: the bidi stream of each open request, by Request ID (responses go there, §3.3). */
  readonly #requestStreams = new Map<number, MessageStream>();
  /** draft-18: the request IDs among them that are ours (upstream SUBSCRIBE / FETCH). */
  readonly #ownRequests = new Set<number>();
  /** draft-18: the peer's control stream (its SETUP), delivered by the uni stream loop. */
  #peerControl: ((control: { reader: StreamReader; message: ClientSetup }) => void) | undefined;
  readonly #peerControlArrived = new Promise<{ reader: StreamReader; message: ClientSetup }>((resolve) => {
    this.#peerControl = resolve;
  });

  constructor(
    readonly transport: WebTransport,
    options: ServeIetfSessionOptions,
  ) {
    this.#options = options;
    this.version = options.version;
    this.peer = { version: options.version, implementation: undefined };
    this.quirks = peerQuirks(this.peer);
    this.codec = controlCodec(options.version);
    this.data = dataCodec(options.version);
    this.origin = options.origin;
    this.root = options.root;
    this.logger = options.logger;
    this.media = options.media ?? passthroughBridge;
    this.tuning = {
      maxObjectBytes: options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
      largestObjectJoinsGroup: options.largestObjectJoinsGroup ?? false,
      aliasWaitMs: 2_000,
      catalogProbeMs: 1_500,
      maxGroupStreams: 8,
    };
    this.#inbound = new InboundRequestIds(options.requestIdWindow ?? DEFAULT_REQUEST_ID_WINDOW, options.requestIdWindow ?? DEFAULT_REQUEST_ID_WINDOW);
    this.closed = new Promise<IetfSessionCloseInfo>((resolve) => {
      this.#markEnded = resolve;
    });
    this.ended = this.closed.then(() => undefined);
    this.budget = new SendBudget(options.subscriberQueueBytes ?? DEFAULT_SUBSCRIBER_QUEUE_BYTES);
    // A subscriber whose transport took nothing that long while bytes waited for it is closed,
    // releasing all it holds. No termination code means "too slow" (§3.4 leaves the choice to
    // the implementation), so INTERNAL_ERROR with the reason.
    this.#stallWatch = new StallWatch(this.budget, options.viewerStallTimeoutMs ?? DEFAULT_VIEWER_STALL_TIMEOUT_MS, (stall) => {
      if (this.#isClosed) return;
      this.logger.warn({ queuedBytes: stall.queuedBytes, stalledMs: stall.stalledMs, reason: stall.reason }, 'viewer stalled; closing session');
      this.close(SessionErrorCode.internalError, stall.reason);
    });
    this.#subscriptions = new EgressSubscriptions(this);
    this.#fetches = new EgressFetches(this, this.#subscriptions);
    this.#namespaces = new NamespaceSubscriptions(this, this.#outbound);
    this.#publishers = new IngestPublishers({
      ctx: this,
      aliases: this.#aliases,
      outbound: this.#outbound,
      fetches: this.#fetchRoutes,
      translator: () => this.media.ingestTranslator(this.tuning.catalogProbeMs),
      responseTimeoutMs: options.upstreamResponseTimeoutMs ?? DEFAULT_UPSTREAM_RESPONSE_TIMEOUT_MS,
    });
    void this.transport.closed.then(
      (info) => this.#shutdown(info?.closeCode ?? SessionErrorCode.noError, info?.reason || 'transport closed'),
      () => this.#shutdown(SessionErrorCode.internalError, 'transport failed'),
    );
  }

  start(): void {
    void this.#run().catch((error: unknown) => this.fail(error));
  }

  isClosed(): boolean {
    return this.#isClosed;
  }

  // --- SessionContext ---

  send(message: ControlMessage): void {
    if (this.#isClosed || !this.#control) return;
    if (usesRequestStreams(this.version) && this.#sendOnRequestStream(message)) return;
    // A control write fails only when the stream or transport is gone: end quietly.
    this.#control.send(message).catch((error: unknown) => this.fail(new StreamAbortedError('control stream write failed', { cause: error })));
  }

  sendDatagram(datagram: Uint8Array): boolean {
    const writable = this.transport.datagrams?.writable;
    if (this.#isClosed || !writable) return false;
    // One writer for the session: a WritableStream takes a single writer at a time.
    this.#datagramWriter ??= writable.getWriter();
    const writer = this.#datagramWriter;
    if (writer.desiredSize !== null && writer.desiredSize <= 0) return false;
    writer.write(datagram).catch(() => undefined);
    return true;
  }

  fail(error: unknown): void {
    if (this.#isClosed) return;
    if (error instanceof StreamAbortedError) return this.close(SessionErrorCode.noError, 'transport closed');
    const code = sessionCodeOf(error);
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof ProtocolError) this.logger.warn({ code, reason }, 'closing IETF session: protocol violation');
    else this.logger.error({ code, reason, stack: error instanceof Error ? error.stack : undefined }, 'closing IETF session: internal error');
    this.close(code, reason);
  }

  nextRequestId(): Promise<number | undefined> {
    return this.#outboundIds.next((max) => this.send({ type: 'requests_blocked', maxRequestId: max }));
  }

  async authorize(action: AuthorizeAction, path: string, tokens: readonly AuthToken[]): Promise<AuthorizationResult> {
    const resolved = this.#authTokens.resolve(tokens);
    if (resolved.unknownAlias) return 'unauthorized';
    const allowed = await isAuthorized(this.#options.authorize, action, path, resolved.values, this.#sessionTokens);
    return allowed ? 'ok' : 'unauthorized';
  }

  // --- SessionHandle ---

  stats(): IetfSessionStats {
    return { ...this.counters, queuedBytes: this.budget.queuedBytes, peakQueuedBytes: this.budget.peakQueuedBytes, stalled: this.#stallWatch.stall ? 1 : 0 };
  }

  close(code: number, reason: string): void {
    if (this.#isClosed) return;
    try {
      this.transport.close({ closeCode: code, reason: truncate(reason) });
    } catch {
      // Already closed underneath us.
    }
    this.#shutdown(code, reason);
  }

  /** GOAWAY (§9.4): asks the client to move to `uri` (or reconnect here when empty). */
  goAway(uri = ''): void {
    this.send({ type: 'goaway', uri });
  }

  // --- setup and loops ---

  async #run(): Promise<void> {
    if (usesRequestStreams(this.version)) return this.#runRequestStreams();
    const bidis = this.transport.incomingBidirectionalStreams.getReader();
    const setup = this.#options.setup ?? (await this.#acceptSetup(bidis));
    if (!setup) return;
    checkOfferedVersion(setup.message, this.version, IETF_VERSION_NUMBER[this.version]);
    this.#configure(setup.message);
    this.#control = new MessageStream(setup.reader, setup.stream.writable, this.codec);
    // §7.2: control messages go before any object.
    const writable = setup.stream.writable as WritableStream<Uint8Array> & { sendOrder?: number };
    if ('sendOrder' in writable) writable.sendOrder = CONTROL_SEND_ORDER;
    this.send({
      type: 'server_setup',
      version: this.version === 'draft-14' ? IETF_VERSION_NUMBER[this.version] : undefined,
      parameters: {
        maxRequestId: this.#inbound.max,
        maxAuthTokenCacheSize: AUTH_TOKEN_CACHE_BYTES,
        authorizationTokens: [],
        implementation: this.#options.implementation ?? 'moq-gateway',
      },
    });
    this.logger.debug({ version: this.version, implementation: setup.message.parameters.implementation }, 'IETF session established');
    void this.#acceptBidis(bidis).catch((error: unknown) => this.fail(error));
    void this.#acceptUnis().catch((error: unknown) => this.fail(error));
    void this.#readDatagrams().catch((error: unknown) => this.fail(error));
    await this.#readControl();
  }

  async #acceptSetup(bidis: ReadableStreamDefaultReader<WebTransportBidirectionalStream>): Promise<{ stream: WebTransportBidirectionalStream; reader: StreamReader; message: ClientSetup } | undefined> {
    const timeoutMs = this.#options.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    const accepted = await withTimeout(
      (async () => {
        const next = await bidis.read();
        if (next.done) return undefined;
        const reader = new StreamReader(next.value.readable);
        return { stream: next.value, reader, message: await readClientSetupFrom(reader, this.version) };
      })(),
      timeoutMs,
      'timeout' as const,
    );
    if (accepted === 'timeout') {
      this.close(SessionErrorCode.controlMessageTimeout, 'no CLIENT_SETUP');
      return undefined;
    }
    return accepted;
  }

  #configure(setup: ClientSetup): void {
    this.peer = { version: this.version, implementation: setup.parameters.implementation };
    this.quirks = peerQuirks(this.peer);
    // Set before any request or control stream decodes a parameter (draft-18+ only).
    if (this.quirks.lengthPrefixedLocation) this.codec = controlCodec(this.version, this.quirks);
    // draft-18 has no MAX_REQUEST_ID (§9.1): our requests are bounded by stream limits only.
    this.#outboundIds = new OutboundRequestIds(usesRequestStreams(this.version) ? Number.MAX_SAFE_INTEGER : (setup.parameters.maxRequestId ?? 0));
    this.#sessionTokens = this.#authTokens.resolve(setup.parameters.authorizationTokens, true).values;
  }

  async #readControl(): Promise<void> {
    const control = this.#control!;
    for (;;) {
      let message: ControlMessage | undefined;
      try {
        message = await control.read();
      } catch (error) {
        if (error instanceof StreamAbortedError) throw violation('control stream was reset');
        throw error;
      }
      if (this.#isClosed) return;
      // §3.3: the control stream stays open for the whole session.
      if (!message) throw violation('control stream closed', 'unexpected-end');
      // draft-18 §9: only GOAWAY travels on the control stream; requests have their own streams.
      if (usesRequestStreams(this.version) && message.type !== 'goaway') throw violation(`${message.type} on the control stream`, 'unexpected-message');
      this.#dispatch(message);
    }
  }

  #dispatch(message: ControlMessage): void {
    const spawn = (work: Promise<void>): void => void work.catch((error: unknown) => this.fail(error));
    switch (message.type) {
      case 'client_setup':
      case 'server_setup':
        throw violation(`unexpected ${message.type}`, 'unexpected-message');
      case 'goaway':
        // §9.4: a server never receives a URI, and GOAWAY comes at most once.
        if (message.uri !== '') throw violation('GOAWAY from a client carries a URI');
        if (this.#goawayReceived) throw violation('second GOAWAY');
        this.#goawayReceived = true;
        return;
      case 'max_request_id':
        this.#outboundIds.raise(message.maxRequestId);
        return;
      case 'requests_blocked':
        this.#grantRequests();
        return;
      case 'subscribe':
        this.#acceptRequest(message.requestId);
        return spawn(this.#subscriptions.subscribe(message));
      case 'unsubscribe':
        return this.#subscriptions.unsubscribe(message);
      case 'request_update':
        this.#acceptRequest(message.requestId);
        return this.#update(message);
      case 'fetch':
        this.#acceptRequest(message.requestId);
        return spawn(this.#fetches.fetch(message));
      case 'fetch_cancel':
        return this.#fetches.cancel(message);
      case 'track_status':
        this.#acceptRequest(message.requestId);
        return spawn(answerTrackStatus(this, message));
      case 'publish_namespace':
        this.#acceptRequest(message.requestId);
        return spawn(this.#publishers.publishNamespace(message));
      case 'publish_namespace_done':
        return this.#publishers.publishNamespaceDone(message);
      case 'publish_namespace_cancel':
        return this.#namespaces.cancelled(message);
      case 'subscribe_namespace':
        // §9.28: draft-16 opens a bidi stream for it.
        if (this.version !== 'draft-14') throw violation('SUBSCRIBE_NAMESPACE on the control stream', 'unexpected-message');
        this.#acceptRequest(message.requestId);
        return spawn(this.#namespaces.subscribe(message));
      case 'unsubscribe_namespace':
        return this.#namespaces.unsubscribe(message);
      case 'publish':
        this.#acceptRequest(message.requestId);
        return spawn(this.#publishers.publish(message));
      case 'publish_done':
        // Our SUBSCRIBEs have odd IDs; the peer's PUBLISHes even ones.
        if (message.requestId % 2 === 1) this.#outbound.dispatch(message.requestId, message);
        else this.#publishers.publishDone(message);
        return;
      case 'subscribe_ok':
      case 'request_ok':
      case 'request_error':
      case 'fetch_ok':
      case 'track_status_ok':
      case 'publish_ok':
        if (!this.#outbound.dispatch(message.requestId, message)) {
          this.logger.debug({ type: message.type, requestId: message.requestId }, 'response to no pending request');
        }
        return;
      case 'namespace':
      case 'namespace_done':
      case 'publish_blocked':
        throw violation(`${message.type} on the control stream`, 'unexpected-message');
    }
  }

  /** A new request from the peer: its ID must be the next one and below what we granted (§9.1). */
  #acceptRequest(requestId: number): void {
    // draft-18 has no MAX_REQUEST_ID and requests arrive on independent streams, in any order (§9.1).
    if (usesRequestStreams(this.version)) return;
    this.#inbound.accept(requestId);
    this.#grantRequests();
  }

  #grantRequests(): void {
    const max = this.#inbound.replenish();
    if (max !== undefined) this.send({ type: 'max_request_id', maxRequestId: max });
  }

  #update(message: Extract<ControlMessage, { type: 'request_update' }>): void {
    const updated = this.#subscriptions.update(message);
    // draft-14 SUBSCRIBE_UPDATE has no reply; draft-16 REQUEST_UPDATE gets REQUEST_OK / ERROR (§9.10).
    if (this.version === 'draft-14') return;
    if (updated) this.send({ type: 'request_ok', kind: 'update', requestId: message.requestId, parameters: { authorizationTokens: [] } });
    else this.send({ type: 'request_error', kind: 'update', requestId: message.requestId, code: 0x0, retryInterval: 0, reason: 'no such request' });
  }

  /** draft-16: peer-opened bidi streams carry SUBSCRIBE_NAMESPACE (§3.3); draft-14 has none. */
  async #acceptBidis(bidis: ReadableStreamDefaultReader<WebTransportBidirectionalStream>): Promise<void> {
    for (;;) {
      const next = await bidis.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done || this.#isClosed) return;
      const stream = new MessageStream(new StreamReader(next.value.readable), next.value.writable, this.codec);
      if (this.version === 'draft-14') {
        stream.abort(streamError(StreamResetCode.internalError, 'draft-14 uses a single control stream'));
        continue;
      }
      void this.#serveBidi(stream).catch((error: unknown) => {
        if (error instanceof StreamAbortedError) return;
        this.fail(error);
      });
    }
  }

  async #serveBidi(stream: MessageStream): Promise<void> {
    const first = await withTimeout(stream.read(), STREAM_HEADER_TIMEOUT_MS, 'timeout' as const);
    if (first === 'timeout') return stream.abort(streamError(StreamResetCode.internalError, 'no request'));
    if (!first) return;
    if (first.type !== 'subscribe_namespace') throw violation(`bidi stream starts with ${first.type}`, 'unexpected-message');
    this.#acceptRequest(first.requestId);
    await this.#namespaces.serveStream(stream, first);
  }

  async #acceptUnis(): Promise<void> {
    const unis = this.transport.incomingUnidirectionalStreams.getReader();
    for (;;) {
      const next = await unis.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done || this.#isClosed) return;
      void this.#serveUni(next.value).catch((error: unknown) => {
        if (error instanceof StreamAbortedError) return;
        this.fail(error);
      });
    }
  }

  async #serveUni(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = new StreamReader(stream, this.data.integers);
    const type = await withTimeout(reader.varint(), STREAM_HEADER_TIMEOUT_MS, 'timeout' as const);
    if (type === 'timeout') return reader.cancel(streamError(StreamResetCode.internalError, 'no stream header'));
    if (usesRequestStreams(this.version)) {
      // §3.3: the peer's control stream is a uni stream that starts with SETUP (type 0x2F00).
      if (type === Draft18MessageType.setup) return this.#acceptPeerControl(reader);
      // §3.3: objects may arrive before the control streams; hold them until SETUP is done.
      await this.#peerControlArrived;
    }
    if (type === FETCH_HEADER_TYPE) {
      const requestId = await reader.varint();
      const route = this.#fetchRoutes.take(requestId);
      if (!route) return reader.cancel(streamError(StreamResetCode.cancelled, 'unknown fetch'));
      try {
        await receiveFetch(reader, route.sink, this.data, this.tuning.maxObjectBytes);
      } finally {
        route.done();
      }
      return;
    }
    // §10: an unknown stream type closes the session.
    if (!this.data.subgroupFlags(type)) throw violation(`unknown data stream type 0x${type.toString(16)}`, 'unknown-stream-type');
    const header = await readSubgroupHeader(reader, type, this.data);
    const sink = await this.#aliases.lookup(header.trackAlias, this.tuning.aliasWaitMs);
    // §10.4.2: a stream for an unknown alias may be abandoned.
    if (!sink) return reader.cancel(streamError(StreamResetCode.cancelled, 'unknown track alias'));
    await receiveSubgroup(reader, header, sink, this.data, this.tuning.maxObjectBytes);
  }

  // --- draft-18: control uni streams and one bidi stream per request (§3.3, §9) ---

  async #runRequestStreams(): Promise<void> {
    void this.#acceptUnis().catch((error: unknown) => this.fail(error));
    const timeoutMs = this.#options.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    const peer = await withTimeout(this.#peerControlArrived, timeoutMs, 'timeout' as const);
    if (this.#isClosed) return;
    if (peer === 'timeout') return this.close(SessionErrorCode.controlMessageTimeout, 'no SETUP');
    this.#configure(peer.message);
    const ours = (await this.transport.createUnidirectionalStream()) as WritableStream<Uint8Array> & { sendOrder?: number };
    if ('sendOrder' in ours) ours.sendOrder = CONTROL_SEND_ORDER;
    this.#control = new MessageStream(peer.reader, ours, this.codec);
    this.send({
      type: 'server_setup',
      parameters: { maxAuthTokenCacheSize: AUTH_TOKEN_CACHE_BYTES, authorizationTokens: [], implementation: this.#options.implementation ?? 'moq-gateway' },
    });
    this.logger.debug({ version: this.version, implementation: peer.message.parameters.implementation }, 'IETF session established');
    const bidis = this.transport.incomingBidirectionalStreams.getReader();
    void this.#acceptRequestStreams(bidis).catch((error: unknown) => this.fail(error));
    void this.#readDatagrams().catch((error: unknown) => this.fail(error));
    await this.#readControl();
  }

  /** The peer's control uni stream, its 0x2F00 type already read: the rest of SETUP (§9.3). */
  async #acceptPeerControl(reader: StreamReader): Promise<void> {
    if (this.#peerControl === undefined) throw violation('second control stream', 'unexpected-message');
    const body = await reader.messageU16();
    const message = this.codec.decode({ type: Draft18MessageType.setup, body });
    if (message.type !== 'client_setup') throw violation('control stream does not start with SETUP', 'unexpected-message');
    const deliver = this.#peerControl;
    this.#peerControl = undefined;
    deliver({ reader, message });
  }

  async #acceptRequestStreams(bidis: ReadableStreamDefaultReader<WebTransportBidirectionalStream>): Promise<void> {
    for (;;) {
      const next = await bidis.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done || this.#isClosed) return;
      const stream = new MessageStream(new StreamReader(next.value.readable, this.data.integers), next.value.writable, this.codec);
      void this.#serveRequestStream(stream).catch((error: unknown) => {
        if (error instanceof StreamAbortedError) return;
        this.fail(error);
      });
    }
  }

  /** §3.3: a request stream starts with one of seven request messages; replies go back on it. */
  async #serveRequestStream(stream: MessageStream): Promise<void> {
    const first = await withTimeout(stream.read(), STREAM_HEADER_TIMEOUT_MS, 'timeout' as const);
    if (first === 'timeout') return stream.abort(streamError(StreamResetCode.internalError, 'no request'));
    if (!first) return;
    // SUBSCRIBE_TRACKS would have us open PUBLISH request streams: not implemented, refused (§9.6).
    if (first.type === 'subscribe_namespace' && first.options !== 'namespace') {
      await stream.send(requestError(this.version, 'subscribe_namespace', first.requestId, 'notSupported', 'SUBSCRIBE_TRACKS is not supported'));
      return stream.finish();
    }
    switch (first.type) {
      case 'subscribe_namespace':
        return this.#namespaces.serveStream(stream, first);
      case 'subscribe':
      case 'fetch':
      case 'track_status':
      case 'publish':
      case 'publish_namespace':
        break;
      default:
        throw violation(`request stream starts with ${first.type}`, 'unexpected-message');
    }
    const requestId = first.requestId;
    if (this.#requestStreams.has(requestId)) throw new IetfProtocolError(SessionErrorCode.invalidRequestId, `duplicate request ID ${requestId}`);
    this.#requestStreams.set(requestId, stream);
    const ids = [requestId];
    try {
      this.#dispatch(first);
      for (;;) {
        const message = await stream.read(requestId);
        if (!message || this.#isClosed) break;
        // A publisher ends its PUBLISH with PUBLISH_DONE on the request stream (§9.11).
        if (message.type === 'publish_done' && first.type === 'publish') {
          this.#publishers.publishDone(message);
          continue;
        }
        if (message.type !== 'request_update') throw violation(`${message.type} on a request stream`, 'unexpected-message');
        // The update's reply goes on this stream too (§9.9).
        this.#requestStreams.set(message.requestId, stream);
        ids.push(message.requestId);
        this.#update(message);
      }
    } catch (error) {
      if (!(error instanceof StreamAbortedError)) throw error;
    } finally {
      // §3.5.1: the subscriber ends a request by finishing or resetting its stream.
      for (const id of ids) this.#requestStreams.delete(id);
      if (first.type === 'subscribe') this.#subscriptions.unsubscribe({ type: 'unsubscribe', requestId });
      if (first.type === 'fetch') this.#fetches.cancel({ type: 'fetch_cancel', requestId });
      // §3.5.1: ending a PUBLISH_NAMESPACE stream withdraws the namespace (draft-16's PUBLISH_NAMESPACE_DONE).
      if (first.type === 'publish_namespace' && !this.#isClosed) this.#publishers.publishNamespaceDone({ type: 'publish_namespace_done', requestId });
    }
  }

  /** draft-18: a request of ours (SUBSCRIBE / FETCH upstream) opens its own bidi stream (§3.3). */
  #openRequestStream(message: ControlMessage & { requestId: number }): void {
    const requestId = message.requestId;
    void (async () => {
      const bidi = await this.transport.createBidirectionalStream();
      const stream = new MessageStream(new StreamReader(bidi.readable, this.data.integers), bidi.writable, this.codec);
      this.#requestStreams.set(requestId, stream);
      this.#ownRequests.add(requestId);
      try {
        await stream.send(message);
        for (;;) {
          const reply = await stream.read(requestId);
          if (!reply || this.#isClosed) break;
          if (!this.#outbound.dispatch(requestId, reply)) this.logger.debug({ type: reply.type, requestId }, 'response to no pending request');
        }
      } catch (error) {
        if (!(error instanceof StreamAbortedError)) throw error;
      } finally {
        this.#requestStreams.delete(requestId);
        this.#ownRequests.delete(requestId);
      }
    })().catch((error: unknown) => this.fail(error));
  }

  /** draft-18: a response goes on its request's stream; true when it did. */
  #sendOnRequestStream(message: ControlMessage): boolean {
    if (!('requestId' in message) || message.requestId === undefined || message.type === 'goaway') return false;
    if (message.type === 'subscribe' || message.type === 'fetch' || message.type === 'track_status') {
      this.#openRequestStream({ ...message, requestId: message.requestId });
      return true;
    }
    const stream = this.#requestStreams.get(message.requestId);
    if (stream && this.#ownRequests.has(message.requestId) && (message.type === 'unsubscribe' || message.type === 'fetch_cancel')) {
      // Cancelling our own request: end our side of its stream (§3.5.1).
      this.#requestStreams.delete(message.requestId);
      stream.abort(streamError(StreamResetCode.cancelled));
      return true;
    }
    if (!stream) {
      // The peer already ended the request (§3.5.1), or a request of ours, which draft-18 sessions do not make.
      this.logger.debug({ type: message.type, requestId: message.requestId }, 'no request stream for message');
      return true;
    }
    const last = message.type === 'publish_done' || (message.type === 'request_error' && message.kind !== 'update');
    const written = stream.send(message);
    if (last) {
      this.#requestStreams.delete(message.requestId);
      void written.then(() => stream.finish()).catch(() => undefined);
    } else {
      written.catch(() => stream.abort(streamError(StreamResetCode.internalError)));
    }
    return true;
  }

  async #readDatagrams(): Promise<void> {
    const datagrams = this.transport.datagrams?.readable;
    if (!datagrams) return;
    const reader = datagrams.getReader();
    const receiver = new DatagramReceiver();
    for (;;) {
      const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done || this.#isClosed) return;
      // §10: a datagram type we do not know closes the session.
      const object = this.data.decodeDatagram(next.value);
      // §10.3: a datagram for an unknown alias may be dropped.
      const sink = this.#aliases.get(object.trackAlias);
      if (sink) receiver.receive(sink, object);
    }
  }

  #shutdown(code: number, reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#stallWatch.stop();
    this.#outboundIds.close();
    this.#subscriptions.closeAll();
    this.#fetches.closeAll();
    this.#namespaces.closeAll();
    this.#publishers.abortAll(`IETF session ended: ${reason}`);
    this.#fetchRoutes.clear();
    this.#outbound.clear();
    this.#aliases.clear();
    this.#control?.abort(streamError(StreamResetCode.sessionClosed));
    this.#markEnded({ code, reason });
  }
}

/** WebTransport close reasons are limited to 1024 bytes. */
function truncate(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.byteLength <= 1000) return reason;
  return new TextDecoder().decode(bytes.subarray(0, 1000)).replace(/\uFFFD$/, '');
}

