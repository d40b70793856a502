import { afterEach } from 'vitest';
import type { RawIetfClient } from './ietf-raw-client.ts';
import type { IetfTestServer } from './ietf-server.ts';

/**
 * The servers and raw clients a test file starts, closed after each test. Registers the vitest
 * hooks (and the client polyfills) for the calling file.
 */
export function ietfFixtures(): { servers: IetfTestServer[]; clients: RawIetfClient[] } {
  const servers: IetfTestServer[] = [];
  const clients: RawIetfClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) await server.close();
  });
  return { servers, clients };
}
