/**
 * Where MoQ sessions come in: WebSocket upgrades on the HTTP port, WebTransport and raw QUIC on
 * UDP. Each is refused early when its address is full (session registry) or its credential does
 * not verify (access policy), then served with the capability the policy granted and registered.
 */
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { msfLocBridge } from '../adapters/bridge/msf-loc/index.ts';
import type { Logger } from '../src/logger.ts';
import { MoqProtocolName } from '../src/moq-protocols.ts';
import { serveMoqSession, type MoqSessionHandle } from '../src/moq/serve.ts';
import type { ReceivedClientSetup } from '../src/moq/ietf/index.ts';
import { rawQuicTarget, type SessionTarget } from '../src/moq/session-target.ts';
import type { Origin } from '../src/relay/index.ts';
import { startQuicServer, type QuicServer, type QuicSteering, type SessionInfo } from '../src/transport/quic/index.ts';
import type { SharedDevCertificate } from './workers/shared-dev-certificate.ts';
import { DevCertificateManager, loadCertificate, type TlsMaterial } from '../src/transport/tls/index.ts';
import { rejectUpgrade, WebSocketAcceptor, type TransportSessionInfo } from '../src/transport/websocket.ts';
import { type AccessPolicy, refusalStatus, type SessionAccess } from './access-policy.ts';
import type { GatewayConfig } from './config.ts';
import type { SessionRegistry } from './session-registry.ts';

export interface MoqAcceptorDeps {
  config: GatewayConfig;
  logger: Logger;
  origin: Origin;
  policy: AccessPolicy;
  registry: SessionRegistry;
  observeLatency: (family: string, ms: number) => void;
}

/** MALFORMED_PATH (draft-ietf-moq-transport-16 "Termination"): a raw QUIC SETUP with an unusable PATH. */
const PATH_REFUSED = 0x9;

/** What is known of a WebSocket peer before its session starts. */
interface UpgradePeer {
  access: SessionAccess | undefined;
  /** A sibling worker's mesh link (app/gateway.ts): not a viewer, no per-address slot. */
  internal: boolean;
}

export class MoqAcceptor {
  readonly #ws: WebSocketAcceptor<UpgradePeer>;
  #quic: QuicServer | undefined;
  /** Dev mode (no --tls-cert): a short-lived self-signed certificate, renewed. */
  #devCertificate: Pick<DevCertificateManager, 'current' | 'material' | 'stop'> | undefined;

