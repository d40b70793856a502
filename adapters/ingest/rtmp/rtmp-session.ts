import type { Socket } from 'node:net';
import type { MediaSink } from '../../../src/media/frame.ts';
import { AckWindow } from './ack-window.ts';
import { decodeCommand, decodeMetadata, ownField, type RtmpCommand } from './amf.ts';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.ts';
import { RtmpProtocolError } from './errors.ts';
import { RecurringLog, type StructuredLogger } from './logger.ts';
import { RtmpMediaNormalizer } from './media-normalizer.ts';
import { NmsRtmpWire, UserControlEvent } from './nms-rtmp.ts';
import { resolvePublishTarget, StreamNameError, withoutCredentials } from './stream-names.ts';

/** What the gateway learns about a publish attempt. */
export interface RtmpPublishRequest {
  /** `<app>/<stream>`. */
  broadcast: string;
  /** Query from the stream key, `app` or `tcUrl`: for authentication, never part of the name. */
  query: URLSearchParams;
  remoteAddress: string;
  /** Ends this publisher's connection (kick, takeover, shutdown); the sink is closed with `reason`. */
  terminate: (reason: string) => void;
}

/** Returns the sink for an accepted publish; throws an Error (message sent to the client) to refuse. */
/** Opens the sink for a publish; may verify credentials first (async). Throws/rejects to refuse. */
export type OpenPublisher = (request: RtmpPublishRequest) => MediaSink | Promise<MediaSink>;

export interface RtmpSessionOptions {
  socket: Socket;
  openPublisher: OpenPublisher;
  logger: StructuredLogger;
  maxMessageSize: number;
  /** Handshake, connect and publish must all happen within this time. */
  handshakeTimeoutMs: number;
  /** Close after this long without a byte from the peer. */
  idleTimeoutMs: number;
  /** The socket is gone (called once, after the session has finished). */
  onClosed: (session: RtmpSession) => void;
}

/** RTMP message type ids (RTMP 1.0, 5.4 and 7.1). */
const MessageType = {
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  Amf3Data: 15,
  Amf3SharedObject: 16,
  Amf3Command: 17,
  Amf0Data: 18,
  Amf0SharedObject: 19,
  Amf0Command: 20,
  Aggregate: 22,
} as const;

/** Window we ask the client to acknowledge on, and the bandwidth we grant it (librtmp's defaults). */
const SERVER_WINDOW = 2_500_000;
const PEER_BANDWIDTH_DYNAMIC = 2;
/** How long a refused client gets to read our onStatus before the socket is destroyed. */
const REFUSAL_GRACE_MS = 2000;

/**
 * What we tell E-RTMP clients in the connect _result (enhanced-rtmp v2, "Enhancing NetConnection
 * connect Command"): codecs we forward, and that we parse multitrack and ModEx.
 */
const FOURCC_CAN_FORWARD = 0x04;
const CAPS_EX_MULTITRACK = 0x02;
const CAPS_EX_MOD_EX = 0x04;
const ENHANCED_RTMP_CAPABILITIES = {
  videoFourCcInfoMap: { avc1: FOURCC_CAN_FORWARD, hvc1: FOURCC_CAN_FORWARD, av01: FOURCC_CAN_FORWARD, vp09: FOURCC_CAN_FORWARD },
  audioFourCcInfoMap: { mp4a: FOURCC_CAN_FORWARD, Opus: FOURCC_CAN_FORWARD },
  capsEx: CAPS_EX_MULTITRACK | CAPS_EX_MOD_EX,
};

interface Publishing {
  sink: MediaSink;
  normalizer: RtmpMediaNormalizer;
  broadcast: string;
  streamId: number;
}

/**
 * One RTMP connection, publish only: handshake (node-media-server), chunk stream (ours),
 * NetConnection/NetStream commands, media into the sink. Anything wrong closes this connection
 * only, with a logged reason, and closes the sink if one was opened.
 */
export class RtmpSession {
  readonly remoteAddress: string;
  private readonly socket: Socket;
  private readonly options: RtmpSessionOptions;
  private readonly logger: StructuredLogger;
  private readonly recurring: RecurringLog;
  private readonly wire: NmsRtmpWire;
  private readonly chunks: RtmpChunkReader;
  private readonly ack = new AckWindow();
  private connectedApp: { app: string; tcUrl: string | undefined } | null = null;
  private createdStreams = 0;
  private publishing: Publishing | null = null;
  private closed = false;
  private publishPending = false;
  private setupTimer: NodeJS.Timeout | undefined;

