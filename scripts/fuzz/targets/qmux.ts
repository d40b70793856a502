/**
 * MoQ over WebSocket: QMux drafts 00/01/02 and the older web-transport-ws framing, as our own
 * server decodes them (src/transport/qmux/). Two kinds of target per framing:
 * - `<framing>.frames`: the frame decoder alone on one message; it may only refuse with
 *   ProtocolError;
 * - `<framing>`: a whole server session (on an in-memory WebSocket and socket) fed the input as
 *   WebSocket messages, with every incoming stream read to the end as a MoQ session would. The
 *   property: whatever arrives, only that session ends — no exception escapes, no unbounded
 *   allocation, no hang — and it ends on a protocol error, not an internal one (a TypeError
 *   inside frame handling would surface as "internal error").
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { decodeMessage } from '../../../src/transport/qmux/frame.ts';
import { QmuxServerSession } from '../../../src/transport/qmux/session.ts';
import type { WsFraming } from '../../../src/transport/subprotocol.ts';
import { ProtocolError } from '../../../src/wire/errors.ts';
import { cat, framed, macrotask, messages, quicVarint, text } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

type Framing = WsFraming;

/** The part of a `ws` WebSocket the session uses; the peer's side of the wire is dropped. */
class FakeWebSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  close(code?: number): void {
    if (this.readyState !== 1) return;
    this.readyState = 2;
    setImmediate(() => {
      this.readyState = 3;
      this.emit('close', code ?? 1005, Buffer.alloc(0));
    });
  }
  pause(): void {}
  resume(): void {}
}

/** A socket that takes every write at once. */
class FakeSocket extends EventEmitter {
  readonly writableLength = 0;
  cork(): void {}
  uncork(): void {}
  write(): boolean {
    return true;
  }
  end(): void {}
}

/** Reads every incoming stream to its end (what a MoQ session does with them), ignoring errors. */
function consumeIncoming(session: QmuxServerSession, onStream: () => void): void {
  const readAll = async (readable: ReadableStream<Uint8Array>): Promise<void> => {
    const reader = readable.getReader();
    try {
      while (!(await reader.read()).done) {
        // discard
      }
    } catch {
      // a reset stream or a closed session: fine
    }
  };
  const each = async <T>(streams: ReadableStream<T>, handle: (value: T) => void): Promise<void> => {
    const reader = streams.getReader();
    try {
      for (let next = await reader.read(); !next.done; next = await reader.read()) handle(next.value);
    } catch {
      // session closed
    }
  };
  void each(session.incomingBidirectionalStreams, (stream) => {
    onStream();
    void readAll(stream.readable);
    void stream.writable.close().catch(() => {});
  });
  void each(session.incomingUnidirectionalStreams, (readable) => {
    onStream();
    void readAll(readable);
  });
  void readAll(session.datagrams.readable);
}

// --- seed frames ---------------------------------------------------------------------------

const TP_TYPE = 0x3f5153300d0a0d0an;
const PING_REQUEST = 0x348c67529ef8c7bdn;
const MAX_RECORD_SIZE_ID = 0x0571c59429cd0845n;

const param = (id: bigint | number, value: bigint | number): Uint8Array => {
  const v = quicVarint(value);
  return cat(quicVarint(id), quicVarint(v.byteLength), v);
};

const TRANSPORT_PARAMETERS = (() => {
  const body = cat(
    param(0x01, 30_000),
    param(0x04, 1_048_576),
    param(0x05, 262_144),
    param(0x06, 262_144),
    param(0x07, 262_144),
    param(0x08, 100),
    param(0x09, 100),
    param(0x20, 16_382),
    param(MAX_RECORD_SIZE_ID, 16_382),
    quicVarint(0x1d),
    quicVarint(0), // reset_stream_at (empty)
  );
  return cat(quicVarint(TP_TYPE), quicVarint(body.byteLength), body);
})();

