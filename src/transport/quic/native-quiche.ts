/**
 * The one typed door to quiche's N-API binding shipped in @matrixai/quic 2.0.9
 * (`@matrixai/quic/native/quiche.js`). Only the calls this transport uses are declared, with
 * our own types, so nothing else imports the binding. The binding reports failures by throwing
 * Errors whose message is quiche's error name, e.g. "Done", "StreamReset(123)",
 * "StreamStopped(7)", "StreamLimit", "FinalSize" (see native-errors.ts).
 */
import binding from '@matrixai/quic/native/quiche.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface PeerError {
  readonly isApp: boolean;
  readonly errorCode: number;
  readonly reason: Uint8Array;
}

export interface NativeStats {
  readonly sentBytes: number;
  readonly recvBytes: number;
  readonly lostBytes: number;
  readonly sent: number;
  readonly recv: number;
  readonly lost: number;
}

export interface NativePathStats {
  readonly rtt: number;
  readonly cwnd: number;
  readonly deliveryRate: number;
}

export interface NativeConfig {
  setApplicationProtos(protos: string[]): void;
  setMaxIdleTimeout(ms: number): void;
  setMaxRecvUdpPayloadSize(size: number): void;
  setMaxSendUdpPayloadSize(size: number): void;
  setInitialMaxData(v: number): void;
  setInitialMaxStreamDataBidiLocal(v: number): void;
  setInitialMaxStreamDataBidiRemote(v: number): void;
  setInitialMaxStreamDataUni(v: number): void;
  setInitialMaxStreamsBidi(v: number): void;
  setInitialMaxStreamsUni(v: number): void;
  setMaxStreamWindow(v: number): void;
  setMaxConnectionWindow(v: number): void;
  setDisableActiveMigration(v: boolean): void;
  setCcAlgorithm(algorithm: number): void;
  enableHystart(v: boolean): void;
  enableDgram(enabled: boolean, recvQueueLen: number, sendQueueLen: number): void;
  grease(v: boolean): void;
}

export interface NativeConnection {
  recv(data: Uint8Array, info: { from: HostPort; to: HostPort }): number;
  send(out: Uint8Array): [number, { from: HostPort; to: HostPort }] | null;
  /** Bytes quiche's pacer allows in one burst (quiche::Connection::send_quantum). */
  sendQuantum(): number;
  timeout(): number | null;
  onTimeout(): void;
  streamRecv(streamId: number, out: Uint8Array): [number, boolean] | null;
  streamSend(streamId: number, data: Uint8Array, fin: boolean): number | null;
  streamPriority(streamId: number, urgency: number, incremental: boolean): void;
  streamShutdown(streamId: number, direction: number, code: number): undefined | null;
  streamCapacity(streamId: number): number;
  streamReadable(streamId: number): boolean;
  streamFinished(streamId: number): boolean;
  peerStreamsLeftBidi(): number;
  peerStreamsLeftUni(): number;
  /** Some stream or datagram has data to read (a flag; readable() builds an iterator). */
  isReadable(): boolean;
  readable(): Iterable<number>;
  writable(): Iterable<number>;
  dgramRecvVec(): Uint8Array | null;
  dgramSend(data: Uint8Array): undefined | null;
  dgramMaxWritableLen(): number | null;
  isDgramSendQueueFull(): boolean;
  close(app: boolean, code: number, reason: Uint8Array): undefined | null;
  applicationProto(): Uint8Array;
  serverName(): string | null;
  peerCertChain(): Uint8Array[] | null;
  sourceId(): Uint8Array;
  isEstablished(): boolean;
  isDraining(): boolean;
  isClosed(): boolean;
  isTimedOut(): boolean;
  peerError(): PeerError | null;
  localError(): PeerError | null;
  stats(): NativeStats;
  pathStats(): NativePathStats[];
  sendAckEliciting(): void;
}

export interface NativeHeader {
  readonly ty: number;
  readonly version: number;
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
  readonly token?: Uint8Array;
}

interface Binding {
  readonly MAX_CONN_ID_LEN: number;
  readonly MIN_CLIENT_INITIAL_LEN: number;
  readonly MAX_DATAGRAM_SIZE: number;
  negotiateVersion(scid: Uint8Array, dcid: Uint8Array, out: Uint8Array): number;
  versionIsSupported(version: number): boolean;
  readonly Config: {
    withBoringSslCtx(
      verifyPeer: boolean,
      verifyAllowFail: boolean,
      ca: Uint8Array | null,
      keys: Uint8Array[] | null,
      certs: Uint8Array[] | null,
      sigalgs: string | null,
    ): NativeConfig;
  };
  readonly Connection: {
    connect(serverName: string | null, scid: Uint8Array, local: HostPort, remote: HostPort, config: NativeConfig): NativeConnection;
    accept(scid: Uint8Array, odcid: Uint8Array | null, local: HostPort, remote: HostPort, config: NativeConfig): NativeConnection;
  };
  readonly Header: { fromSlice(data: Uint8Array, dcidLength: number): NativeHeader };
}

const quiche = binding as unknown as Binding;

/** RFC 9000 §17.2: long-header packet types as the binding numbers them. */
export const PacketType = { Initial: 0, Retry: 1, Handshake: 2, ZeroRTT: 3, VersionNegotiation: 4, Short: 5 } as const;
export const ShutdownDirection = { Read: 0, Write: 1 } as const;
export const CongestionControl = { Reno: 0, Cubic: 1, Bbr: 2 } as const;

export const MAX_CONN_ID_LEN = quiche.MAX_CONN_ID_LEN;
export const MIN_CLIENT_INITIAL_LEN = quiche.MIN_CLIENT_INITIAL_LEN;
export const DEFAULT_MAX_UDP_PAYLOAD = quiche.MAX_DATAGRAM_SIZE;

export const newTlsConfig = quiche.Config.withBoringSslCtx.bind(quiche.Config);
export const connectNative = quiche.Connection.connect.bind(quiche.Connection);
export const acceptNative = quiche.Connection.accept.bind(quiche.Connection);
export const parseLongHeader = quiche.Header.fromSlice.bind(quiche.Header);
export const isVersionSupported = quiche.versionIsSupported.bind(quiche);
export const writeVersionNegotiation = quiche.negotiateVersion.bind(quiche);
