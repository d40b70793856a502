/**
 * Raw QUIC session targets: the PATH parameter of CLIENT_SETUP (draft-14 and draft-16 layouts)
 * becomes the session URL, and the CLIENT_SETUP is handed on decoded with its stream (read once);
 * a stream that is not a CLIENT_SETUP is replayed unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlCodec } from '../../src/moq/ietf/control-codec.ts';
import type { IetfVersion } from '../../src/moq/ietf/version.ts';
import { rawQuicTarget, withPath } from '../../src/moq/session-target.ts';
import { ProtocolError } from '../../src/wire/errors.ts';

const base = new URL('https://127.0.0.1:4443/');

/** A WebTransport-shaped session whose first incoming bidi stream carries `bytes`, in chunks. */
function sessionOpeningWith(bytes: Uint8Array, chunk = 3): WebTransport {
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.byteLength; at += chunk) controller.enqueue(bytes.slice(at, at + chunk));
      controller.close();
    },
  });
  const stream = { readable, writable: new WritableStream<Uint8Array>() };
  const incoming = new ReadableStream({ start: (controller) => controller.enqueue(stream) });
  return {
    incomingBidirectionalStreams: incoming,
    incomingUnidirectionalStreams: new ReadableStream(),
    close: () => {},
    createBidirectionalStream: async () => stream,
    createUnidirectionalStream: async () => new WritableStream(),
  } as unknown as WebTransport;
}

async function firstStreamBytes(transport: WebTransport): Promise<Uint8Array> {
  const first = await transport.incomingBidirectionalStreams.getReader().read();
  return new Uint8Array(await new Response((first.value as WebTransportBidirectionalStream).readable).arrayBuffer());
}

function clientSetup(layout: IetfVersion, path?: string): Uint8Array {
  return controlCodec(layout).frame({
    type: 'client_setup',
    versions: layout === 'draft-14' ? [0xff0dad02, 0xff00000e] : [],
    parameters: { authorizationTokens: [], path, maxRequestId: 10 },
  });
}

describe('withPath', () => {
  it('takes the path and query of a PATH parameter', () => {
    expect(withPath(base, '/live?jwt=abc.def').href).toBe('https://127.0.0.1:4443/live?jwt=abc.def');
    expect(withPath(base, '/a/b').href).toBe('https://127.0.0.1:4443/a/b');
  });

  it('keeps the default path when PATH is absent or empty', () => {
    expect(withPath(base, undefined)).toBe(base);
    expect(withPath(base, '')).toBe(base);
  });

  it('refuses values that are not an absolute path, and cannot change the authority', () => {
    for (const bad of ['live', '//evil.example/x', '/a#frag', `/${'x'.repeat(9000)}`]) expect(() => withPath(base, bad), bad).toThrow(/PATH/);
  });

  it('fuzz: any PATH either fails with a ProtocolError or keeps the scheme, host and port', () => {
    const paths = fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), fc.string({ maxLength: 200 }).map((rest) => `/${rest}`));
    fc.assert(
      fc.property(paths, (path) => {
        try {
          const url = withPath(base, path);
          expect(url.origin).toBe(base.origin);
          expect(url.hash).toBe('');
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe.each(['draft-14', 'draft-16'] as const)('rawQuicTarget with a %s CLIENT_SETUP', (layout) => {
  const protocol = layout === 'draft-16' ? 'moqt-16' : 'moql';

  it('roots the session at PATH and hands on the decoded SETUP with the bytes after it', async () => {
    const after = new Uint8Array([0x40, 0x41, 0x42]);
    const bytes = new Uint8Array([...clientSetup(layout, '/live?jwt=t0k3n'), ...after]);
    const target = await rawQuicTarget(sessionOpeningWith(bytes), protocol, base, 1000);
    expect(target.url.pathname).toBe('/live');
    expect(target.url.searchParams.get('jwt')).toBe('t0k3n');
    expect(target.setup?.message).toMatchObject({ type: 'client_setup', parameters: { path: '/live?jwt=t0k3n', maxRequestId: 10 } });
    if (layout === 'draft-14') expect(target.setup?.message.versions).toEqual([0xff0dad02, 0xff00000e]);
    expect(await target.setup!.reader.bytes(3)).toEqual(after);
    // The SETUP's stream is not offered again as an incoming stream.
    const next = target.transport.incomingBidirectionalStreams.getReader().read();
    expect(await Promise.race([next.then(() => 'stream'), new Promise((resolve) => setTimeout(() => resolve('none'), 50))])).toBe('none');
  });

  it('replays a first stream that is not a CLIENT_SETUP unchanged', async () => {
    const bytes = new Uint8Array([0x00, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05]); // a lite-01/02 native SETUP (type 0)
    const target = await rawQuicTarget(sessionOpeningWith(bytes), protocol, base, 1000);
    expect(target.setup).toBeUndefined();
    expect(await firstStreamBytes(target.transport)).toEqual(bytes);
  });

  it('keeps the default URL without PATH', async () => {
    const target = await rawQuicTarget(sessionOpeningWith(clientSetup(layout)), protocol, base, 1000);
    expect(target.url.href).toBe(base.href);
  });
});

describe('rawQuicTarget on moq-lite-03/04', () => {
  it('reads nothing: those versions have no SETUP', async () => {
    const session = sessionOpeningWith(new Uint8Array([1, 2, 3]));
    const target = await rawQuicTarget(session, 'moq-lite-04', base, 1000);
    expect(target.transport).toBe(session);
    expect(target.url).toBe(base);
  });
});
