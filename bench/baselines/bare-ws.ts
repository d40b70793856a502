/**
 * The lower bound of the fan-out socket work: a bare `ws` server that takes the bench's frames
 * from one publisher socket (`/publish`, one binary message per frame: the same stamped H.264
 * access units the RTMP publisher sends) and sends each message to every other client as it is.
 * No protocol, no cache, no groups; a client more than BUDGET bytes behind skips frames.
 *
 *   node --import tsx bench/baselines/bare-ws.ts --port P     (prints "listening <port>")
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { type WebSocket, WebSocketServer } from 'ws';

const BUDGET = 4 * 1024 * 1024;
const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });
const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
const viewers = new Set<WebSocket>();

wss.on('connection', (ws, req) => {
  ws.on('error', () => ws.terminate());
  if (req.url === '/publish') {
    ws.on('message', (data: Buffer) => {
      for (const viewer of viewers) if (viewer.bufferedAmount < BUDGET) viewer.send(data, { binary: true });
    });
    return;
  }
  viewers.add(ws);
  ws.on('close', () => viewers.delete(ws));
});

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : values.port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
