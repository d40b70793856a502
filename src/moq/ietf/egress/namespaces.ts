/**
 * SUBSCRIBE_NAMESPACE: tells the subscriber which broadcasts exist under a prefix, now and as they
 * come and go, from the relay's announcements (Origin.watch).
 *
 * - draft-16 (§6.1, §9.28): on its own bidi stream; REQUEST_OK, then NAMESPACE / NAMESPACE_DONE
 *   with the suffix after the prefix. Closing the stream ends it.
 * - draft-14 (§6.1, §9.25): on the control stream; SUBSCRIBE_NAMESPACE_OK, then one
 *   PUBLISH_NAMESPACE request per namespace (full namespace), PUBLISH_NAMESPACE_DONE when it ends.
 *   UNSUBSCRIBE_NAMESPACE ends it.
 */
import type { AnnouncementWatcher } from '../../../relay/origin.ts';
import type { RequestErrorReason } from '../errors.ts';
import { violation } from '../errors.ts';
import type { PublishNamespaceCancel, SubscribeNamespace, UnsubscribeNamespace } from '../messages.ts';
import type { SessionContext } from '../session/context.ts';
import type { MessageStream } from '../session/message-stream.ts';
import type { OutboundRequests } from '../session/outbound-requests.ts';
import { namespaceToPath, pathToNamespace } from '../session/paths.ts';
import { requestError } from '../session/replies.ts';
import { streamError } from '../session/stream-error.ts';
import { isNamespacePrefix, namespacesEqual, type TrackNamespace } from '../wire/namespace.ts';

interface NamespaceSubscription {
  requestId: number;
  prefix: TrackNamespace;
  watcher: AnnouncementWatcher;
}

/** A namespace we announced with PUBLISH_NAMESPACE (draft-14). */
interface Announced {
  requestId: number;
  namespace: TrackNamespace;
  cancelled: boolean;
}

