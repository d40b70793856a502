import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { bindingRequestUfrag, looksLikeStun } from './stun-username.ts';

/**
 * One UDP socket for every WHIP session (what MediaMTX, Janus and others call ICE UDP mux), so a
 * gateway behind a NAT or firewall needs a single port forwarded. Each ICE agent's socket is a
 * virtual transport on it. A datagram finds its session as follows:
 * 1. a STUN Binding request by its USERNAME, `<our ufrag>:<their ufrag>` (RFC 8445 §7.2.2), which
 *    also binds the sender's address to that session;
 * 2. a STUN response by the transaction id of the request it answers (RFC 8489 §6.3);
 * 3. anything else (DTLS, SRTP, SRTCP; RFC 7983) by the sender's address.
 * Unroutable datagrams are dropped: only a peer that knows a session's ufrag gets an address bound.
 */

type Address = [string, number];

/** The shape of werift's UdpTransport that its ICE agent uses. */
export interface MuxedTransport {
  readonly type: 'udp';
  closed: boolean;
  onData: (data: Buffer, addr: Address) => void;
  send: (data: Buffer, addr?: Address) => Promise<void>;
  close: () => Promise<void>;
  readonly address: { address: string; port: number; family: string };
  readonly addressFamily: 4;
  readonly host: string;
  readonly port: number;
}

/** Two live sessions drew the same ufrag (werift's are 4 characters): negotiate again. */
export class UfragInUseError extends Error {
  override name = 'UfragInUseError';
}

/** Bounds: a peer cannot grow the tables without limit (answers to our checks expire FIFO). */
const MAX_PENDING_TRANSACTIONS = 8192;
const MAX_ADDRESSES_PER_SESSION = 64;

/** The virtual transports of one ICE agent (one WHIP session). */
export class MuxSession {
  readonly transports: MuxTransport[] = [];
  readonly addresses = new Set<string>();
  ufrag: string | undefined;
  constructor(readonly mux: UdpMux) {}

  /** Route Binding requests naming `ufrag` here (called once werift has chosen it). */
  setUfrag(ufrag: string): void {
    this.mux.registerUfrag(this, ufrag);
  }

  close(): void {
    for (const transport of [...this.transports]) transport.detach();
    this.mux.forgetSession(this);
  }
}

class MuxTransport implements MuxedTransport {
  readonly type = 'udp';
  readonly addressFamily = 4;
  closed = false;
  onData: (data: Buffer, addr: Address) => void = () => {};

  constructor(
    readonly session: MuxSession,
    readonly mux: UdpMux,
  ) {}

  get address(): { address: string; port: number; family: string } {
    return { address: this.mux.host, port: this.mux.port, family: 'IPv4' };
  }
  get host(): string {
    return this.mux.host;
  }
  get port(): number {
    return this.mux.port;
  }

  send = async (data: Buffer, addr?: Address): Promise<void> => {
    if (this.closed || !addr) return;
    this.mux.sendFrom(this, data, addr);
  };

  close = async (): Promise<void> => {
    this.detach();
  };

  detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.mux.forgetTransport(this);
  }
}

export interface UdpMuxStats {
  sessions: number;
  routedAddresses: number;
  dropped: number;
}

