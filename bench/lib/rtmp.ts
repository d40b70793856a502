/**
 * A minimal RTMP client for the bench, publisher and player: simple handshake, chunk stream
 * (writing fmt 0 + fmt 3 chunks, reading all four formats and extended timestamps), AMF0 commands,
 * acknowledgements and ping answers. Publishing sends FLV video tags (AVC); playing hands every
 * video message body to a callback. Enough for the gateway, node-media-server and nginx-rtmp.
 */
import net from 'node:net';

export type Amf = number | boolean | string | null | undefined | { [key: string]: Amf } | Amf[];

// ---------------------------------------------------------------- AMF0

export function amfEncode(values: Amf[]): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(2);
    h.writeUInt16BE(b.length);
    return Buffer.concat([h, b]);
  };
  const enc = (v: Amf): void => {
    if (typeof v === 'number') {
      const b = Buffer.alloc(9);
      b[0] = 0x00;
      b.writeDoubleBE(v, 1);
      parts.push(b);
    } else if (typeof v === 'boolean') parts.push(Buffer.from([0x01, v ? 1 : 0]));
    else if (typeof v === 'string') parts.push(Buffer.from([0x02]), str(v));
    else if (v === null) parts.push(Buffer.from([0x05]));
    else if (v === undefined) parts.push(Buffer.from([0x06]));
    else if (Array.isArray(v)) {
      const h = Buffer.alloc(5);
      h[0] = 0x0a;
      h.writeUInt32BE(v.length, 1);
      parts.push(h);
      for (const item of v) enc(item);
    } else {
      parts.push(Buffer.from([0x03]));
      for (const [k, item] of Object.entries(v)) {
        parts.push(str(k));
        enc(item);
      }
      parts.push(Buffer.from([0, 0, 9]));
    }
  };
  for (const v of values) enc(v);
  return Buffer.concat(parts);
}

export function amfDecode(buf: Buffer): Amf[] {
  let at = 0;
  const str = (): string => {
    const n = buf.readUInt16BE(at);
    at += 2;
    const s = buf.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const props = (): { [key: string]: Amf } => {
    const o: { [key: string]: Amf } = {};
    for (;;) {
      if (at + 3 <= buf.length && buf[at] === 0 && buf[at + 1] === 0 && buf[at + 2] === 9) {
        at += 3;
        return o;
      }
      if (at >= buf.length) return o;
      const k = str();
      o[k] = dec();
    }
  };
  const dec = (): Amf => {
    const type = buf[at++];
    switch (type) {
      case 0x00: {
        const v = buf.readDoubleBE(at);
        at += 8;
        return v;
      }
      case 0x01:
        return buf[at++] !== 0;
      case 0x02:
        return str();
      case 0x03:
        return props();
      case 0x05:
        return null;
      case 0x06:
        return undefined;
      case 0x08:
        at += 4;
        return props();
      case 0x0a: {
        const n = buf.readUInt32BE(at);
        at += 4;
        const arr: Amf[] = [];
        for (let i = 0; i < n; i++) arr.push(dec());
        return arr;
      }
      case 0x0b:
        at += 10;
        return null;
      case 0x0c: {
        const n = buf.readUInt32BE(at);
        at += 4;
        const s = buf.toString('utf8', at, at + n);
        at += n;
        return s;
      }
      default:
        throw new Error(`AMF0 type 0x${(type ?? 0).toString(16)} not supported`);
    }
  };
  const out: Amf[] = [];
  while (at < buf.length) out.push(dec());
  return out;
}

// ---------------------------------------------------------------- chunks

const MSG_SET_CHUNK_SIZE = 1;
const MSG_ACK = 3;
const MSG_USER_CONTROL = 4;
const MSG_WINDOW_ACK = 5;
const MSG_SET_PEER_BW = 6;
const MSG_AUDIO = 8;
const MSG_VIDEO = 9;
const MSG_DATA_AMF0 = 18;
const MSG_COMMAND_AMF0 = 20;

interface InMessage {
  type: number;
  streamId: number;
  timestamp: number;
  body: Buffer;
}

interface ChunkState {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  extended: boolean;
  parts: Buffer[];
  received: number;
}

/** Reassembles RTMP messages from the chunk stream. */
class ChunkReader {
  chunkSize = 128;
  #buf: Buffer = Buffer.alloc(0);
  readonly #streams = new Map<number, ChunkState>();

  constructor(readonly onMessage: (m: InMessage) => void) {}

  push(data: Buffer): void {
    this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    let at = 0;
    const buf = this.#buf;
    for (;;) {
      const consumed = this.#chunk(buf, at);
      if (consumed === 0) break;
      at += consumed;
    }
    this.#buf = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
  }

  /** Parses one chunk at `at`; returns bytes consumed or 0 when incomplete. */
  #chunk(buf: Buffer, at: number): number {
    const start = at;
    if (buf.length - at < 1) return 0;
    const b0 = buf[at++]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    if (csid === 0) {
      if (buf.length - at < 1) return 0;
      csid = 64 + buf[at++]!;
    } else if (csid === 1) {
      if (buf.length - at < 2) return 0;
      csid = 64 + buf[at]! + buf[at + 1]! * 256;
      at += 2;
    }
    const headerSize = [11, 7, 3, 0][fmt]!;
    if (buf.length - at < headerSize) return 0;
    let state = this.#streams.get(csid);
    if (!state) {
      state = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, parts: [], received: 0 };
      this.#streams.set(csid, state);
    }
    let ts = 0;
    let length = state.length;
    let type = state.type;
    let streamId = state.streamId;
    if (fmt <= 2) ts = buf.readUIntBE(at, 3);
    if (fmt <= 1) {
      length = buf.readUIntBE(at + 3, 3);
      type = buf[at + 6]!;
    }
    if (fmt === 0) streamId = buf.readUInt32LE(at + 7);
    at += headerSize;
    let extended = fmt === 3 ? state.extended : ts === 0xffffff;
    if (extended) {
      if (buf.length - at < 4) return 0;
      // fmt 3 carries the extended timestamp again only if the first chunk had it.
      const ext = buf.readUInt32BE(at);
      at += 4;
      if (fmt !== 3) ts = ext;
    }
    const newMessage = state.received === 0;
    const remaining = (newMessage ? length : state.length) - state.received;
    const take = Math.min(remaining, this.chunkSize);
    if (buf.length - at < take) return 0;
    // Commit header state only once the whole chunk is here.
    if (newMessage) {
      if (fmt === 0) {
        state.timestamp = ts;
        state.delta = 0;
      } else if (fmt === 1 || fmt === 2) {
        state.delta = ts;
        state.timestamp += ts;
      } else {
        state.timestamp += state.delta;
      }
      state.length = length;
      state.type = type;
      state.streamId = streamId;
      state.extended = extended;
    }
    extended = state.extended;
    state.parts.push(buf.subarray(at, at + take));
    state.received += take;
    at += take;
    if (state.received >= state.length) {
      const body = state.parts.length === 1 ? Buffer.from(state.parts[0]!) : Buffer.concat(state.parts);
      state.parts = [];
      state.received = 0;
      this.onMessage({ type: state.type, streamId: state.streamId, timestamp: state.timestamp, body });
    }
    return at - start;
  }
}

