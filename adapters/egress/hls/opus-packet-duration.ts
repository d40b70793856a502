/**
 * Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1): the configuration
 * number gives the frame size, the code the frame count. Undefined for a malformed packet.
 */
export function opusPacketSamples(packet: Uint8Array): number | undefined {
  if (packet.byteLength === 0) return undefined;
  const toc = packet[0]!;
  const config = toc >> 3;
  // Frame sizes in 1/10 ms: SILK-only 10/20/40/60, Hybrid 10/20, CELT-only 2.5/5/10/20 (Table 2).
  const tenthsMs = config < 12 ? [100, 200, 400, 600][config % 4]! : config < 16 ? [100, 200][config % 2]! : [25, 50, 100, 200][config % 4]!;
  const code = toc & 0x3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else {
    if (packet.byteLength < 2) return undefined;
    frames = packet[1]! & 0x3f;
  }
  const samples = (tenthsMs * 48 * frames) / 10;
  // §3.2.5: a packet holds at most 120 ms.
  return frames === 0 || samples > 5760 ? undefined : samples;
}