export class UdpMux {
  readonly #socket: Socket;
  readonly #byUfrag = new Map<string, MuxSession>();
  readonly #byAddress = new Map<string, MuxTransport>();
  /** Transaction id (hex) of a STUN request we sent → the transport that sent it. */
  readonly #pending = new Map<string, MuxTransport>();
  #dropped = 0;
  #host = '0.0.0.0';
  #port = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (data, rinfo) => this.#receive(data, rinfo));
    // A send to an unreachable address fails asynchronously; ICE copes, the socket stays up.
    socket.on('error', () => {});
  }

  /** Bind the shared socket (IPv4). Port 0 picks a free one (tests). */
  static async bind(port: number, host = '0.0.0.0'): Promise<UdpMux> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    const mux = new UdpMux(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address: host }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const bound = socket.address();
    mux.#host = bound.address;
    mux.#port = bound.port;
    return mux;
  }

  get host(): string {
    return this.#host;
  }
  get port(): number {
    return this.#port;
  }

  stats(): UdpMuxStats {
    return { sessions: this.#byUfrag.size, routedAddresses: this.#byAddress.size, dropped: this.#dropped };
  }

  createSession(): MuxSession {
    return new MuxSession(this);
  }

  /** A transport for one of the session's host candidates (werift makes one per address). */
  openTransport(session: MuxSession): MuxedTransport {
    const transport = new MuxTransport(session, this);
    session.transports.push(transport);
    return transport;
  }

  registerUfrag(session: MuxSession, ufrag: string): void {
    const owner = this.#byUfrag.get(ufrag);
    if (owner && owner !== session) throw new UfragInUseError(`ICE ufrag ${ufrag} is already in use on the shared UDP port`);
    if (session.ufrag !== undefined && session.ufrag !== ufrag) this.#byUfrag.delete(session.ufrag);
    session.ufrag = ufrag;
    this.#byUfrag.set(ufrag, session);
  }

  forgetSession(session: MuxSession): void {
    if (session.ufrag !== undefined && this.#byUfrag.get(session.ufrag) === session) this.#byUfrag.delete(session.ufrag);
  }

  forgetTransport(transport: MuxTransport): void {
    const session = transport.session;
    const index = session.transports.indexOf(transport);
    if (index >= 0) session.transports.splice(index, 1);
    for (const key of session.addresses) {
      if (this.#byAddress.get(key) === transport) {
        this.#byAddress.delete(key);
        session.addresses.delete(key);
      }
    }
    for (const [id, owner] of this.#pending) if (owner === transport) this.#pending.delete(id);
    if (session.transports.length === 0) this.forgetSession(session);
  }

  sendFrom(transport: MuxTransport, data: Buffer, addr: Address): void {
    if (looksLikeStun(data)) {
      // Our connectivity check or a response to theirs: remember requests so the answer finds us.
      if ((data[0]! & 0x01) === 0 && (data[1]! & 0x10) === 0) this.#rememberTransaction(data, transport);
    } else if (isIP(addr[0])) {
      // werift sends media on its selected pair: that transport owns the address from now on.
      this.#bindAddress(`${addr[0]}:${addr[1]}`, transport, false);
    }
    this.#socket.send(data, addr[1], addr[0]);
  }

  async close(): Promise<void> {
    for (const session of new Set([...this.#byUfrag.values()])) session.close();
    this.#byAddress.clear();
    this.#pending.clear();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #receive(data: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    let target: MuxTransport | undefined;
    if (looksLikeStun(data)) {
      const ufrag = bindingRequestUfrag(data);
      if (ufrag !== undefined) {
        const session = this.#byUfrag.get(ufrag);
        const current = this.#byAddress.get(key);
        target = current?.session === session ? current : session?.transports[0];
        if (target) this.#bindAddress(key, target, true);
      } else {
        const id = data.toString('hex', 8, 20);
        target = this.#pending.get(id);
        if (target) this.#pending.delete(id);
        else target = this.#byAddress.get(key);
      }
    } else {
      target = this.#byAddress.get(key);
    }
    if (!target || target.closed) {
      this.#dropped++;
      return;
    }
    target.onData(data, [rinfo.address, rinfo.port]);
  }

  /** `force`: a Binding request proved the sender knows this session's ufrag. */
  #bindAddress(key: string, transport: MuxTransport, force: boolean): void {
    const current = this.#byAddress.get(key);
    if (current === transport) return;
    if (current && !force && current.session !== transport.session) return;
    const session = transport.session;
    if (!session.addresses.has(key) && session.addresses.size >= MAX_ADDRESSES_PER_SESSION) return;
    if (current) current.session.addresses.delete(key);
    this.#byAddress.set(key, transport);
    session.addresses.add(key);
  }

  #rememberTransaction(data: Buffer, transport: MuxTransport): void {
    if (this.#pending.size >= MAX_PENDING_TRANSACTIONS) {
      const oldest = this.#pending.keys().next().value;
      if (oldest !== undefined) this.#pending.delete(oldest);
    }
    this.#pending.set(data.toString('hex', 8, 20), transport);
  }
}