/** Encodes one message as fmt 0 + fmt 3 chunks. */
function encodeMessage(csid: number, type: number, streamId: number, timestamp: number, body: Buffer, chunkSize: number): Buffer {
  const extended = timestamp >= 0xffffff;
  const header = Buffer.alloc(12 + (extended ? 4 : 0));
  header[0] = csid & 0x3f; // csid 2..63
  header.writeUIntBE(extended ? 0xffffff : timestamp, 1, 3);
  header.writeUIntBE(body.length, 4, 3);
  header[7] = type;
  header.writeUInt32LE(streamId, 8);
  if (extended) header.writeUInt32BE(timestamp, 12);
  const chunks = Math.max(1, Math.ceil(body.length / chunkSize));
  const contHeader = extended ? Buffer.alloc(5) : Buffer.alloc(1);
  contHeader[0] = 0xc0 | (csid & 0x3f);
  if (extended) contHeader.writeUInt32BE(timestamp, 1);
  const out = Buffer.allocUnsafe(header.length + body.length + (chunks - 1) * contHeader.length);
  let at = header.copy(out, 0);
  for (let i = 0; i < chunks; i++) {
    if (i > 0) at += contHeader.copy(out, at);
    at += body.copy(out, at, i * chunkSize, Math.min(body.length, (i + 1) * chunkSize));
  }
  return out;
}

// ---------------------------------------------------------------- connection

export interface RtmpUrl {
  host: string;
  port: number;
  app: string;
  stream: string;
  tcUrl: string;
}

