/**
 * A client ANNOUNCE_PLEASE (bidi type 1): stream the relay's announcements under a prefix.
 *
 * Paths on the wire are suffixes of the requested prefix, which is itself relative to the
 * session root. lite-01/02 first get one ANNOUNCE_INIT with every active suffix; lite-03+ get
 * the initial set as ANNOUNCE messages. Each path alternates active/ended (duplicates are
 * filtered), and paths the client may not subscribe to are never shown.
 */
import { joinPath, normalizePath, RelayErrorCode, stripPrefix, type AnnouncementWatcher } from '../../relay/index.ts';
import { ProtocolError, StreamAbortedError } from '../../wire/errors.ts';
import { encodeAnnounce, encodeAnnounceInit, type AnnouncePlease } from './announce.ts';
import type { SessionContext, Stoppable } from './context.ts';
import { refuse, type RequestStream } from './request-stream.ts';
import { hasAnnounceInit } from './version.ts';

/** Raised when the client does not read announcements fast enough for the relay's bounded queue. */
export class AnnouncementOverflowError extends Error {
  override readonly name = 'AnnouncementOverflowError';
}

export async function serveAnnouncements(ctx: SessionContext, stream: RequestStream, request: AnnouncePlease): Promise<void> {
  if (ctx.counters.announceStreams >= ctx.limits.maxAnnounceStreams) {
    return refuse(stream, RelayErrorCode.tooLarge, `more than ${ctx.limits.maxAnnounceStreams} announce streams`);
  }
  const prefix = joinPath(ctx.root, normalizePath(request.prefix));
  const watcher = ctx.origin.watch(prefix);
  const task: Stoppable = { stop: () => watcher.close() };
  ctx.tasks.add(task);
  ctx.counters.announceStreams++;
  ctx.logger.debug({ prefix }, 'announce please');
  // Nothing may follow ANNOUNCE_PLEASE; the client ending its side ends the stream.
  const clientDone = expectEnd(stream).finally(() => watcher.close());
  clientDone.catch(() => undefined);
  try {
    await sendAnnouncements(ctx, stream, watcher, prefix);
    await clientDone;
  } catch (error) {
    if (!(error instanceof StreamAbortedError)) throw error;
  } finally {
    watcher.close();
    void stream.reader.cancel();
    ctx.tasks.delete(task);
    ctx.counters.announceStreams--;
  }
}

async function sendAnnouncements(ctx: SessionContext, stream: RequestStream, watcher: AnnouncementWatcher, prefix: string): Promise<void> {
  const active = new Set<string>();
  const visible = (path: string) => ctx.allowSubscribe(path);
  if (hasAnnounceInit(ctx.version)) {
    const initial = ctx.origin
      .list(prefix)
      .map((broadcast) => normalizePath(broadcast.path))
      .filter(visible);
    for (const path of initial) active.add(path);
    const suffixes = initial.map((path) => stripPrefix(path, prefix));
    await stream.writer.write(encodeAnnounceInit({ suffixes }, ctx.version));
  }
  for (;;) {
    const announcement = await watcher.next();
    if (!announcement) break;
    const { path } = announcement;
    if (!visible(path) || active.has(path) === announcement.active) continue;
    if (announcement.active) active.add(path);
    else active.delete(path);
    const suffix = stripPrefix(path, prefix);
    await stream.writer.write(encodeAnnounce({ active: announcement.active, suffix, hops: [] }, ctx.version));
  }
  if (watcher.overflowed) throw new AnnouncementOverflowError('announcement backlog overflowed');
  // The client ended its side (or the session is closing): end ours too.
  if (ctx.closing) stream.writer.reset(RelayErrorCode.cancelled, 'session closing');
  else await stream.writer.close();
}

async function expectEnd(stream: RequestStream): Promise<void> {
  if (!(await stream.reader.atEnd())) {
    throw new ProtocolError('unexpected-message', 'data after ANNOUNCE_PLEASE');
  }
}