  constructor(options: RtmpSessionOptions) {
    this.options = options;
    this.socket = options.socket;
    this.logger = options.logger;
    this.recurring = new RecurringLog(options.logger);
    this.remoteAddress = this.socket.remoteAddress ?? 'unknown';
    this.wire = new NmsRtmpWire(
      (bytes) => {
        if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
      },
      (bytes) => this.chunks.push(bytes),
    );
    this.chunks = new RtmpChunkReader({ maxMessageSize: options.maxMessageSize, onMessage: (message) => this.onMessage(message) });

    this.socket.setNoDelay(true);
    this.socket.setTimeout(options.idleTimeoutMs);
    this.setupTimer = setTimeout(() => this.close(`handshake timeout: no publish within ${options.handshakeTimeoutMs} ms`), options.handshakeTimeoutMs);
    this.socket.on('data', (data: Buffer) => this.onData(data));
    this.socket.on('timeout', () => this.close(`idle timeout: nothing received for ${options.idleTimeoutMs} ms`));
    this.socket.on('end', () => this.close('peer closed the connection'));
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.close(`socket error: ${error.code ?? error.message}`));
    this.socket.on('close', () => {
      this.finish('connection closed');
      this.options.onClosed(this);
    });
  }

  /** End the session now (protocol error, timeout, server shutdown, kick). Idempotent. */
  close(reason: string): void {
    this.finish(reason);
    this.socket.destroy();
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.setupTimer);
    this.logger.info({ reason }, 'rtmp session closed');
    this.endPublishing(reason);
  }

  /** Answered the client (refusal): let it read the reply, then close. */
  private closeAfterReply(reason: string): void {
    this.finish(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), REFUSAL_GRACE_MS).unref();
  }

  private onData(data: Buffer): void {
    if (this.closed) return;
    try {
      this.wire.receive(data);
      const sequence = this.ack.onBytes(data.length);
      if (sequence !== null && !this.closed) this.wire.sendAcknowledgement(sequence);
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (error instanceof RtmpProtocolError) {
      this.logger.warn({ error: error.message }, 'rtmp protocol error');
      this.close(`protocol error: ${error.message}`);
      return;
    }
    // Not a client fault: a bug here or in the sink. Still only this connection goes.
    this.logger.error({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, 'rtmp session failed');
    this.close(`internal error: ${error instanceof Error ? error.message : String(error)}`);
  }

  private onMessage(message: RtmpMessage): void {
    if (this.closed) return;
    switch (message.typeId) {
      case MessageType.Amf0Command:
        return this.onCommand(decodeCommand(message.payload), message.streamId);
      case MessageType.Amf3Command:
        // AMF3 command messages are a format byte (0 = the rest is AMF0) then AMF0 values.
        return this.onCommand(decodeCommand(message.payload.subarray(1)), message.streamId);
      case MessageType.Video:
        if (this.publishing) this.publishing.normalizer.onVideoMessage(message.timestamp, message.payload);
        return;
      case MessageType.Audio:
        if (this.publishing) this.publishing.normalizer.onAudioMessage(message.timestamp, message.payload);
        return;
      case MessageType.Amf0Data:
        return this.onDataMessage(message.payload);
      case MessageType.Amf3Data:
        return this.onDataMessage(message.payload.subarray(1));
      case MessageType.WindowAckSize:
        if (message.payload.length >= 4) this.ack.setWindowSize(message.payload.readUInt32BE(0));
        return;
      case MessageType.UserControl:
        return this.onUserControl(message.payload);
      case MessageType.Aggregate:
        this.recurring.warn('aggregate', {}, 'ignoring RTMP aggregate message (not sent by encoders)');
        return;
      case MessageType.Acknowledgement:
      case MessageType.SetPeerBandwidth:
      case MessageType.Amf0SharedObject:
      case MessageType.Amf3SharedObject:
        return;
      default:
        this.recurring.warn(`type-${message.typeId}`, { typeId: message.typeId }, 'ignoring unknown RTMP message type');
    }
  }

  private onUserControl(payload: Buffer): void {
    if (payload.length >= 6 && payload.readUInt16BE(0) === UserControlEvent.PingRequest) {
      this.wire.sendUserControl(UserControlEvent.PingResponse, payload.readUInt32BE(2));
    }
  }

  private onDataMessage(payload: Buffer): void {
    if (!this.publishing) return;
    let metadata: ReturnType<typeof decodeMetadata>;
    try {
      metadata = decodeMetadata(payload);
    } catch (error) {
      // Metadata is optional: a broken one costs us hints, not the stream.
      if (!(error instanceof RtmpProtocolError)) throw error;
      this.recurring.warn('bad-metadata', { error: error.message }, 'ignoring malformed data message');
      return;
    }
    if (metadata) this.publishing.normalizer.setMetadata(metadata);
  }

  private onCommand(command: RtmpCommand, messageStreamId: number): void {
    if (command.name === 'connect') return this.onConnect(command);
    if (!this.connectedApp) throw new RtmpProtocolError(`command ${JSON.stringify(command.name)} before connect`);
    switch (command.name) {
      case 'createStream':
        this.createdStreams++;
        this.wire.sendCommand(0, { cmd: '_result', transId: command.transactionId, cmdObj: null, info: this.createdStreams });
        return;
      case 'publish':
        void this.onPublish(command, messageStreamId).catch((error: unknown) => this.close(`publish failed: ${String(error)}`));
        return;
      case 'play':
      case 'play2':
        this.logger.info({ stream: withoutCredentials(command.streamName) }, 'refusing RTMP play');
        this.wire.sendStatus(messageStreamId, 'error', 'NetStream.Play.Failed', 'This server does not serve RTMP playback; watch over MoQ or HLS.');
        this.closeAfterReply('play refused');
        return;
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        this.endPublishing(`unpublished (${command.name})`);
        return;
      default:
        // releaseStream, FCPublish, getStreamLength, ...: no reply is expected from a publish server.
        this.logger.debug({ command: command.name }, 'ignoring command');
    }
  }

  private onConnect(command: RtmpCommand): void {
    if (this.connectedApp) throw new RtmpProtocolError('second connect on one connection');
    const app = ownField(command.commandObject, 'app');
    if (typeof app !== 'string') throw new RtmpProtocolError('connect without an app name');
    const tcUrl = ownField(command.commandObject, 'tcUrl');
    const objectEncoding = ownField(command.commandObject, 'objectEncoding');
    this.connectedApp = { app, tcUrl: typeof tcUrl === 'string' ? tcUrl : undefined };
    this.logger.debug({ app: withoutCredentials(app) }, 'connect');

    this.wire.sendWindowAckSize(SERVER_WINDOW);
    this.wire.sendSetPeerBandwidth(SERVER_WINDOW, PEER_BANDWIDTH_DYNAMIC);
    this.wire.sendCommand(0, {
      cmd: '_result',
      transId: command.transactionId,
      cmdObj: { fmsVer: 'FMS/3,0,1,123', capabilities: 31, ...ENHANCED_RTMP_CAPABILITIES },
      info: {
        level: 'status',
        code: 'NetConnection.Connect.Success',
        description: 'Connection succeeded.',
        objectEncoding: typeof objectEncoding === 'number' ? objectEncoding : 0,
      },
    });
  }

  private async onPublish(command: RtmpCommand, streamId: number): Promise<void> {
    const refuse = (reason: string): void => {
      this.logger.info({ stream: withoutCredentials(command.streamName), reason }, 'publish refused');
      this.wire.sendStatus(streamId, 'error', 'NetStream.Publish.BadName', reason);
      this.closeAfterReply(`publish refused: ${reason}`);
    };
    if (this.publishing || this.publishPending) return refuse('this connection is already publishing');
    if (command.streamName === undefined) return refuse('publish without a stream name');
    const { app, tcUrl } = this.connectedApp!;
    let target: ReturnType<typeof resolvePublishTarget>;
    try {
      target = resolvePublishTarget(app, tcUrl, command.streamName);
    } catch (error) {
      if (!(error instanceof StreamNameError)) throw error;
      return refuse(error.message);
    }
    let sink: MediaSink;
    // Encoders wait for NetStream.Publish.Start before sending media, so nothing is lost while
    // credentials are checked; a second publish meanwhile is refused.
    this.publishPending = true;
    try {
      sink = await this.options.openPublisher({
        broadcast: target.broadcast,
        query: target.query,
        remoteAddress: this.remoteAddress,
        terminate: (reason) => this.close(reason),
      });
    } catch (error) {
      return refuse(error instanceof Error ? error.message : String(error));
    } finally {
      this.publishPending = false;
    }
    if (this.closed) {
      sink.close('connection closed while the publish was being authorized');
      return;
    }
    const normalizer = new RtmpMediaNormalizer(sink, this.logger);
    this.publishing = { sink, normalizer, broadcast: target.broadcast, streamId };
    clearTimeout(this.setupTimer);
    this.logger.info({ broadcast: target.broadcast }, 'publishing');
    this.wire.sendUserControl(UserControlEvent.StreamBegin, streamId);
    this.wire.sendStatus(streamId, 'status', 'NetStream.Publish.Start', `${target.broadcast} is now published.`);
  }

  private endPublishing(reason: string): void {
    const publishing = this.publishing;
    if (!publishing) return;
    this.publishing = null;
    this.logger.info({ broadcast: publishing.broadcast, reason }, 'publish ended');
    try {
      publishing.sink.close(reason);
    } catch (error) {
      this.logger.error({ error: error instanceof Error ? error.message : String(error) }, 'sink.close failed');
    }
  }
}
