/**
 * An IETF publisher that announces a namespace (PUBLISH_NAMESPACE) and then never answers the
 * relay's upstream SUBSCRIBE: after `upstreamResponseTimeoutMs` the relay withdraws it with
 * UNSUBSCRIBE (allowed from Pending, draft-16 §5.1) and refuses the waiting subscriber, and the
 * next SUBSCRIBE for the same track goes upstream again.
 */
import { describe, expect, it } from 'vitest';
import { Origin } from '../../src/relay/index.ts';
import type { IetfVersion } from '../../src/moq/ietf/index.ts';
import { requestErrorCode } from '../../src/moq/ietf/errors.ts';
import type { ControlMessage } from '../../src/moq/ietf/messages.ts';
import { ietfFixtures } from '../helpers/ietf-fixtures.ts';
import { RawIetfClient } from '../helpers/ietf-raw-client.ts';
import { startIetfServer } from '../helpers/ietf-server.ts';

/** Short enough for a test, long enough that an early refusal would show. */
const TIMEOUT_MS = 400;
/** Node timers may fire a little early; anything sooner than this came from something else. */
const EARLIEST_MS = TIMEOUT_MS - 50;
/** Well under the 10 s the subscriber side would wait on its own. */
const LATEST_MS = 3_000;

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const named = (name: string) => (m: { name: Uint8Array }) => Buffer.from(m.name).toString() === name;
const NS = [text('live'), text('silent')];

const { servers, clients } = ietfFixtures();

async function setup(version: IetfVersion) {
  const server = await startIetfServer({ protocols: [version === 'draft-16' ? 'moqt-16' : 'moql'], origin: new Origin(), upstreamResponseTimeoutMs: TIMEOUT_MS });
  servers.push(server);
  const connect = async (): Promise<RawIetfClient> => {
    const client = await RawIetfClient.connect(server.url, version);
    clients.push(client);
    return client;
  };
  const publisher = await connect();
  const announceId = publisher.requestId();
  await publisher.send({ type: 'publish_namespace', requestId: announceId, namespace: NS, parameters: { authorizationTokens: [] } });
  await publisher.next('request_ok', (m) => m.requestId === announceId);
  return { publisher, subscriber: await connect() };
}

const subscribe = (requestId: number): ControlMessage => ({
  type: 'subscribe',
  requestId,
  namespace: NS,
  name: text('video'),
  subscriberPriority: 128,
  forward: true,
  filter: { type: 'nextGroupStart' },
  parameters: { authorizationTokens: [] },
});

describe.each(['draft-16', 'draft-14'] as const)('unanswered upstream SUBSCRIBE (%s)', (version) => {
  it('UNSUBSCRIBEs upstream and refuses the subscriber after the timeout, then forwards a retry', async () => {
    const { publisher, subscriber } = await setup(version);

    const first = subscriber.requestId();
    const sentAt = Date.now();
    await subscriber.send(subscribe(first));
    // The relay forwards the SUBSCRIBE; the publisher stays silent.
    const upstream = await publisher.next('subscribe', named('video'));

    const refusal = await subscriber.next('request_error', (m) => m.requestId === first, LATEST_MS);
    const elapsed = Date.now() - sentAt;
    expect(elapsed).toBeGreaterThanOrEqual(EARLIEST_MS);
    expect(elapsed).toBeLessThan(LATEST_MS);
    // REQUEST_ERROR TIMEOUT: "a relay could not establish an upstream subscription" (draft-16 §9.8).
    expect(refusal.code).toBe(requestErrorCode(version, 'subscribe', 'timeout'));
    expect(refusal.reason).toContain('no response to SUBSCRIBE');
    expect(subscriber.received.some((m) => m.type === 'subscribe_ok' && m.requestId === first)).toBe(false);

    // Upstream, the pending SUBSCRIBE is withdrawn exactly once.
    await publisher.next('unsubscribe', (m) => m.requestId === upstream.requestId);
    expect(publisher.received.filter((m) => m.type === 'unsubscribe' && m.requestId === upstream.requestId)).toHaveLength(1);

    // Nothing is left stuck: a retry makes a new upstream SUBSCRIBE, and an answer gets through.
    const second = subscriber.requestId();
    await subscriber.send(subscribe(second));
    const retried = await publisher.next('subscribe', (m) => named('video')(m) && m.requestId !== upstream.requestId);
    await publisher.send({ type: 'subscribe_ok', requestId: retried.requestId, trackAlias: 5, expiresMs: 0, groupOrder: 'descending', properties: { other: [] } });
    await subscriber.next('subscribe_ok', (m) => m.requestId === second);
    // An answered SUBSCRIBE outlives the timeout.
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 100));
    expect(publisher.received.some((m) => m.type === 'unsubscribe' && m.requestId === retried.requestId)).toBe(false);
  });
});
