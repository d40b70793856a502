/**
 * The one message a bench viewer sends: a moq-lite SUBSCRIBE on a new bidi stream (stream type
 * 2, draft-lcurley-moq-lite §Subscribe), encoded by the gateway's own codec.
 */
import { ByteWriter } from '../../src/wire/byte-writer.ts';
import { BidiStreamType } from '../../src/moq/lite/stream-type.ts';
import { encodeSubscribe } from '../../src/moq/lite/subscribe.ts';
import { LiteVersion } from '../../src/moq/lite/version.ts';

export const LITE_ALPN = 'moq-lite-04';

export function subscribeStreamBytes(broadcast: string, track: string): Uint8Array {
  const body = encodeSubscribe({ id: 0, broadcast, track, priority: 60, ordered: false, maxLatency: 0 }, LiteVersion.Draft04);
  return new ByteWriter(body.byteLength + 1).varint(BidiStreamType.Subscribe).bytes(body).finish();
}
