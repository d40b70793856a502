/**
 * The published @moq/net client pinned to one IETF draft against a real gateway over QMux
 * WebSocket, with a wire tap: every data stream the gateway sends is also parsed with our own
 * codec, so tests can read what @moq/net drops (LOC object properties such as the Timestamp,
 * which @moq/net 0.3.4 only decodes when SUBSCRIBE_OK declares a track TIMESCALE).
 *
 * - draft-16: offers only `qmux-*.moqt-16` (ALPN pins the version).
 * - draft-14: offers only `qmux-*.moq-00` (the gateway pins draft-14). @moq/net 0.3.4 has no
 *   `moq-00` branch, so the tap reports the protocol as `moql` to it: it then sends its
 *   draft-14-layout CLIENT_SETUP ([lite-02, lite-01, draft-14]) and the gateway must answer with
 *   0xff00000e. Over plain `moql` the gateway would (rightly) prefer moq-lite from that list.
 */
import Session from '@moq/qmux';
import { controlCodec } from '../../src/moq/ietf/control-codec.ts';
import { dataCodec } from '../../src/moq/ietf/data/codecs.ts';
import { FETCH_HEADER_TYPE } from '../../src/moq/ietf/data/data-codec.ts';
import type { MoqObject, SubgroupHeader } from '../../src/moq/ietf/data/objects.ts';
import { readSubgroupHeader, readSubgroupObject } from '../../src/moq/ietf/data/subgroup-stream.ts';
import type { ControlMessage } from '../../src/moq/ietf/messages.ts';
import { IETF_ALPN, IETF_VERSION_NUMBER, type IetfVersion } from '../../src/moq/ietf/version.ts';
import { readControlMessage } from '../../src/moq/ietf/wire/control-framing.ts';
import { StreamReader } from '../../src/wire/stream-reader.ts';

type MoqNet = typeof import('@moq/net');
export type NetConnection = Awaited<ReturnType<MoqNet['Connection']['connect']>>;

export interface TappedSubgroup {
  header: SubgroupHeader;
  objects: MoqObject[];
}

export interface TappedNetConnection {
  connection: NetConnection;
  session: Session;
  /** Subgroup streams the gateway opened to this client, as our codec parsed them. */
  subgroups: TappedSubgroup[];
}

/** Opens a QMux session offering only the draft's ALPN, then hands it to @moq/net. */
export async function connectNet(Moq: MoqNet, url: URL, version: IetfVersion, timeoutMs = 5000): Promise<TappedNetConnection> {
  const alpn = IETF_ALPN[version];
  const session = new Session(url, { protocols: [alpn], versions: { [alpn]: null }, requireProtocol: true });
  const subgroups: TappedSubgroup[] = [];
  const transport = tap(session, version, subgroups, version === 'draft-14' ? 'moql' : undefined);
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    await Promise.race([session.ready, new Promise((_, reject) => deadline.addEventListener('abort', () => reject(new Error(`${version} connect timed out`))))]);
    const connection = await Moq.Connection.connect(url, { transport: transport as unknown as WebTransport, signal: deadline });
    return { connection, session, subgroups };
  } catch (error) {
    session.close();
    throw error;
  }
}

