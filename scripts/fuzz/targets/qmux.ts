/**
 * MoQ over WebSocket: QMux drafts 00/01/02 and the older web-transport-ws framing, decoded by
 * @moq/qmux (a dependency). The gateway hands every upgraded `ws` socket to `Session.accept`
 * (src/transport/websocket.ts); here the socket is an in-memory fake that delivers the fuzz
 * input as WebSocket messages. The property: whatever arrives, only that session ends — no
 * exception or rejection escapes to the process, no unbounded allocation, no hang. Incoming
 * streams are read to the end, as a MoQ session would, so the stream paths run too.
 *
 * The session reports a frame it cannot decode with `console.error("Protocol violation:", e)`
 * and closes; the notes tally the class of that error per session (a TypeError or RangeError
 * there would be a decoder bug contained by the session, not a crash) and the peer streams
 * accepted (how deep the inputs got).
 */
import QmuxSession from '@moq/qmux';
import { cat, framed, macrotask, messages, quicVarint, text } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

type Framing = 'qmux-02' | 'qmux-01' | 'qmux-00' | 'webtransport';

/** The subset of a browser WebSocket that @moq/web-socket-stream adopts (as `ws` provides). */
class FakeWebSocket {
  binaryType = 'nodebuffer';
  readonly url = 'ws://fuzz.invalid/';
  readonly bufferedAmount = 0;
  readyState = 1; // OPEN: the upgrade is done before Session.accept
  readonly extensions = '';
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null;

  constructor(readonly protocol: string) {}

  send(): void {
    // the peer's side: dropped
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? '' }));
  }

  /** One binary message from the peer, as `ws` delivers it with binaryType 'arraybuffer'. */
  deliver(message: Uint8Array): void {
    if (this.readyState !== 1) return;
    const data = this.binaryType === 'arraybuffer' ? message.slice().buffer : Buffer.from(message);
    this.onmessage?.({ data });
  }
}

/** Reads every incoming stream to its end (what a MoQ session does with them), ignoring errors. */
function consumeIncoming(session: QmuxSession, onStream: () => void): void {
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
  void (async () => {
    const bidis = session.incomingBidirectionalStreams.getReader();
    try {
      for (let next = await bidis.read(); !next.done; next = await bidis.read()) {
        onStream();
        void readAll(next.value.readable);
        void next.value.writable.close().catch(() => {});
      }
    } catch {
      // session closed
    }
  })();
  void (async () => {
    const unis = session.incomingUnidirectionalStreams.getReader();
    try {
      for (let next = await unis.read(); !next.done; next = await unis.read()) {
        onStream();
        void readAll(next.value);
      }
    } catch {
      // session closed
    }
  })();
  void (async () => {
    const datagrams = session.datagrams.readable.getReader();
    try {
      while (!(await datagrams.read()).done) {
        // discard
      }
    } catch {
      // session closed
    }
  })();
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

// --- target --------------------------------------------------------------------------------

interface Tally {
  sessions: number;
  streams: number;
  /** Sessions that closed on a protocol violation, by the class of the first error. */
  closedBy: Map<string, number>;
}

function qmuxTarget(framing: Framing): FuzzTarget {
  const wire = `${framing}.moq-lite-04`;
  const tally: Tally = { sessions: 0, streams: 0, closedBy: new Map() };
  return {
    name: framing === 'webtransport' ? 'web-transport-ws' : framing,
    seeds: framing === 'webtransport' ? WT_SEEDS : qmuxSeeds(framing),
    // Nothing may be thrown to the caller: the session contains every failure.
    allowed: () => false,
    async run(bytes) {
      tally.sessions++;
      let firstViolation: string | undefined;
      const saved = console.error;
      console.error = (...args: unknown[]) => {
        if (args[0] !== 'Protocol violation:' || firstViolation) return;
        const error = args[1];
        firstViolation = error instanceof Error ? error.constructor.name : typeof error;
      };
      try {
        const socket = new FakeWebSocket(wire);
        const session = QmuxSession.accept(socket as never, { protocol: wire });
        consumeIncoming(session, () => tally.streams++);
        await session.ready.catch(() => {});
        for (const message of messages(bytes)) socket.deliver(message);
        await macrotask();
        await macrotask();
        session.close({ closeCode: 0, reason: 'fuzz case done' });
        await macrotask();
      } finally {
        console.error = saved;
        if (firstViolation) tally.closedBy.set(firstViolation, (tally.closedBy.get(firstViolation) ?? 0) + 1);
      }
    },
    notes() {
      const { sessions, streams, closedBy } = tally;
      const notes =
        sessions === 0
          ? []
          : [
              `${sessions} sessions, ${streams} peer streams accepted; closed on a protocol violation: ${
                [...closedBy].map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none'
              }`,
            ];
      tally.sessions = 0;
      tally.streams = 0;
      tally.closedBy.clear();
      return notes;
    },
  };
}

export const qmuxTargets: FuzzTarget[] = (['qmux-02', 'qmux-01', 'qmux-00', 'webtransport'] as const).map(qmuxTarget);
