/**
 * A test-only IETF moq-transport server: plain HTTP + `ws` upgrade, QMux framing from @moq/qmux
 * (Session.accept), then serveIetfSession. `moqt-16` pins draft-16; `moql` / `moq-00` read
 * CLIENT_SETUP and run draft-14 (the gateway would route lite versions elsewhere).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Session, { selectSubprotocol } from '@moq/qmux';
import { WebSocketServer } from 'ws';
import { Origin } from '../../src/relay/index.ts';
import {
  type Authorize,
  type IetfSessionHandle,
  type IetfVersion,
  ietfVersionFromProtocol,
  readClientSetup,
  selectIetfVersion,
  serveIetfSession,
} from '../../src/moq/ietf/index.ts';
import { msfLocBridge } from '../../adapters/bridge/msf-loc/index.ts';
import type { StructuredLogger as IetfLogger } from '../../src/logger.ts';

export interface IetfTestServer {
  url: URL;
  origin: Origin;
  sessions: IetfSessionHandle[];
  /** Versions of the sessions served so far, in order. */
  versions: IetfVersion[];
  close(): Promise<void>;
}

export interface IetfTestServerOptions {
  /** App protocols to accept, in preference order. */
  protocols: string[];
  origin?: Origin;
  root?: string;
  authorize?: Authorize;
  largestObjectJoinsGroup?: boolean;
  upstreamResponseTimeoutMs?: number;
  logger?: IetfLogger;
}

export const quietLogger: IetfLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export function consoleLogger(): IetfLogger {
  const log = (level: string) => (fields: Record<string, unknown>, message: string) => console.log(`[ietf ${level}] ${message}`, fields);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export async function startIetfServer(options: IetfTestServerOptions): Promise<IetfTestServer> {
  const origin = options.origin ?? new Origin();
  const sessions: IetfSessionHandle[] = [];
  const versions: IetfVersion[] = [];
  const qmuxVersions = Object.fromEntries(options.protocols.map((protocol) => [protocol, null]));
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => selectSubprotocol([...offered], { protocols: options.protocols, versions: qmuxVersions }) ?? false,
  });
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      const transport = Session.accept(ws as never, { protocol: ws.protocol });
      // The app protocol is the negotiated subprotocol minus its QMux version prefix.
      const appProtocol = ws.protocol.replace(/^qmux-\d+\./, '').replace(/^(qmux-\d+|webtransport)$/, '');
      void serve(transport as unknown as WebTransport, appProtocol).catch((error: unknown) => {
        (options.logger ?? quietLogger).error({ error: String(error) }, 'test server failed to start a session');
        transport.close();
      });
    });
  });

  async function serve(transport: WebTransport, protocol: string): Promise<void> {
    const common = {
      origin,
      root: options.root ?? '',
      logger: options.logger ?? quietLogger,
      media: msfLocBridge,
      authorize: options.authorize,
      largestObjectJoinsGroup: options.largestObjectJoinsGroup,
      upstreamResponseTimeoutMs: options.upstreamResponseTimeoutMs,
    };
    const pinned = ietfVersionFromProtocol(protocol);
    if (pinned === 'draft-16' || pinned === 'draft-18' || pinned === 'draft-19') {
      versions.push(pinned);
      sessions.push(serveIetfSession(transport, { ...common, version: pinned }));
      return;
    }
    // `moql`, `moq-00` or none: CLIENT_SETUP names the version (draft-14 layout).
    const bidis = transport.incomingBidirectionalStreams.getReader();
    const first = await bidis.read();
    bidis.releaseLock();
    if (first.done) return;
    const setup = await readClientSetup(first.value);
    const version = selectIetfVersion(setup.message.versions);
    if (!version) {
      transport.close({ closeCode: 0x15, reason: 'no supported version' });
      return;
    }
    versions.push(version);
    sessions.push(serveIetfSession(transport, { ...common, version, setup }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/`),
    origin,
    sessions,
    versions,
    async close() {
      for (const session of sessions) session.close(0, 'test over');
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
