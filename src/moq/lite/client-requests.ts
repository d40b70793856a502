/**
 * Streams the server opens to the client. A moq-lite server is a subscriber of its clients too
 * (draft-lcurley-moq-lite: both endpoints may publish), so it asks for our announcements and may
 * subscribe to us. This client publishes nothing: the announce stream is answered with an empty
 * set (lite-01/02: an empty ANNOUNCE_INIT) and held open, and every SUBSCRIBE is refused.
 */
import { RelayErrorCode } from '../../relay/index.ts';
import { ProtocolError } from '../../wire/errors.ts';
import { decodeAnnouncePlease, encodeAnnounceInit } from './announce.ts';
import { decodeGoaway } from './goaway.ts';
import { refuse, type RequestStream } from './request-stream.ts';
import { BidiStreamType } from './stream-type.ts';
import { decodeSubscribe } from './subscribe.ts';
import { hasAnnounceInit, hasGoaway, LiteVersion } from './version.ts';

export interface ServerRequestContext {
  version: LiteVersion;
  maxMessageBytes: number;
  /** Streams held open until the session ends. */
  held: Set<RequestStream>;
  onGoaway(uri: string): void;
}

/** Answers one server-initiated bidi stream; rejects only with ProtocolError. */
export async function answerServerRequest(ctx: ServerRequestContext, stream: RequestStream): Promise<void> {
  const { version, maxMessageBytes } = ctx;
  const type = await stream.reader.varint();
  switch (type) {
    case BidiStreamType.Announce: {
      decodeAnnouncePlease(await stream.reader.message(maxMessageBytes), version);
      if (hasAnnounceInit(version)) await stream.writer.write(encodeAnnounceInit({ suffixes: [] }, version));
      return hold(ctx, stream);
    }
    case BidiStreamType.Subscribe: {
      const request = decodeSubscribe(await stream.reader.message(maxMessageBytes), version);
      return refuse(stream, RelayErrorCode.notFound, `this client publishes nothing (asked for ${request.broadcast}/${request.track})`);
    }
    case BidiStreamType.Goaway: {
      if (!hasGoaway(version)) break;
      ctx.onGoaway(decodeGoaway(await stream.reader.message(maxMessageBytes), version).uri);
      void stream.reader.cancel();
      return stream.writer.close();
    }
  }
  // lite-03+: an unknown (or unexpected) stream type resets only that stream; before, it was fatal.
  if (version >= LiteVersion.Draft03) return refuse(stream, RelayErrorCode.notFound, `unexpected stream type 0x${type.toString(16)}`);
  throw new ProtocolError('unknown-stream-type', `unexpected bidi stream type 0x${type.toString(16)} from the server`);
}

/** Nothing may follow ANNOUNCE_PLEASE; the server ending its side ends ours. */
async function hold(ctx: ServerRequestContext, stream: RequestStream): Promise<void> {
  ctx.held.add(stream);
  try {
    if (!(await stream.reader.atEnd())) throw new ProtocolError('unexpected-message', 'data after ANNOUNCE_PLEASE');
    await stream.writer.close();
  } finally {
    ctx.held.delete(stream);
  }
}
