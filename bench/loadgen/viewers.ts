/**
 * Lean bench viewers: each holds one session and reports whole frames to a Tally. No client
 * library, no streams API, no per-frame promises:
 * - moq-lite over WebSocket: a raw TCP WebSocket client (ws-client.ts), QMux (or
 *   web-transport-ws) framing parsed in place;
 * - moq-lite over raw QUIC: the gateway's own QUIC client (src/transport/quic/dial.ts), stream
 *   readiness callbacks, no WebTransport wrapper;
 * - bare WebSocket: every message is one frame (the bare-ws baseline server).
 */
import { dial } from '../../src/transport/quic/dial.ts';
import type { QuicConnection } from '../../src/transport/quic/quic-connection.ts';
import type { QuicStream } from '../../src/transport/quic/quic-stream.ts';
import { GroupParser } from './group-parser.ts';
import { LITE_ALPN, subscribeStreamBytes } from './lite-subscribe.ts';
import { type WsFraming, receiveMessage, streamFrame, transportParameters } from './qmux.ts';
import { HEAD_BYTES, type Tally, type ViewerCounts } from './tally.ts';
import { type RawWebSocket, connectRawWebSocket } from './ws-client.ts';

export interface Viewer extends ViewerCounts {
  close(): void;
}

export interface ViewerTarget {
  url: string;
  broadcast: string;
  track: string;
  certificateSha256?: string;
  framing?: WsFraming;
  timeoutMs?: number;
}

function counts(): ViewerCounts {
  return { frames: 0, bytes: 0, ended: false };
}

/** moq-lite-04 over WebSocket: SUBSCRIBE on stream 0, then every server uni stream is a group. */
export async function openWsLiteViewer(target: ViewerTarget, tally: Tally): Promise<Viewer> {
  const framing = target.framing ?? 'qmux-02';
  const url = new URL(target.url);
  const viewer: Viewer = { ...counts(), close: () => undefined };
  const groups = new Map<number, GroupParser>();
  const onFrame = (head: Uint8Array, size: number) => tally.frame(viewer, head, size);
  let socket: RawWebSocket | undefined;
  const sink = {
    onStream(id: number, data: Uint8Array, fin: boolean) {
      if ((id & 0x3) !== 0x3) return; // our SUBSCRIBE stream: SUBSCRIBE_OK, not needed
      let parser = groups.get(id);
      if (!parser) groups.set(id, (parser = new GroupParser(onFrame)));
      parser.push(data);
      if (fin) groups.delete(id);
    },
    onReset: (id: number) => groups.delete(id),
    onClose: () => socket?.close(),
    reply: (bytes: Uint8Array) => socket?.send(bytes),
  };
  socket = await connectRawWebSocket(url, [`${framing}.${LITE_ALPN}`], { onMessage: (data) => receiveMessage(framing, data, sink), onClose: () => (viewer.ended = true) }, target.timeoutMs ?? 15_000);
  viewer.close = () => socket.close();
  if (framing !== 'webtransport') socket.send(transportParameters());
  socket.send(streamFrame(framing, 0, subscribeStreamBytes(target.broadcast, target.track)));
  return viewer;
}

/** moq-lite-04 over raw QUIC through the gateway's QUIC client, callbacks only. */
export async function openQuicLiteViewer(target: ViewerTarget, tally: Tally): Promise<Viewer> {
  const url = new URL(target.url.replace(/^http:/, 'https:'));
  const hashes = target.certificateSha256 ? [{ algorithm: 'sha-256', value: target.certificateSha256 }] : undefined;
  const connection: QuicConnection = await dial(url, { alpns: [LITE_ALPN], serverCertificateHashes: hashes, handshakeTimeoutMs: target.timeoutMs ?? 15_000 });
  const viewer: Viewer = { ...counts(), close: () => connection.close(true, 0, 'bench done') };
  const onFrame = (head: Uint8Array, size: number) => tally.frame(viewer, head, size);
  const drain = (stream: QuicStream, parser?: GroupParser) => {
    stream.onReadable = () => {
      try {
        for (let chunk = stream.read(); chunk; chunk = stream.read()) parser?.push(chunk.data);
      } catch {
        // reset by the gateway (a late group dropped): nothing to count
      }
    };
    stream.onReadable();
  };
  connection.handler = {
    onStream: (stream) => drain(stream, stream.bidirectional ? undefined : new GroupParser(onFrame)),
    onDatagram: () => undefined,
    onClosed: () => (viewer.ended = true),
  };
  connection.schedule(); // dispatch what arrived before the handler
  const subscribe = await connection.openStreamWhenAllowed(true);
  drain(subscribe);
  subscribe.write(subscribeStreamBytes(target.broadcast, target.track));
  return viewer;
}

/** A bare-ws baseline viewer: one binary message = one frame. */
export async function openBareWsViewer(target: ViewerTarget, tally: Tally): Promise<Viewer> {
  const viewer: Viewer = { ...counts(), close: () => undefined };
  const socket = await connectRawWebSocket(new URL(target.url), [], { onMessage: (data) => tally.frame(viewer, data.subarray(0, HEAD_BYTES), data.byteLength), onClose: () => (viewer.ended = true) }, target.timeoutMs ?? 15_000);
  viewer.close = () => socket.close();
  return viewer;
}