export function parseRtmpUrl(url: string): RtmpUrl {
  const u = new URL(url);
  const parts = u.pathname.replace(/^\//, '').split('/');
  const app = parts.shift() ?? '';
  const stream = parts.join('/') + u.search;
  return { host: u.hostname, port: Number(u.port || 1935), app, stream, tcUrl: `rtmp://${u.hostname}:${u.port || 1935}/${app}` };
}

const OUT_CHUNK_SIZE = 4096;

class RtmpConnection {
  readonly socket: net.Socket;
  readonly #reader: ChunkReader;
  #handshakeDone = false;
  #hsBuf = Buffer.alloc(0);
  #transaction = 1;
  readonly #pending = new Map<number, { resolve: (v: Amf[]) => void; reject: (e: Error) => void }>();
  readonly #statusWaiters: Array<(info: { [key: string]: Amf }) => void> = [];
  #ackWindow = 2_500_000;
  #received = 0;
  #lastAck = 0;
  closed = false;
  readonly done: Promise<void>;
  onVideo: ((timestamp: number, body: Buffer) => void) | undefined;
  onAudio: ((timestamp: number, body: Buffer) => void) | undefined;
  bytesReceived = 0;

  constructor(readonly target: RtmpUrl) {
    this.socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    this.#reader = new ChunkReader((m) => this.#onMessage(m));
    this.done = new Promise((resolve) => {
      this.socket.once('close', () => {
        this.closed = true;
        for (const p of this.#pending.values()) p.reject(new Error('RTMP connection closed'));
        this.#pending.clear();
        resolve();
      });
    });
    this.socket.on('error', () => undefined);
  }

  async handshake(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    const c1 = Buffer.alloc(1536);
    for (let i = 8; i < 1536; i++) c1[i] = (Math.random() * 256) | 0;
    this.socket.write(Buffer.concat([Buffer.from([3]), c1]));
    await new Promise<void>((resolve, reject) => {
      const onData = (data: Buffer) => {
        if (this.#handshakeDone) return;
        this.#hsBuf = Buffer.concat([this.#hsBuf, data]);
        if (this.#hsBuf.length < 1 + 1536 + 1536) return;
        const s1 = this.#hsBuf.subarray(1, 1537);
        const rest = this.#hsBuf.subarray(1 + 1536 + 1536);
        this.#handshakeDone = true;
        this.socket.write(s1); // C2 = echo of S1
        this.socket.off('data', onData);
        this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
        if (rest.length) this.#onData(Buffer.from(rest));
        resolve();
      };
      this.socket.on('data', onData);
      this.socket.once('close', () => reject(new Error('closed during handshake')));
    });
    this.#send(2, MSG_SET_CHUNK_SIZE, 0, 0, u32(OUT_CHUNK_SIZE), 128);
  }

  #onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.#received += chunk.length;
    if (this.#received - this.#lastAck >= this.#ackWindow / 2) {
      this.#lastAck = this.#received;
      this.#send(2, MSG_ACK, 0, 0, u32(this.#received >>> 0));
    }
    this.#reader.push(chunk);
  }

  #send(csid: number, type: number, streamId: number, timestamp: number, body: Buffer, chunkSize = OUT_CHUNK_SIZE): boolean {
    if (this.closed || this.socket.destroyed) return false;
    return this.socket.write(encodeMessage(csid, type, streamId, timestamp, body, chunkSize));
  }

  command(name: string, args: Amf[], streamId = 0, csid = 3): Promise<Amf[]> {
    const id = this.#transaction++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send(csid, MSG_COMMAND_AMF0, streamId, 0, amfEncode([name, id, ...args]));
    });
  }

  /** A command nobody answers (transaction 0). */
  notify(name: string, args: Amf[], streamId = 0, csid = 3): void {
    this.#send(csid, MSG_COMMAND_AMF0, streamId, 0, amfEncode([name, 0, ...args]));
  }

  data(streamId: number, values: Amf[]): void {
    this.#send(4, MSG_DATA_AMF0, streamId, 0, amfEncode(values));
  }

  video(streamId: number, timestamp: number, body: Buffer): boolean {
    return this.#send(6, MSG_VIDEO, streamId, timestamp, body);
  }

  audio(streamId: number, timestamp: number, body: Buffer): boolean {
    return this.#send(4, MSG_AUDIO, streamId, timestamp, body);
  }

  status(code: RegExp, ms = 10_000): Promise<{ [key: string]: Amf }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no onStatus ${code} within ${ms} ms`)), ms);
      const waiter = (info: { [key: string]: Amf }) => {
        const c = String(info.code ?? '');
        if (code.test(c)) {
          clearTimeout(timer);
          resolve(info);
        } else if (/Failed|BadName|Rejected|Error/i.test(c)) {
          clearTimeout(timer);
          reject(new Error(`RTMP ${c}: ${String(info.description ?? '')}`));
        } else this.#statusWaiters.push(waiter);
      };
      this.#statusWaiters.push(waiter);
      void this.done.then(() => {
        clearTimeout(timer);
        reject(new Error('RTMP connection closed'));
      });
    });
  }

  #onMessage(m: InMessage): void {
    switch (m.type) {
      case MSG_SET_CHUNK_SIZE:
        this.#reader.chunkSize = m.body.readUInt32BE(0) & 0x7fffffff;
        return;
      case MSG_WINDOW_ACK:
        this.#ackWindow = m.body.readUInt32BE(0);
        return;
      case MSG_SET_PEER_BW:
      case MSG_ACK:
        return;
      case MSG_USER_CONTROL: {
        const event = m.body.readUInt16BE(0);
        if (event === 6) {
          const pong = Buffer.alloc(6);
          pong.writeUInt16BE(7, 0);
          m.body.copy(pong, 2, 2, 6);
          this.#send(2, MSG_USER_CONTROL, 0, 0, pong);
        }
        return;
      }
      case MSG_VIDEO:
        this.onVideo?.(m.timestamp, m.body);
        return;
      case MSG_AUDIO:
        this.onAudio?.(m.timestamp, m.body);
        return;
      case MSG_COMMAND_AMF0: {
        let values: Amf[];
        try {
          values = amfDecode(m.body);
        } catch {
          return;
        }
        const [name, id] = values;
        if ((name === '_result' || name === '_error') && typeof id === 'number') {
          const p = this.#pending.get(id);
          this.#pending.delete(id);
          if (name === '_result') p?.resolve(values.slice(2));
          else p?.reject(new Error(`RTMP _error: ${JSON.stringify(values.slice(2))}`));
        } else if (name === 'onStatus') {
          const info = (values[3] ?? {}) as { [key: string]: Amf };
          const waiters = this.#statusWaiters.splice(0);
          for (const w of waiters) w(info);
        }
        return;
      }
      default:
        return;
    }
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

async function connectApp(url: string, timeoutMs: number): Promise<RtmpConnection> {
  const target = parseRtmpUrl(url);
  const conn = new RtmpConnection(target);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await conn.handshake();
        await conn.command('connect', [{ app: target.app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; moq-bench)', tcUrl: target.tcUrl, fpad: false, capabilities: 15, audioCodecs: 0x0fff, videoCodecs: 0x00ff, videoFunction: 1 }]);
      })(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`RTMP connect to ${url} timed out`)), timeoutMs))),
    ]);
  } catch (error) {
    conn.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return conn;
}

// ---------------------------------------------------------------- publisher / player

export class RtmpPublisher {
  private constructor(
    readonly conn: RtmpConnection,
    readonly streamId: number,
  ) {}

  static async connect(url: string, timeoutMs = 10_000): Promise<RtmpPublisher> {
    const conn = await connectApp(url, timeoutMs);
    try {
      conn.notify('releaseStream', [null, conn.target.stream]);
      conn.notify('FCPublish', [null, conn.target.stream]);
      const result = await conn.command('createStream', [null]);
      const streamId = typeof result[1] === 'number' ? result[1] : 1;
      const started = conn.status(/NetStream\.Publish\.Start/, timeoutMs);
      conn.notify('publish', [null, conn.target.stream, 'live'], streamId, 8);
      await started;
      return new RtmpPublisher(conn, streamId);
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  metadata(meta: { [key: string]: Amf }): void {
    this.conn.data(this.streamId, ['@setDataFrame', 'onMetaData', meta]);
  }

  /** AVC sequence header (AVCDecoderConfigurationRecord). */
  avcConfig(avcC: Buffer, timestamp = 0): void {
    this.conn.video(this.streamId, timestamp, Buffer.concat([Buffer.from([0x17, 0x00, 0, 0, 0]), avcC]));
  }

  /** One AVC frame; `avcc` = 4-byte length-prefixed NAL units. Returns false when the socket is backed up. */
  avcFrame(timestamp: number, keyframe: boolean, avcc: Buffer): boolean {
    const header = Buffer.from([keyframe ? 0x17 : 0x27, 0x01, 0, 0, 0]);
    return this.conn.video(this.streamId, timestamp, Buffer.concat([header, avcc]));
  }

  get writableLength(): number {
    return this.conn.socket.writableLength;
  }

  get closed(): Promise<void> {
    return this.conn.done;
  }

  close(): void {
    if (this.conn.closed) return;
    try {
      this.conn.notify('FCUnpublish', [null, this.conn.target.stream]);
      this.conn.notify('deleteStream', [null, this.streamId]);
    } catch {
      // closing anyway
    }
    this.conn.socket.end();
    setTimeout(() => this.conn.close(), 200).unref();
  }
}

export class RtmpPlayer {
  private constructor(readonly conn: RtmpConnection) {}

  static async connect(url: string, onVideo: (timestamp: number, body: Buffer) => void, timeoutMs = 10_000): Promise<RtmpPlayer> {
    const conn = await connectApp(url, timeoutMs);
    try {
      conn.onVideo = onVideo;
      const result = await conn.command('createStream', [null]);
      const streamId = typeof result[1] === 'number' ? result[1] : 1;
      const started = conn.status(/NetStream\.Play\.Start/, timeoutMs);
      conn.notify('play', [null, conn.target.stream, -1000], streamId, 8);
      await started;
      return new RtmpPlayer(conn);
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  get closed(): Promise<void> {
    return this.conn.done;
  }

  close(): void {
    this.conn.close();
  }
}
