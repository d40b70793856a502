/**
 * quiche configuration for both ends: TLS identity or verification, ALPN list, and QUIC
 * transport parameters (RFC 9000 §18.2). Windows are sized for tens of MiB/s per connection;
 * quiche auto-tunes stream and connection windows up to the max* values.
 */
import { CongestionControl, DEFAULT_MAX_UDP_PAYLOAD, newTlsConfig, type NativeConfig } from './native-quiche.ts';

export interface TransportParameters {
  /** RFC 9000 §10.1; 0 disables. Default 30 s. */
  readonly idleTimeoutMs?: number;
  readonly initialMaxData?: number;
  readonly initialMaxStreamData?: number;
  readonly initialMaxStreamsBidi?: number;
  readonly initialMaxStreamsUni?: number;
}

const MiB = 1024 * 1024;

const DEFAULT_TRANSPORT: Required<TransportParameters> = {
  idleTimeoutMs: 30_000,
  initialMaxData: 16 * MiB,
  initialMaxStreamData: 4 * MiB,
  initialMaxStreamsBidi: 1000,
  initialMaxStreamsUni: 1000,
};

/** Received datagrams quiche keeps until we drain them, and queued outgoing ones. */
const DATAGRAM_QUEUE = 1024;

function applyTransport(config: NativeConfig, alpns: readonly string[], params: TransportParameters): NativeConfig {
  const p = { ...DEFAULT_TRANSPORT, ...params };
  config.setApplicationProtos([...alpns]);
  config.setMaxIdleTimeout(p.idleTimeoutMs);
  config.setMaxRecvUdpPayloadSize(65527);
  config.setMaxSendUdpPayloadSize(DEFAULT_MAX_UDP_PAYLOAD);
  config.setInitialMaxData(p.initialMaxData);
  config.setInitialMaxStreamDataBidiLocal(p.initialMaxStreamData);
  config.setInitialMaxStreamDataBidiRemote(p.initialMaxStreamData);
  config.setInitialMaxStreamDataUni(p.initialMaxStreamData);
  config.setInitialMaxStreamsBidi(p.initialMaxStreamsBidi);
  config.setInitialMaxStreamsUni(p.initialMaxStreamsUni);
  config.setMaxStreamWindow(16 * MiB);
  config.setMaxConnectionWindow(32 * MiB);
  config.setDisableActiveMigration(true);
  config.setCcAlgorithm(CongestionControl.Cubic);
  config.enableHystart(true);
  config.enableDgram(true, DATAGRAM_QUEUE, DATAGRAM_QUEUE);
  config.grease(true);
  return config;
}

const encodePem = (pem: string): Uint8Array => new TextEncoder().encode(pem);

export function serverConfig(certPem: string, keyPem: string, alpns: readonly string[], params: TransportParameters): NativeConfig {
  return applyTransport(newTlsConfig(false, false, null, [encodePem(keyPem)], [encodePem(certPem)], null), alpns, params);
}

/**
 * Client configuration. With `caPem` quiche (BoringSSL) verifies the chain; without it the
 * caller must check the peer certificate itself (serverCertificateHashes).
 */
export function clientConfig(alpns: readonly string[], params: TransportParameters, caPem?: string): NativeConfig {
  const config = caPem === undefined ? newTlsConfig(false, false, null, null, null, null) : newTlsConfig(true, false, encodePem(caPem), null, null, null);
  return applyTransport(config, alpns, params);
}