/** QMux STREAM with OFF and LEN (0x0e | FIN). */
const qStream = (id: number, offset: number, data: Uint8Array, fin = false): Uint8Array =>
  cat(quicVarint(0x0e | (fin ? 1 : 0)), quicVarint(id), quicVarint(offset), quicVarint(data.byteLength), data);

/** A moq-lite SUBSCRIBE stream's opening bytes, so the payloads look like real traffic. */
const SUBSCRIBE_BYTES = cat(0x02, 0x13, 0x03, 0x09, text('live/demo'), 0x05, text('video'), 0x3c, 0x01, 0x00, 0x00, 0x00);

const QMUX_FRAMES = {
  stream0: qStream(0, 0, SUBSCRIBE_BYTES),
  stream0more: qStream(0, SUBSCRIBE_BYTES.byteLength, Uint8Array.of(1, 2, 3), true),
  uni2: qStream(2, 0, cat(0x00, 0x04, 0x05, 0x80, 0x00, 0x00, 0x00, 0x03, 9, 9, 9)),
  uni6fin: qStream(6, 0, new Uint8Array(200).fill(0x61), true),
  resetStream: cat(quicVarint(0x04), quicVarint(2), quicVarint(7), quicVarint(11)),
  resetStreamAt: cat(quicVarint(0x24), quicVarint(4), quicVarint(7), quicVarint(20), quicVarint(10)),
  stopSending: cat(quicVarint(0x05), quicVarint(0), quicVarint(3)),
  maxData: cat(quicVarint(0x10), quicVarint(4_000_000)),
  maxStreamData: cat(quicVarint(0x11), quicVarint(1), quicVarint(500_000)),
  maxStreamsBidi: cat(quicVarint(0x12), quicVarint(200)),
  maxStreamsUni: cat(quicVarint(0x13), quicVarint(200)),
  dataBlocked: cat(quicVarint(0x14), quicVarint(100)),
  streamDataBlocked: cat(quicVarint(0x15), quicVarint(0), quicVarint(100)),
  streamsBlocked: cat(quicVarint(0x16), quicVarint(10)),
  ping: cat(quicVarint(PING_REQUEST), quicVarint(0)),
  ping2: cat(quicVarint(PING_REQUEST), quicVarint(1)),
  datagram: cat(quicVarint(0x31), quicVarint(5), Uint8Array.of(1, 2, 3, 4, 5)),
  datagramToEnd: cat(quicVarint(0x30), Uint8Array.of(9, 8, 7)),
  padding: Uint8Array.of(0, 0, 0),
  appClose: cat(quicVarint(0x1d), quicVarint(0), quicVarint(3), text('bye')),
  connClose: cat(quicVarint(0x1c), quicVarint(0x0a), quicVarint(0), quicVarint(4), text('oops')),
};

function qmuxSeeds(framing: Framing): Uint8Array[] {
  const f = QMUX_FRAMES;
  if (framing === 'qmux-00') {
    // One frame per WebSocket message.
    return [
      framed([TRANSPORT_PARAMETERS, f.stream0, f.stream0more, f.uni2, f.uni6fin, f.maxData, f.maxStreamsBidi, f.stopSending, f.resetStream]),
      framed([TRANSPORT_PARAMETERS, f.maxStreamData, f.dataBlocked, f.streamDataBlocked, f.streamsBlocked, f.stream0, f.appClose]),
      framed([TRANSPORT_PARAMETERS, f.uni2, f.connClose]),
    ];
  }
  // Records: one or more frames per message; draft-02 needs TRANSPORT_PARAMETERS first.
  return [
    framed([cat(f.padding, TRANSPORT_PARAMETERS), cat(f.stream0, f.uni2), f.stream0more, cat(f.maxData, f.maxStreamsBidi, f.maxStreamsUni), f.uni6fin, cat(f.ping, f.ping2), f.datagram, f.datagramToEnd]),
    framed([TRANSPORT_PARAMETERS, cat(f.stream0, f.resetStream, f.resetStreamAt, f.stopSending), cat(f.maxStreamData, f.dataBlocked, f.streamDataBlocked, f.streamsBlocked), f.appClose]),
    framed([TRANSPORT_PARAMETERS, cat(f.uni2, f.uni6fin, f.connClose)]),
  ];
}

