/**
 * Client side of WebTransport session establishment (draft-ietf-webtrans-http3 §3.2): wait
 * for the server's SETTINGS, send an extended CONNECT (RFC 9220) offering
 * `wt-available-protocols`, and read the response; a 2xx establishes the session with the
 * `wt-protocol` the server chose (§3.3).
 */
import { WebTransportError } from '../quic/webtransport-error.ts';
import { FrameReader, FrameType, encodeFrame } from './frames.ts';
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import type { Http3Connection } from './http3-connection.ts';
import { decodeFieldSection, encodeFieldSection, type FieldLine } from './qpack.ts';
import { parseResponseHead } from './request-head.ts';
import { SettingId } from './settings.ts';
import { StreamWriter, consumeStream } from './stream-io.ts';
import { parseProtocolItem, serializeString } from './structured-fields.ts';
import { WebTransportErrorCode } from './webtransport-codes.ts';
import type { WebTransportLink } from './webtransport-link.ts';

export interface SessionRequest {
  readonly authority: string;
  readonly path: string;
  readonly origin?: string;
  readonly protocols?: readonly string[];
}

/** draft-02 servers (Chromium's default) and the current draft both accept these SETTINGS. */
function supportsWebTransport(settings: ReadonlyMap<number, number>): boolean {
  return settings.get(SettingId.EnableWebTransportDraft02) === 1 || settings.get(0x2c7cf000) === 1;
}

/** Starts the request; the returned link's session becomes ready or fails. */
export async function requestSession(http3: Http3Connection, request: SessionRequest): Promise<WebTransportLink> {
  const settings = await http3.whenPeerSettings();
  if (!settings) throw new WebTransportError('connection closed before the server sent SETTINGS', { source: 'session' });
  if (!supportsWebTransport(settings)) {
    http3.connectionError(WebTransportErrorCode.RequirementsNotMet, 'server SETTINGS do not enable WebTransport');
    throw new WebTransportError('server does not support WebTransport', { source: 'session' });
  }
  const stream = await http3.openStream(true);
  const writer = new StreamWriter(stream);
  const link = http3.createLink(stream, writer);
  const fields: FieldLine[] = [
    [':method', 'CONNECT'],
    [':protocol', 'webtransport'],
    [':scheme', 'https'],
    [':authority', request.authority],
    [':path', request.path],
    ['sec-webtransport-http3-draft02', '1'],
  ];
  if (request.origin) fields.push(['origin', request.origin]);
  const offered = request.protocols ?? [];
  if (offered.length > 0) fields.push(['wt-available-protocols', offered.map(serializeString).join(', ')]);
  writer.write(encodeFrame(FrameType.Headers, encodeFieldSection(fields)));

  const frames = new FrameReader();
  consumeStream(
    stream,
    (data, fin) => {
      try {
        frames.push(data);
        for (let event = frames.next(); event; event = frames.next()) {
          if (event.kind === 'unknown') continue;
          if (event.kind !== 'frame' || event.type !== FrameType.Headers) throw new Http3Error(H3ErrorCode.FrameUnexpected, 'response must start with HEADERS');
          const head = parseResponseHead(decodeFieldSection(event.payload));
          if (head.status < 200) continue; // informational
          if (head.status > 299) {
            link.session.markFailed(new WebTransportError(`server refused the session with status ${head.status}`, { source: 'session' }));
            link.fail(new Http3Error(H3ErrorCode.NoError, `status ${head.status}`));
            return 'stop';
          }
          const chosen = parseProtocolItem(head.headers.get('wt-protocol') ?? '');
          if (chosen !== undefined && !offered.includes(chosen)) {
            link.fail(new Http3Error(WebTransportErrorCode.AlpnError, `server chose unoffered protocol ${chosen}`));
            return 'stop';
          }
          link.session.markReady(chosen ?? '');
          http3.sessionReady(link);
          link.attach(frames, fin);
          return 'stop';
        }
        if (fin) throw new Http3Error(H3ErrorCode.RequestIncomplete, 'stream ended before the response');
        return 'more';
      } catch (error) {
        link.fail(error instanceof Http3Error ? error : new Http3Error(H3ErrorCode.InternalError, String(error)));
        return 'stop';
      }
    },
    (resetCode, error) =>
      link.connectionLost(error?.message ?? `CONNECT stream reset by the server (code 0x${(resetCode ?? 0).toString(16)})`),
  );
  return link;
}
