/**
 * Server side of a request stream (RFC 9114 §4.1): the first HEADERS decides whether this is a
 * WebTransport extended CONNECT (draft-ietf-webtrans-http3 §3.2, RFC 9220) or an ordinary
 * request. A WebTransport CONNECT is answered 2xx with the chosen `wt-protocol` (§3.3) and
 * becomes a session; other requests get the application's response or 404.
 */
import type { QuicStream } from '../quic/quic-stream.ts';
import type { WebTransportSession } from '../quic/session-types.ts';
import { FrameReader, FrameType, encodeFrame } from './frames.ts';
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import type { Http3Connection } from './http3-connection.ts';
import { decodeFieldSection, encodeFieldSection, type FieldLine } from './qpack.ts';
import { isWebTransportConnect, parseRequestHead, type RequestHead } from './request-head.ts';
import { StreamWriter, consumeStream } from './stream-io.ts';
import { parseProtocolList, serializeString } from './structured-fields.ts';

export interface WebTransportRequest {
  readonly url: URL;
  /** The Origin header a browser sends (draft §3.2); check it if sessions are origin-bound. */
  readonly origin: string | undefined;
  /** `wt-available-protocols`, in the client's order of preference. */
  readonly offeredProtocols: readonly string[];
  readonly headers: ReadonlyMap<string, string>;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

export interface HttpRequest {
  readonly method: string;
  readonly authority: string | undefined;
  readonly path: string | undefined;
  readonly headers: ReadonlyMap<string, string>;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
}

export interface RequestHooks {
  /** WebTransport subprotocols we speak; the first one the client offers wins. */
  readonly protocols: readonly string[];
  readonly maxSessionsPerConnection: number;
  /** Returns an HTTP status to refuse the session with (e.g. 401), or undefined to accept. */
  readonly authorize?: (request: WebTransportRequest) => number | undefined | Promise<number | undefined>;
  readonly onSession: (session: WebTransportSession, request: WebTransportRequest & { readonly protocol: string }) => void;
  readonly onRequest?: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;
}

function asHttp3Error(error: unknown): Http3Error {
  return error instanceof Http3Error ? error : new Http3Error(H3ErrorCode.InternalError, String(error));
}

export function serveRequestStream(http3: Http3Connection, stream: QuicStream, preamble: Uint8Array, preambleFin: boolean, hooks: RequestHooks): void {
  const writer = new StreamWriter(stream);
  const frames = new FrameReader();
  let finSeen = preambleFin;

  const refuse = (error: Http3Error): void => {
    stream.reset(error.code);
    stream.stopSending(error.code);
  };

  const respond = (status: number, fields: readonly FieldLine[] = [], body?: Uint8Array): void => {
    writer.write(encodeFrame(FrameType.Headers, encodeFieldSection([[':status', String(status)], ...fields])));
    if (body && body.byteLength > 0) writer.write(encodeFrame(FrameType.Data, body));
    writer.finish();
    // We answered without reading the rest of the request (RFC 9114 §4.1.2).
    stream.stopSending(H3ErrorCode.NoError);
  };

  const acceptWebTransport = async (head: RequestHead): Promise<void> => {
    // For draft versions the server must have the client's SETTINGS first (draft §3.1).
    const settings = await http3.whenPeerSettings();
    if (!settings) return;
    let url: URL;
    try {
      url = new URL(`https://${head.authority}${head.path}`);
    } catch {
      respond(400);
      return;
    }
    const offered = parseProtocolList(head.headers.get('wt-available-protocols') ?? '') ?? [];
    const protocol = offered.find((candidate) => hooks.protocols.includes(candidate)) ?? '';
    const request: WebTransportRequest = {
      url,
      origin: head.headers.get('origin'),
      offeredProtocols: offered,
      headers: head.headers,
      remoteAddress: http3.quic.remote.host.replace(/^::ffff:/, ''),
      remotePort: http3.quic.remote.port,
    };
    if (http3.sessionCount >= hooks.maxSessionsPerConnection) {
      respond(429);
      return;
    }
    let status = 200;
    try {
      status = (await hooks.authorize?.(request)) ?? 200;
    } catch {
      status = 500;
    }
    if (http3.quic.isFinished || stream.sendEnded) return;
    if (status < 200 || status > 299) {
      respond(status);
      return;
    }
    const link = http3.createLink(stream, writer);
    const fields: FieldLine[] = [[':status', String(status)]];
    if (protocol) fields.push(['wt-protocol', serializeString(protocol)]);
    writer.write(encodeFrame(FrameType.Headers, encodeFieldSection(fields)));
    link.session.markReady(protocol);
    http3.sessionReady(link);
    try {
      hooks.onSession(link.session, { ...request, protocol });
    } catch {
      link.session.close({ closeCode: 0, reason: 'internal error' });
      return;
    }
    link.attach(frames, finSeen);
  };

  const respondPlain = async (head: RequestHead): Promise<void> => {
    let response: HttpResponse = { status: head.method === 'CONNECT' ? 501 : 404 };
    if (head.method !== 'CONNECT' && hooks.onRequest) {
      try {
        response = await hooks.onRequest({ method: head.method, authority: head.authority, path: head.path, headers: head.headers });
      } catch {
        response = { status: 500 };
      }
    }
    if (http3.quic.isFinished || stream.sendEnded) return;
    const fields = Object.entries(response.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value] as const);
    const body = typeof response.body === 'string' ? new TextEncoder().encode(response.body) : response.body;
    respond(response.status, fields, body);
  };

  /** Waits for the request's HEADERS; 'stop' once the request is being handled or refused. */
  const onBytes = (data: Uint8Array, fin: boolean): 'more' | 'stop' => {
    finSeen ||= fin;
    try {
      frames.push(data);
      for (let event = frames.next(); event; event = frames.next()) {
        if (event.kind === 'unknown') continue;
        if (event.kind !== 'frame' || event.type !== FrameType.Headers) {
          throw new Http3Error(H3ErrorCode.FrameUnexpected, 'a request must start with HEADERS');
        }
        const head = parseRequestHead(decodeFieldSection(event.payload));
        const handled = isWebTransportConnect(head) ? acceptWebTransport(head) : respondPlain(head);
        handled.catch(() => refuse(new Http3Error(H3ErrorCode.InternalError, 'request handler failed')));
        return 'stop';
      }
      if (fin) throw new Http3Error(H3ErrorCode.RequestIncomplete, 'request ended before its HEADERS');
      return 'more';
    } catch (error) {
      refuse(asHttp3Error(error));
      return 'stop';
    }
  };

  if (onBytes(preamble, preambleFin) === 'stop' || preambleFin) return;
  consumeStream(stream, onBytes, () => {});
}