/** web-transport-ws: type byte, then fields; STREAM data and close reasons run to the end. */
const WT_SEEDS = [
  framed([
    cat(0x08, quicVarint(0), SUBSCRIBE_BYTES),
    cat(0x09, quicVarint(0), Uint8Array.of(1, 2, 3)),
    cat(0x08, quicVarint(2), Uint8Array.of(0, 4, 5, 0x80, 0, 0, 0, 3, 9, 9, 9)),
    cat(0x09, quicVarint(6), new Uint8Array(100)),
    cat(0x04, quicVarint(2), quicVarint(7)),
    cat(0x05, quicVarint(0), quicVarint(3)),
  ]),
  framed([cat(0x08, quicVarint(4), Uint8Array.of(7)), cat(0x1d, quicVarint(0), text('bye'))]),
  framed([cat(0x08, quicVarint(8), Uint8Array.of(7)), cat(0x1c, quicVarint(5), text('bad'))]),
];

// --- targets -------------------------------------------------------------------------------

const nameOf = (framing: Framing): string => (framing === 'webtransport' ? 'web-transport-ws' : framing);
const seedsOf = (framing: Framing): Uint8Array[] => (framing === 'webtransport' ? WT_SEEDS : qmuxSeeds(framing));

function decoderTarget(framing: Framing): FuzzTarget {
  return {
    name: `${nameOf(framing)}.frames`,
    // Each seed message on its own.
    seeds: seedsOf(framing).flatMap((seed) => messages(seed)),
    allowed: (error) => error instanceof ProtocolError,
    run(bytes) {
      decodeMessage(framing, bytes);
    },
  };
}

interface Tally {
  sessions: number;
  streams: number;
  /** How sessions ended, by the first words of the reason. */
  endedBy: Map<string, number>;
}

function sessionTarget(framing: Framing): FuzzTarget {
  const tally: Tally = { sessions: 0, streams: 0, endedBy: new Map() };
  return {
    name: nameOf(framing),
    seeds: seedsOf(framing),
    // Nothing may be thrown to the caller: the session contains every failure.
    allowed: () => false,
    async run(bytes) {
      tally.sessions++;
      const ws = new FakeWebSocket();
      const session = new QmuxServerSession(ws as unknown as WebSocket, new FakeSocket() as unknown as Duplex, framing);
      let ending = 'still open';
      session.closed.then(
        () => {
          ending = 'closed by the peer';
        },
        (error: Error) => {
          ending = error.message;
        },
      );
      consumeIncoming(session, () => tally.streams++);
      for (const message of messages(bytes)) ws.emit('message', Buffer.from(message), true);
      await macrotask();
      await macrotask();
      session.close({ closeCode: 0, reason: 'fuzz case done' });
      await macrotask();
      const kind = ending.split(':').slice(0, 2).join(':').slice(0, 60);
      tally.endedBy.set(kind, (tally.endedBy.get(kind) ?? 0) + 1);
      if (ending.includes('internal error')) throw new Error(`session failed inside: ${ending}`);
    },
    notes() {
      const { sessions, streams, endedBy } = tally;
      const top = [...endedBy].sort((a, b) => b[1] - a[1]).slice(0, 4);
      const notes = sessions === 0 ? [] : [`${sessions} sessions, ${streams} peer streams accepted; ended: ${top.map(([kind, n]) => `${kind} ×${n}`).join(', ')}`];
      tally.sessions = 0;
      tally.streams = 0;
      tally.endedBy.clear();
      return notes;
    },
  };
}

const FRAMINGS = ['qmux-02', 'qmux-01', 'qmux-00', 'webtransport'] as const;
export const qmuxTargets: FuzzTarget[] = [...FRAMINGS.map(decoderTarget), ...FRAMINGS.map(sessionTarget)];
