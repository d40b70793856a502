import { RtmpProtocolError } from './errors.ts';

/**
 * RTMP chunk stream de-multiplexer (Adobe RTMP 1.0 spec, 5.3): bytes after the handshake in,
 * whole messages out.
 *
 * Written here rather than taken from node-media-server 4.4 (src/protocol/rtmp.js chunkRead),
 * whose reader we measured to: allocate `length + 1024` bytes for every message header's
 * unchecked 24-bit length; hand out one payload buffer reused across messages; mis-decode
 * 3-byte basic headers (`(64 + b1 + b2) << 8`); wedge on SetChunkSize 0 (NaN arithmetic); and
 * silently drop every message once a chunk stream's accumulated clock passes 2^32 ms. Here a
 * message is only collected after its length is checked against `maxMessageSize`, memory grows
 * with bytes actually received, and each message gets its own buffer.
 */

export interface RtmpMessage {
  /** Message type id (1..6 protocol control, 8 audio, 9 video, 18/15 data, 20/17 command, ...). */
  typeId: number;
  /** Message stream id (0 for the NetConnection, else a NetStream). */
  streamId: number;
  /** Message timestamp in ms, 32-bit, wrapping as the protocol does. */
  timestamp: number;
  /** Owned by the receiver: never reused by the reader. */
  payload: Buffer;
}

export interface ChunkReaderOptions {
  /** Largest message accepted; a header announcing more is a protocol error. */
  maxMessageSize: number;
  onMessage: (message: RtmpMessage) => void;
}

const MESSAGE_HEADER_SIZE = [11, 7, 3, 0] as const;
const EXTENDED_TIMESTAMP_MARKER = 0xffffff;
const DEFAULT_CHUNK_SIZE = 128;
const TYPE_SET_CHUNK_SIZE = 1;
const TYPE_ABORT = 2;
/** Basic header (3) + type-0 message header (11) + extended timestamp (4). */
const MAX_CHUNK_HEADER = 18;
/** Messages are collected in pieces of at most this size (one piece for most audio/video). */
const PIECE_SIZE = 64 * 1024;

interface ChunkStream {
  /** Timestamp of the last message started on this chunk stream. */
  timestamp: number;
  /**
   * The last timestamp field seen (absolute for type 0, delta for types 1/2); a type-3 header
   * that starts a new message adds it again. This is how ffmpeg, librtmp and nginx-rtmp agree
   * to read the spec's "same delta as the preceding chunk".
   */
  timestampField: number;
  /** Whether that field was the 0xFFFFFF marker: then type-3 chunks also carry 4 bytes. */
  extended: boolean;
  length: number;
  typeId: number;
  streamId: number;
  /** Message being collected, or null between messages. */
  pieces: Buffer[] | null;
  /** Bytes of the message received so far; every piece but the last is full. */
  received: number;
  /** Bytes used in the last piece. */
  lastPieceFill: number;
}

export class RtmpChunkReader {
  private readonly maxMessageSize: number;
  private readonly onMessage: (message: RtmpMessage) => void;
  private readonly streams = new Map<number, ChunkStream>();
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly header = Buffer.alloc(MAX_CHUNK_HEADER);
  private headerLength = 0;
  /** Chunk stream whose payload bytes are being read, or null while reading a header. */
  private current: ChunkStream | null = null;
  private payloadLeftInChunk = 0;
  /** Bytes held in unfinished messages across all chunk streams. */
  private pendingBytes = 0;

  constructor(options: ChunkReaderOptions) {
    this.maxMessageSize = options.maxMessageSize;
    this.onMessage = options.onMessage;
  }

  get inChunkSize(): number {
    return this.chunkSize;
  }

