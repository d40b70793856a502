/**
 * A client FETCH (bidi type 3, lite-03+): one group of a track, answered with its frames
 * (size + payload) on the same stream, then FIN; reset when the group is not in the relay's
 * cache. Only tracks that exist already are considered, so a FETCH never starts an upstream.
 */
import { joinPath, normalizePath, RelayError, RelayErrorCode } from '../../relay/index.ts';
import { StreamAbortedError } from '../../wire/errors.ts';
import type { SessionContext } from './context.ts';
import type { Fetch } from './fetch.ts';
import { frameOnWire } from './group.ts';
import { refuse, type RequestStream } from './request-stream.ts';

export async function serveFetch(ctx: SessionContext, stream: RequestStream, request: Fetch): Promise<void> {
  const path = joinPath(ctx.root, normalizePath(request.broadcast));
  if (!ctx.allowSubscribe(path)) return refuse(stream, RelayErrorCode.unauthorized, `not allowed to fetch from ${path}`);
  const track = ctx.origin
    .get(path)
    ?.tracks()
    .find((candidate) => candidate.name === request.track);
  const group = track?.cachedGroups().find((candidate) => candidate.sequence === request.group);
  if (!group) return refuse(stream, RelayErrorCode.notFound, `group ${request.group} of ${request.track} is not cached`);
  void stream.reader.cancel();
  try {
    const reader = group.reader();
    for (;;) {
      const frame = await reader.readFrame();
      if (!frame) break;
      await stream.writer.write(frameOnWire(frame));
      ctx.counters.bytesSent += frame.byteLength;
    }
    await stream.writer.close();
  } catch (error) {
    if (error instanceof RelayError) stream.writer.reset(error.code, error.message);
    else if (!(error instanceof StreamAbortedError)) throw error;
  }
}
