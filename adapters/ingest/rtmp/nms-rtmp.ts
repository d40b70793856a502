import { createRequire } from 'node:module';
import { RtmpProtocolError } from './errors.ts';

/**
 * The one place that touches node-media-server 4.4's untyped RTMP protocol class
 * (src/protocol/rtmp.js). We use it for what it does well: the server side of the handshake
 * (simple and digest "complex" variants, which ffmpeg and Flash-era encoders check) and
 * serializing outgoing control/command messages. Everything after the handshake is routed to
 * our own chunk reader by replacing the instance's `chunkRead`, and nothing of its session,
 * FLV or AVPacket layers is used.
 */

/** The members of node-media-server's `Rtmp` instance this module relies on. */
interface NmsRtmpInstance {
  /** 0 before C0, 1 reading C1, 2 reading C2, 3 handshake done (then every byte goes to chunkRead). */
  handshakeState: number;
  parserData(buffer: Buffer): string | null;
  chunkRead(data: Buffer, offset: number, length: number): string | null;
  onOutputCallback: (buffer: Buffer) => void;
  sendACK(sequenceNumber: number): void;
  sendWindowACK(size: number): void;
  setPeerBandwidth(size: number, limitType: number): void;
  setChunkSize(size: number): void;
  sendStreamStatus(eventType: number, value: number): void;
  sendInvokeMessage(streamId: number, command: OutgoingCommand): void;
  sendStatusMessage(streamId: number, level: string, code: string, description: string): void;
}
type NmsRtmpConstructor = new () => NmsRtmpInstance;

/** An AMF0 command as node-media-server's encoder takes it (field order from its command table). */
export interface OutgoingCommand {
  cmd: '_result' | '_error' | 'onStatus';
  transId: number;
  cmdObj: Record<string, unknown> | null;
  info: Record<string, unknown> | number | null;
}

const require = createRequire(import.meta.url);
const NmsRtmp = require('node-media-server/src/protocol/rtmp.js') as NmsRtmpConstructor;

const RTMP_VERSION = 3;
const HANDSHAKE_DONE = 3;
/**
 * node-media-server frames every outgoing message in chunks of 65535 bytes whatever it
 * announced, so the peer must be told that size before the first command we send.
 */
const OUT_CHUNK_SIZE = 0xffff;

/** User control event types (RTMP 1.0, 7.1.7). */
export const UserControlEvent = { StreamBegin: 0, PingRequest: 6, PingResponse: 7 } as const;

export class NmsRtmpWire {
  private readonly rtmp: NmsRtmpInstance;
  private versionChecked = false;
  private chunkSizeSent = false;

  /**
   * @param write sends bytes to the peer
   * @param onChunkBytes receives every byte after the handshake (the chunk stream)
   */
  constructor(write: (bytes: Buffer) => void, onChunkBytes: (bytes: Buffer) => void) {
    const rtmp = new NmsRtmp();
    rtmp.onOutputCallback = write;
    rtmp.chunkRead = (data, offset, length) => {
      onChunkBytes(data.subarray(offset, offset + length));
      return null;
    };
    this.rtmp = rtmp;
  }

  get handshakeComplete(): boolean {
    return this.rtmp.handshakeState === HANDSHAKE_DONE;
  }

  /** Feed socket bytes. Throws RtmpProtocolError for a non-RTMP or encrypted (RTMPE) C0. */
  receive(data: Buffer): void {
    if (data.length === 0) return;
    if (!this.versionChecked) {
      // node-media-server skips C0 unchecked; anything but 3 (6 = RTMPE, 'G' = HTTP...) is not for us.
      if (data[0] !== RTMP_VERSION) throw new RtmpProtocolError(`bad handshake: C0 version byte 0x${data[0]!.toString(16)}`);
      this.versionChecked = true;
    }
    this.rtmp.parserData(data);
  }

  sendAcknowledgement(sequenceNumber: number): void {
    this.rtmp.sendACK(sequenceNumber >>> 0);
  }

  sendWindowAckSize(size: number): void {
    this.rtmp.sendWindowACK(size);
  }

  /** limitType 2 = dynamic (RTMP 1.0, 5.4.5). */
  sendSetPeerBandwidth(size: number, limitType: number): void {
    this.rtmp.setPeerBandwidth(size, limitType);
  }

  sendUserControl(event: number, value: number): void {
    this.ensureChunkSize();
    this.rtmp.sendStreamStatus(event, value >>> 0);
  }

  sendCommand(streamId: number, command: OutgoingCommand): void {
    this.ensureChunkSize();
    this.rtmp.sendInvokeMessage(streamId, command);
  }

  sendStatus(streamId: number, level: 'status' | 'error', code: string, description: string): void {
    this.ensureChunkSize();
    this.rtmp.sendStatusMessage(streamId, level, code, description);
  }

  private ensureChunkSize(): void {
    if (this.chunkSizeSent) return;
    this.rtmp.setChunkSize(OUT_CHUNK_SIZE);
    this.chunkSizeSent = true;
  }
}