  /** Feed socket bytes. Throws RtmpProtocolError on a broken chunk stream. */
  push(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      if (this.current === null) {
        const next = this.readHeaderBytes(data, offset);
        if (next < 0) return; // header incomplete: wait for more bytes
        offset = next;
      } else {
        offset = this.readPayloadBytes(this.current, data, offset);
      }
    }
  }

  /** Copy header bytes until the header is complete, then start its chunk; -1 if bytes ran out. */
  private readHeaderBytes(data: Buffer, start: number): number {
    let offset = start;
    for (;;) {
      const needed = this.headerBytesNeeded();
      if (this.headerLength >= needed) break;
      if (offset >= data.length) return -1;
      const n = Math.min(needed - this.headerLength, data.length - offset);
      data.copy(this.header, this.headerLength, offset, offset + n);
      this.headerLength += n;
      offset += n;
    }
    this.startChunk();
    this.headerLength = 0;
    return offset;
  }

  /** How many header bytes this chunk has, as far as the bytes read so far tell. */
  private headerBytesNeeded(): number {
    if (this.headerLength < 1) return 1;
    const basic = basicHeaderSize(this.header[0]!);
    if (this.headerLength < basic) return basic;
    const fmt = this.header[0]! >> 6;
    const base = basic + MESSAGE_HEADER_SIZE[fmt as 0 | 1 | 2 | 3];
    if (this.headerLength < base) return base;
    let extended: boolean;
    if (fmt < 3) {
      extended = this.header.readUIntBE(basic, 3) === EXTENDED_TIMESTAMP_MARKER;
    } else {
      extended = this.streams.get(this.chunkStreamId())?.extended ?? false;
    }
    return base + (extended ? 4 : 0);
  }

  private chunkStreamId(): number {
    const h = this.header;
    const low = h[0]! & 0x3f;
    if (low === 0) return 64 + h[1]!;
    if (low === 1) return 64 + h[1]! + h[2]! * 256;
    return low;
  }

  private startChunk(): void {
    const h = this.header;
    const fmt = h[0]! >> 6;
    const csid = this.chunkStreamId();
    const basic = basicHeaderSize(h[0]!);
    let stream = this.streams.get(csid);
    if (!stream) {
      // RTMP 1.0, 5.3.1.2.1: type 0 MUST start a chunk stream; other types refer to state we lack.
      if (fmt !== 0) throw new RtmpProtocolError(`chunk stream ${csid} starts with a type-${fmt} header`);
      stream = { timestamp: 0, timestampField: 0, extended: false, length: 0, typeId: 0, streamId: 0, pieces: null, received: 0, lastPieceFill: 0 };
      this.streams.set(csid, stream);
    }

    if (stream.pieces !== null) {
      if (fmt !== 3) {
        throw new RtmpProtocolError(`type-${fmt} header on chunk stream ${csid} in the middle of a message`);
      }
      // Continuation chunk: any extended timestamp it repeats carries no new information.
    } else {
      this.startMessage(stream, fmt, basic);
    }

    this.current = stream;
    this.payloadLeftInChunk = Math.min(this.chunkSize, stream.length - stream.received);
    if (stream.length === 0) this.finishMessage(stream);
  }

  private startMessage(stream: ChunkStream, fmt: number, basic: number): void {
    const h = this.header;
    if (fmt < 3) {
      let field = h.readUIntBE(basic, 3);
      stream.extended = field === EXTENDED_TIMESTAMP_MARKER;
      if (stream.extended) field = h.readUInt32BE(basic + MESSAGE_HEADER_SIZE[fmt as 0 | 1 | 2]);
      stream.timestampField = field;
      if (fmt <= 1) {
        stream.length = h.readUIntBE(basic + 3, 3);
        stream.typeId = h[basic + 6]!;
      }
      if (fmt === 0) {
        stream.streamId = h.readUInt32LE(basic + 7);
        stream.timestamp = field;
      } else {
        stream.timestamp = (stream.timestamp + field) >>> 0;
      }
    } else {
      stream.timestamp = (stream.timestamp + stream.timestampField) >>> 0;
    }
    if (stream.length > this.maxMessageSize) {
      throw new RtmpProtocolError(`message of ${stream.length} bytes exceeds the ${this.maxMessageSize}-byte limit`);
    }
    if (this.pendingBytes + stream.length > 2 * this.maxMessageSize) {
      throw new RtmpProtocolError('too many interleaved unfinished messages');
    }
    stream.pieces = [];
    stream.received = 0;
    stream.lastPieceFill = 0;
  }

  private readPayloadBytes(stream: ChunkStream, data: Buffer, offset: number): number {
    const n = Math.min(this.payloadLeftInChunk, data.length - offset);
    if (n > 0) {
      this.append(stream, data, offset, n);
      this.pendingBytes += n;
      this.payloadLeftInChunk -= n;
    }
    if (this.payloadLeftInChunk === 0) {
      this.current = null;
      if (stream.received === stream.length) this.finishMessage(stream);
    }
    return offset + n;
  }

  /**
   * Copy payload bytes into the message (the caller may reuse `data`, and a view would pin the
   * whole socket read). Pieces of up to PIECE_SIZE are allocated as bytes arrive, so memory
   * follows what the peer actually sent, and a tiny chunk size cannot make one object per chunk.
   */
  private append(stream: ChunkStream, data: Buffer, offset: number, n: number): void {
    const pieces = stream.pieces!;
    let copied = 0;
    while (copied < n) {
      let last = pieces[pieces.length - 1];
      if (last === undefined || stream.lastPieceFill === last.length) {
        last = Buffer.allocUnsafe(Math.min(stream.length - stream.received, PIECE_SIZE));
        pieces.push(last);
        stream.lastPieceFill = 0;
      }
      const k = Math.min(n - copied, last.length - stream.lastPieceFill);
      data.copy(last, stream.lastPieceFill, offset + copied, offset + copied + k);
      stream.lastPieceFill += k;
      stream.received += k;
      copied += k;
    }
  }

  private finishMessage(stream: ChunkStream): void {
    const pieces = stream.pieces!;
    const payload = pieces.length === 1 ? pieces[0]! : pieces.length === 0 ? Buffer.alloc(0) : Buffer.concat(pieces, stream.length);
    this.pendingBytes -= stream.received;
    stream.pieces = null;
    stream.received = 0;
    this.current = null;
    const message: RtmpMessage = { typeId: stream.typeId, streamId: stream.streamId, timestamp: stream.timestamp, payload };
    if (this.handleControl(message)) return;
    this.onMessage(message);
  }

  /** SetChunkSize and Abort change how chunks are read, so they are applied here (RTMP 1.0, 5.4.1-2). */
  private handleControl(message: RtmpMessage): boolean {
    if (message.typeId === TYPE_SET_CHUNK_SIZE) {
      if (message.payload.length < 4) throw new RtmpProtocolError('truncated SetChunkSize');
      // RTMP 1.0 §5.4.1: "The first bit of this field MUST be zero." A peer that sets it is
      // broken (or probing), and guessing what it meant would misframe every later chunk.
      // Sizes above the message size limit behave like the limit.
      const size = message.payload.readUInt32BE(0);
      if (size & 0x80000000) throw new RtmpProtocolError(`SetChunkSize 0x${size.toString(16)} has the reserved top bit set`);
      if (size < 1) throw new RtmpProtocolError('SetChunkSize 0');
      this.chunkSize = size;
      return true;
    }
    if (message.typeId === TYPE_ABORT) {
      if (message.payload.length < 4) throw new RtmpProtocolError('truncated Abort message');
      const aborted = this.streams.get(message.payload.readUInt32BE(0));
      if (aborted?.pieces) {
        this.pendingBytes -= aborted.received;
        aborted.pieces = null;
        aborted.received = 0;
      }
      return true;
    }
    return false;
  }
}

function basicHeaderSize(firstByte: number): number {
  const low = firstByte & 0x3f;
  return low === 0 ? 2 : low === 1 ? 3 : 1;
}
