/**
 * `GET /access/<broadcast>?jwt=<token>`: what the caller's token allows for one broadcast, so
 * the browser pages can say why they cannot play (token missing, expired, signed by another
 * key, or not for this broadcast) instead of retrying a refused connection forever. It tells a
 * token's holder only what the token itself already allows; it never echoes the token.
 */
import type http from 'node:http';
import type { AuthContext, Authenticator } from '../auth/index.ts';
import { AuthError, bearerFrom, tokenFrom } from '../auth/index.ts';
import { sendJson } from './api.ts';
import type { AccessAnswer } from './api-types.ts';
import type { HttpServer } from './server.ts';

export function mountAccessCheck(server: HttpServer, auth: () => Authenticator, isLive: (broadcast: string) => boolean): void {
  server.route('/access/', async (req: http.IncomingMessage, res: http.ServerResponse, subpath: string) => {
    if (req.method === 'OPTIONS') return sendJson(res, 204, undefined);
    const broadcast = subpath.replace(/^\/+|\/+$/g, '');
    const authenticator = auth();
    const token = bearerFrom(req.headers) ?? tokenFrom(new URL(req.url ?? '/', 'http://localhost'));
    let context: AuthContext;
    try {
      context = await authenticator.verify(token);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return sendJson(res, 200, { authentication: true, subscribe: false, publish: false, refused: error.reason, message: error.message } satisfies AccessAnswer);
    }
    const subscribe = context.canSubscribe(broadcast);
    const answer: AccessAnswer = {
      authentication: authenticator.enabled,
      subscribe,
      publish: context.canPublish(broadcast),
      ...(context.expiresAt !== undefined ? { expiresAt: context.expiresAt } : {}),
      ...(subscribe ? { live: isLive(broadcast) } : {}),
    };
    sendJson(res, 200, answer);
  });
}