  constructor(private readonly deps: MoqAcceptorDeps) {
    this.#ws = new WebSocketAcceptor<UpgradePeer>({
      onSession: (session, { auth, ...info }) => this.#accept(session, { ...info, auth: auth?.access }, undefined, auth?.internal),
      maxPayloadBytes: deps.config.maxFrameBytes + 64 * 1024,
    });
  }

  /** The dev certificate's SHA-256 that browsers pin, or undefined with a real certificate. */
  get devCertificateHash(): string | undefined {
    return this.#devCertificate?.current.fingerprintHex;
  }

  /** A MoQ WebSocket: `?jwt=` is verified before upgrading, so a refused client gets a plain 401/403. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, internal = false): void {
    const { logger, policy, registry } = this.deps;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const remote = req.socket.remoteAddress ?? '';
    if (!internal && registry.full(remote)) {
      logger.warn({ remote, limit: registry.perAddress }, 'MoQ connection refused: too many sessions from this address');
      return rejectUpgrade(socket, 429, 'Too Many Requests');
    }
    policy.session(url).then(
      (access) => this.#ws.handleUpgrade(req, socket, head, { access, internal }),
      (error: unknown) => {
        const status = refusalStatus(error);
        logger.info({ remote: req.socket.remoteAddress, reason: (error as Error).message }, 'MoQ connection refused');
        rejectUpgrade(socket, status, status === 500 ? 'Internal Server Error' : 'Unauthorized');
      },
    );
  }

  /**
   * WebTransport and raw QUIC on UDP, the same port number as HTTP (what MoQ clients expect).
   * Without --tls-cert, a self-signed ECDSA certificate valid under 14 days whose hash browsers
   * pin from /certificate.sha256 (Chromium rejects longer-lived pinned certificates).
   */
  async startQuic(port: number, workers?: { steering: QuicSteering; devCertificate: SharedDevCertificate | undefined }): Promise<QuicServer | undefined> {
    const { config, logger, policy, registry } = this.deps;
    let tls: TlsMaterial;
    if (config.tlsCert) {
      tls = await loadCertificate(config.tlsCert, config.tlsKey);
    } else {
      this.#devCertificate = workers?.devCertificate ?? new DevCertificateManager({ hosts: devCertificateHosts(config) });
      tls = this.#devCertificate.material;
    }
    try {
      this.#quic = await startQuicServer({
        host: config.host,
        port,
        tls,
        handshakeTimeoutMs: config.handshakeTimeout,
        ...(workers ? { reusePort: true, steering: workers.steering } : {}),
        authorize: (request) => policy.session(request.url).then(() => undefined, refusalStatus),
        onSession: (session, info) => {
          const remote = info.remoteAddress;
          if (registry.full(remote)) {
            logger.warn({ remote, limit: registry.perAddress }, 'QUIC session refused: too many sessions from this address');
            session.close({ closeCode: 0x2, reason: 'too many sessions from this address' });
            return;
          }
          void this.#acceptQuic(session as unknown as WebTransport, info);
        },
      });
      logger.info({ port, dev: this.#devCertificate !== undefined }, 'WebTransport and raw QUIC listening on UDP');
      return this.#quic;
    } catch (error) {
      logger.error({ err: error, port }, `WebTransport/QUIC disabled: cannot listen on UDP ${port}`);
      return undefined;
    }
  }

  /**
   * A WebTransport session's URL came with its CONNECT; a raw QUIC session names its path and
   * token in CLIENT_SETUP's PATH parameter (moql, moq-00, moqt-16), read before auth decides.
   * moq-lite-03/04 on raw QUIC send no SETUP, so no token: with auth on they get only the public
   * prefixes, and are refused when none are configured.
   */
  async #acceptQuic(session: WebTransport, info: SessionInfo): Promise<void> {
    let target: SessionTarget;
    try {
      target =
        info.transport === 'quic'
          ? await rawQuicTarget(session, info.protocol, info.url, this.deps.config.handshakeTimeout)
          : { transport: session, url: info.url };
    } catch (error) {
      this.deps.logger.info({ remote: info.remoteAddress, protocol: info.protocol, reason: (error as Error).message }, 'QUIC session refused before SETUP');
      session.close({ closeCode: PATH_REFUSED, reason: (error as Error).message.slice(0, 256) });
      return;
    }
    const protocol = info.protocol as TransportSessionInfo['protocol'];
    await this.deps.policy.session(target.url).then(
      (auth) =>
        this.#accept(target.transport, { protocol, url: target.url, remoteAddress: info.remoteAddress, transport: info.transport, auth }, target.setup),
      (error: unknown) => target.transport.close({ closeCode: 0x2, reason: (error as Error).message }),
    );
  }

  /** `setup`: the CLIENT_SETUP when #acceptQuic already read it. */
  #accept(session: WebTransport, info: TransportSessionInfo<SessionAccess>, setup?: ReceivedClientSetup, internal = false): void {
    const { config, registry, policy } = this.deps;
    const id = registry.nextId();
    const logger = this.deps.logger.child({ session: id, transport: info.transport, remote: info.remoteAddress });
    const access = info.auth;
    const handle: MoqSessionHandle = serveMoqSession(
      session,
      { ...info, setup },
      {
        origin: this.deps.origin,
        logger,
        ietfMedia: msfLocBridge,
        access,
        limits: {
          subscriberQueueBytes: config.subscriberQueueBytes,
          controlMessageBytes: config.maxControlMessageBytes,
          frameBytes: config.maxFrameBytes,
          setupTimeoutMs: config.handshakeTimeout,
          viewerStallTimeoutMs: config.viewerStallTimeout,
        },
        observeLatency: (ms) => this.deps.observeLatency(handle.family, ms),
      },
    );
    if (access) policy.closeOnExpiry(access, () => handle.close(0x2, 'token expired'), handle.closed);
    const refusal = registry.add(id, handle, { protocol: info.protocol || MoqProtocolName.compat, transport: info.transport, remoteAddress: info.remoteAddress }, internal);
    // Raced past the early check: refused now.
    if (refusal) logger.warn({ reason: refusal.message }, 'MoQ session refused');
    void handle.closed.then((closeInfo) => logger.info({ close: closeInfo }, 'session closed'));
  }

  /** Stop accepting: WebSocket sessions are cut, the QUIC listener closes, the certificate stops renewing. */
  async close(): Promise<void> {
    this.#ws.close();
    await this.#quic?.close();
    this.#devCertificate?.stop();
  }
}

/** Names the dev certificate is valid for. */
export function devCertificateHosts(config: Pick<GatewayConfig, 'host'>): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...(['0.0.0.0', '::'].includes(config.host) ? [] : [config.host])])];
}