export class NamespaceSubscriptions {
  readonly #active = new Map<number, NamespaceSubscription>();
  /** draft-14: namespaces we sent PUBLISH_NAMESPACE for, by path. */
  readonly #announced = new Map<string, Announced>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly outbound: OutboundRequests,
  ) {}

  /** draft-16: the first message of a peer-opened bidi stream was SUBSCRIBE_NAMESPACE. */
  async serveStream(stream: MessageStream, message: SubscribeNamespace): Promise<void> {
    const subscription = await this.#start(message, (reason, text) => {
      void stream
        .send(requestError(this.ctx.version, 'subscribe_namespace', message.requestId, reason, text))
        .then(() => stream.finish())
        .catch(() => undefined);
    });
    if (!subscription) return;
    const wantsNamespaces = message.options !== 'publish';
    try {
      await stream.send({ type: 'request_ok', kind: 'subscribe_namespace', requestId: message.requestId, parameters: { authorizationTokens: [] } });
      // Nothing more may arrive on this stream; its end (FIN or reset) ends the subscription.
      const ended = stream.read().then(
        (next) => {
          if (next) throw violation(`${next.type} on a SUBSCRIBE_NAMESPACE stream`, 'unexpected-message');
        },
        () => undefined,
      );
      ended.catch((error: unknown) => this.ctx.fail(error)).finally(() => subscription.watcher.close());
      const announced = new Set<string>();
      for (;;) {
        const next = await subscription.watcher.next();
        if (!next) break;
        const namespace = pathToNamespace(this.ctx.root, next.path);
        if (!namespace) continue;
        const suffix = namespace.slice(message.prefix.length);
        if (next.active && !announced.has(next.path)) {
          announced.add(next.path);
          if (wantsNamespaces) await stream.send({ type: 'namespace', suffix });
        } else if (!next.active && announced.delete(next.path)) {
          // §9.28: never a NAMESPACE_DONE without its NAMESPACE first.
          if (wantsNamespaces) await stream.send({ type: 'namespace_done', suffix });
        }
      }
      if (subscription.watcher.overflowed) stream.abort(streamError(0x0, 'too many announcements'));
      else await stream.finish();
    } catch {
      stream.abort(streamError(0x0));
    } finally {
      subscription.watcher.close();
      this.#active.delete(message.requestId);
    }
  }

  /** draft-14: SUBSCRIBE_NAMESPACE on the control stream. */
  async subscribe(message: SubscribeNamespace): Promise<void> {
    const { ctx } = this;
    const subscription = await this.#start(message, (reason, text) => ctx.send(requestError(ctx.version, 'subscribe_namespace', message.requestId, reason, text)));
    if (!subscription) return;
    ctx.send({ type: 'request_ok', kind: 'subscribe_namespace', requestId: message.requestId, parameters: { authorizationTokens: [] } });
    try {
      for (;;) {
        const next = await subscription.watcher.next();
        if (!next) break;
        const namespace = pathToNamespace(ctx.root, next.path);
        if (!namespace || namespace.length === 0) continue;
        if (next.active) await this.#announce(next.path, namespace);
        else this.#withdraw(next.path);
      }
    } finally {
      this.#active.delete(message.requestId);
    }
  }

  /** draft-14 UNSUBSCRIBE_NAMESPACE, by prefix (§9.28) or by request ID (@moq/net). */
  unsubscribe(message: UnsubscribeNamespace): void {
    for (const subscription of this.#active.values()) {
      const byPrefix = message.prefix !== undefined && namespacesEqual(subscription.prefix, message.prefix);
      const byId = message.requestId !== undefined && subscription.requestId === message.requestId;
      if (byPrefix || byId) {
        subscription.watcher.close();
        return;
      }
    }
  }

  /** draft-14: the subscriber revoked one of our PUBLISH_NAMESPACEs; it gets no DONE (§9.27). */
  cancelled(message: PublishNamespaceCancel): void {
    for (const entry of this.#announced.values()) {
      const matches = message.namespace !== undefined ? namespacesEqual(entry.namespace, message.namespace) : entry.requestId === message.requestId;
      if (matches) entry.cancelled = true;
    }
  }

  closeAll(): void {
    for (const subscription of this.#active.values()) subscription.watcher.close();
    this.#active.clear();
  }

  async #start(message: SubscribeNamespace, refuse: (reason: RequestErrorReason, text: string) => void): Promise<NamespaceSubscription | undefined> {
    const { ctx } = this;
    const prefixPath = namespaceToPath(ctx.root, message.prefix);
    if (prefixPath === undefined) {
      refuse('doesNotExist', 'prefix has no relay path');
      return undefined;
    }
    if ((await ctx.authorize('subscribe', prefixPath, message.parameters.authorizationTokens)) !== 'ok') {
      refuse('unauthorized', 'not authorized');
      return undefined;
    }
    for (const other of this.#active.values()) {
      if (isNamespacePrefix(other.prefix, message.prefix) || isNamespacePrefix(message.prefix, other.prefix)) {
        refuse('prefixOverlap', 'overlaps another namespace subscription');
        return undefined;
      }
    }
    if (ctx.isClosed()) return undefined;
    const subscription = { requestId: message.requestId, prefix: message.prefix, watcher: ctx.origin.watch(prefixPath) };
    this.#active.set(message.requestId, subscription);
    return subscription;
  }

  async #announce(path: string, namespace: TrackNamespace): Promise<void> {
    if (this.#announced.has(path)) return;
    const requestId = await this.ctx.nextRequestId();
    if (requestId === undefined) return;
    const entry: Announced = { requestId, namespace, cancelled: false };
    this.#announced.set(path, entry);
    this.outbound.register(requestId, (response) => {
      this.outbound.forget(requestId);
      if (response.type === 'request_error') {
        entry.cancelled = true;
        this.ctx.logger.debug({ path, code: response.code, reason: response.reason }, 'subscriber refused PUBLISH_NAMESPACE');
      }
    });
    this.ctx.send({ type: 'publish_namespace', requestId, namespace, parameters: { authorizationTokens: [] } });
  }

  #withdraw(path: string): void {
    const entry = this.#announced.get(path);
    if (!entry) return;
    this.#announced.delete(path);
    this.outbound.forget(entry.requestId);
    if (!entry.cancelled) this.ctx.send({ type: 'publish_namespace_done', requestId: entry.requestId, namespace: entry.namespace });
  }
}