/** A view of `session` whose incoming uni streams are tee'd into `sink` (and, optionally, another protocol name). */
function tap(session: Session, version: IetfVersion, sink: TappedSubgroup[], protocol: string | undefined): Session {
  let unis: ReadableStream<ReadableStream<Uint8Array>> | undefined;
  const codec = dataCodec(version);
  const parse = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    const reader = new StreamReader(stream, codec.integers);
    const type = await reader.varint();
    // FETCH streams, and draft-18+'s control stream (a uni stream too), are not tapped.
    if (type === FETCH_HEADER_TYPE || !codec.subgroupFlags(type)) return void (await reader.cancel());
    const header = await readSubgroupHeader(reader, type, codec);
    const entry: TappedSubgroup = { header, objects: [] };
    sink.push(entry);
    let previous: number | undefined;
    for (;;) {
      const object = await readSubgroupObject(reader, header, previous, codec, 1 << 24);
      if (!object) return;
      previous = object.objectId;
      entry.objects.push(object);
    }
  };
  return new Proxy(session, {
    get(target, prop) {
      if (prop === 'protocol' && protocol !== undefined) return protocol;
      if (prop === 'incomingUnidirectionalStreams') {
        unis ??= target.incomingUnidirectionalStreams.pipeThrough(
          new TransformStream<ReadableStream<Uint8Array>, ReadableStream<Uint8Array>>({
            transform(stream, controller) {
              const [forClient, forTap] = stream.tee();
              controller.enqueue(forClient);
              void parse(forTap).catch(() => undefined);
            },
          }),
        );
        return unis;
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The tapped objects of one track alias, by group id (streams of a group concatenated in arrival order). */
export function tappedGroups(subgroups: TappedSubgroup[], alias: number): Map<number, MoqObject[]> {
  const groups = new Map<number, MoqObject[]>();
  for (const s of subgroups) {
    if (s.header.trackAlias !== alias) continue;
    groups.set(s.header.groupId, [...(groups.get(s.header.groupId) ?? []), ...s.objects]);
  }
  return groups;
}

/** The value of an even (varint) object property. */
export function propertyValue(object: MoqObject, type: bigint): bigint | undefined {
  const value = object.extensions.find((pair) => pair.type === type)?.value;
  return typeof value === 'bigint' ? value : undefined;
}

/**
 * A bare `moql` client whose CLIENT_SETUP offers draft-14 alone (0xff00000e), as a draft-14-only
 * IETF peer would: the gateway must read the version from SETUP and answer draft-14. Subscribes
 * to one track (Largest Object) and returns what SERVER_SETUP chose and the first object.
 */
export async function moqlDraft14FirstObject(url: URL, namespace: string[], track: string, timeoutMs = 5000): Promise<{ version: number | undefined; object: MoqObject }> {
  const session = new Session(url, { protocols: ['moql'], versions: { moql: null }, requireProtocol: true });
  const subgroups: TappedSubgroup[] = [];
  const view = tap(session, 'draft-14', subgroups, undefined);
  const codec = controlCodec('draft-14');
  const utf8 = new TextEncoder();
  const deadline = Date.now() + timeoutMs;
  try {
    await session.ready;
    // Drain uni streams through the tap.
    void (async () => {
      const unis = view.incomingUnidirectionalStreams.getReader();
      for (;;) {
        const next = await unis.read().catch(() => ({ done: true as const, value: undefined }));
        if (next.done) return;
        void next.value.cancel().catch(() => undefined);
      }
    })();
    const control = await session.createBidirectionalStream();
    const writer = control.writable.getWriter();
    const reader = new StreamReader(control.readable);
    const next = async (): Promise<ControlMessage> => {
      const raw = await readControlMessage(reader);
      if (!raw) throw new Error('control stream ended');
      return codec.decode(raw);
    };
    await writer.write(codec.frame({ type: 'client_setup', versions: [IETF_VERSION_NUMBER['draft-14']], parameters: { authorizationTokens: [], maxRequestId: 100, implementation: 'gateway-ietf-e2e' } }));
    const setup = await next();
    if (setup.type !== 'server_setup') throw new Error(`expected SERVER_SETUP, got ${setup.type}`);
    await writer.write(
      codec.frame({ type: 'subscribe', requestId: 0, namespace: namespace.map((part) => utf8.encode(part)), name: utf8.encode(track), subscriberPriority: 0, forward: true, filter: { type: 'largestObject' }, parameters: { authorizationTokens: [] } }),
    );
    const ok = await next();
    if (ok.type !== 'subscribe_ok') throw new Error(`expected SUBSCRIBE_OK, got ${ok.type}`);
    for (;;) {
      const object = subgroups.find((s) => s.header.trackAlias === ok.trackAlias && s.objects.length > 0)?.objects[0];
      if (object) return { version: setup.version, object };
      if (Date.now() > deadline) throw new Error(`no object on ${track}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    session.close();
  }
}
