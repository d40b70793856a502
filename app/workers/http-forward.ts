import http from 'node:http';

/**
 * Hands one HTTP request to a sibling worker's private loopback listener and streams its answer
 * back unchanged (status, headers, body; a blocking LL-HLS playlist reload simply waits there).
 * Under `--workers N` all HLS requests of a broadcast are served by the worker holding it,
 * because a packaging session (and every segment URL it names) lives in one process.
 */
export class HttpForwarder {
  // Kept-alive loopback connections, reused across requests (bounded: blocking reloads hold one each).
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 4096, maxFreeSockets: 64 });

  forward(req: http.IncomingMessage, res: http.ServerResponse, target: URL): void {
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent: this.#agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.once('error', () => res.destroy());
      },
    );
    upstream.once('error', (error) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`the worker holding this broadcast did not answer: ${error.message}\n`);
    });
    // The viewer went away: so does the request to the sibling (a blocking reload ends there too).
    res.once('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  close(): void {
    this.#agent.destroy();
  }
}
