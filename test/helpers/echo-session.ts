import type { WebTransportSession } from '../../src/transport/quic/index.ts';

/** Server side of the transport tests: echoes bidi streams, answers each uni stream with a uni stream of the same bytes, bounces datagrams. */
export function echoSession(session: WebTransportSession): void {
  void (async () => {
    const reader = session.incomingBidirectionalStreams.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) next.value.readable.pipeTo(next.value.writable).catch(() => {});
  })().catch(() => {});
  void (async () => {
    const reader = session.incomingUnidirectionalStreams.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const back = await session.createUnidirectionalStream();
      next.value.pipeTo(back).catch(() => {});
    }
  })().catch(() => {});
  void (async () => {
    const reader = session.datagrams.readable.getReader();
    const writer = session.datagrams.writable.getWriter();
    for (let next = await reader.read(); !next.done; next = await reader.read()) await writer.write(next.value);
  })().catch(() => {});
}
