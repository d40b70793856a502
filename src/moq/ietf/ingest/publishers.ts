/**
 * The peer as publisher: PUBLISH_NAMESPACE / PUBLISH_NAMESPACE_DONE (draft-16 §9.20–9.23,
 * draft-14 §9.23–9.26) and PUBLISH / PUBLISH_DONE (§9.11–9.13), each turned into a relay broadcast
 * that every session can read.
 */
import { RelayError } from '../../../relay/errors.ts';
import type { RequestErrorReason, RequestKind } from '../errors.ts';
import type { Publish, PublishDone, PublishNamespace, PublishNamespaceDone } from '../messages.ts';
import type { SessionContext } from '../session/context.ts';
import { namespaceToPath, trackNameToString } from '../session/paths.ts';
import { requestError } from '../session/replies.ts';
import { IETF_ALPN } from '../version.ts';
import { namespacesEqual, type TrackNamespace } from '../wire/namespace.ts';
import { IngestBroadcast, type IngestDeps } from './ingest-broadcast.ts';
import type { PublishedTrack } from './published-track.ts';

export class IngestPublishers {
  readonly #byPath = new Map<string, IngestBroadcast>();
  readonly #pushed = new Map<number, PublishedTrack>();

  constructor(private readonly deps: IngestDeps) {}

  get #ctx(): SessionContext {
    return this.deps.ctx;
  }

  async publishNamespace(message: PublishNamespace): Promise<void> {
    const ctx = this.#ctx;
    const refuse = (reason: RequestErrorReason, text: string): void => ctx.send(requestError(ctx.version, 'publish_namespace', message.requestId, reason, text));
    const path = namespaceToPath(ctx.root, message.namespace);
    if (path === undefined) return refuse('uninterested', 'namespace has no relay path');
    if ((await ctx.authorize('publish', path, message.parameters.authorizationTokens)) !== 'ok') return refuse('unauthorized', 'not authorized');
    if (ctx.isClosed()) return;
    const existing = this.#byPath.get(path);
    if (existing?.announced) return refuse('uninterested', 'namespace already published on this session');
    const ingest = existing ?? this.#create(path, message.namespace, 'publish_namespace', message.requestId);
    if (!ingest) return;
    ingest.announceRequestId = message.requestId;
    ctx.send({ type: 'request_ok', kind: 'publish_namespace', requestId: message.requestId, parameters: { authorizationTokens: [] } });
  }

  /** draft-16 names the request, draft-14 the namespace. */
  publishNamespaceDone(message: PublishNamespaceDone): void {
    for (const ingest of this.#byPath.values()) {
      if (!ingest.announced) continue;
      const matches =
        message.requestId !== undefined ? ingest.announceRequestId === message.requestId : message.namespace !== undefined && namespacesEqual(ingest.namespace, message.namespace);
      if (matches) {
        ingest.unannounce();
        return;
      }
    }
  }

  async publish(message: Publish): Promise<void> {
    const ctx = this.#ctx;
    const refuse = (reason: RequestErrorReason, text: string): void => ctx.send(requestError(ctx.version, 'publish', message.requestId, reason, text));
    const path = namespaceToPath(ctx.root, message.namespace);
    const name = trackNameToString(message.name);
    if (path === undefined || name === undefined) return refuse('uninterested', 'track has no relay path');
    if ((await ctx.authorize('publish', path, message.parameters.authorizationTokens)) !== 'ok') return refuse('unauthorized', 'not authorized');
    if (ctx.isClosed()) return;
    const ingest = this.#byPath.get(path) ?? this.#create(path, message.namespace, 'publish', message.requestId);
    if (!ingest) return;
    let pushed: PublishedTrack;
    try {
      pushed = ingest.pushTrack(message, name);
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      return refuse('duplicateSubscription', error.message);
    }
    try {
      this.deps.aliases.bind(message.trackAlias, pushed);
    } catch (error) {
      ctx.fail(error);
      return;
    }
    this.#pushed.set(message.requestId, pushed);
    void pushed.track.closed().then(() => {
      this.deps.aliases.unbind(message.trackAlias, pushed);
      this.#pushed.delete(message.requestId);
    });
    ctx.send({ type: 'publish_ok', requestId: message.requestId, forward: true, subscriberPriority: 128, parameters: { authorizationTokens: [] } });
  }

  /** PUBLISH_DONE for a track the peer pushed. */
  publishDone(message: PublishDone): void {
    void this.#pushed.get(message.requestId)?.end(message.streamCount);
  }

  abortAll(reason: string): void {
    for (const ingest of this.#byPath.values()) ingest.abort(reason);
    this.#byPath.clear();
    this.#pushed.clear();
  }

  #create(path: string, namespace: TrackNamespace, kind: RequestKind, requestId: number): IngestBroadcast | undefined {
    const ctx = this.#ctx;
    const ingest = new IngestBroadcast(this.deps, path, namespace, { protocol: IETF_ALPN[ctx.version] });
    try {
      ctx.origin.publish(ingest.broadcast);
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      ctx.send(requestError(ctx.version, kind, requestId, 'uninterested', `${path} is already published`));
      return undefined;
    }
    this.#byPath.set(path, ingest);
    void ingest.broadcast.closed().then(() => {
      if (this.#byPath.get(path) === ingest) this.#byPath.delete(path);
    });
    return ingest;
  }
}
