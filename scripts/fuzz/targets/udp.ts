/**
 * The batched UDP addon's receive-path parser (native/udp/udp_batch.c, udp_gro_segments):
 * recvmmsg control data (cmsg headers, the UDP_GRO segment size) and the split of a coalesced
 * message into datagrams. Input: a little-endian u16 message length, then the control bytes.
 * Every result must be -1 (malformed control data) or datagrams that tile the message exactly.
 * Also the steering envelope workers hand each other QUIC packets in (steering.ts): whatever
 * decodes re-encodes to the same bytes.
 */
import { nativeUdp } from '../../../src/transport/quic/native-udp.ts';
import { decodeForwarded, encodeForwarded } from '../../../src/transport/quic/steering.ts';
import type { FuzzTarget } from '../harness.ts';

/** struct cmsghdr on 64-bit Linux: size_t cmsg_len, int level, int type, then data (8-aligned). */
function cmsg(level: number, type: number, value: number): Uint8Array {
  const bytes = new Uint8Array(24);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, 20n, true); // CMSG_LEN(sizeof(int))
  view.setInt32(8, level, true);
  view.setInt32(12, type, true);
  view.setInt32(16, value, true);
  return bytes;
}

const withLength = (length: number, ...controls: Uint8Array[]): Uint8Array => {
  const total = controls.reduce((sum, c) => sum + c.byteLength, 2);
  const out = new Uint8Array(total);
  out[0] = length & 0xff;
  out[1] = length >> 8;
  let at = 2;
  for (const c of controls) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
};

const SOL_UDP = 17;
const UDP_GRO = 104;
const SOL_SOCKET = 1;
const out = new Int32Array(3 * 4096);

export const udpTargets: FuzzTarget[] = [
  {
    name: 'quic.gro-segments',
    seeds: [
      withLength(3000, cmsg(SOL_UDP, UDP_GRO, 1200)),
      withLength(1350, cmsg(SOL_SOCKET, 29, 7), cmsg(SOL_UDP, UDP_GRO, 1350)),
      withLength(64_800, cmsg(SOL_UDP, UDP_GRO, 1350)),
      withLength(1200),
    ],
    allowed: () => false,
    run(bytes) {
      if (!nativeUdp || bytes.byteLength < 2) return;
      const length = bytes[0]! | (bytes[1]! << 8);
      const control = bytes.subarray(2);
      const count = nativeUdp.groSegments(control, length, out);
      if (count === -1) return;
      if (count < 1 || count > out.length / 3) throw new Error(`groSegments returned ${count}`);
      let next = 0;
      for (let i = 0; i < count; i++) {
        const offset = out[i * 3]!;
        const size = out[i * 3 + 1]!;
        if (offset !== next || size < 0 || size > 65_535 || (size === 0 && length !== 0)) throw new Error(`datagram ${i}: [${offset}, ${size}] after ${next}`);
        next += size;
      }
      if (next !== length) throw new Error(`datagrams cover ${next} of ${length} bytes`);
    },
  },
  {
    name: 'quic.steering-envelope',
    seeds: [encodeForwarded(new Uint8Array([0x40, 1, 2, 3]), { host: '127.0.0.1', port: 4443 }), encodeForwarded(new Uint8Array(1200), { host: '::ffff:10.0.0.1', port: 65535 }), new Uint8Array([0, 1, 0])],
    allowed: () => false,
    run(bytes) {
      const decoded = decodeForwarded(bytes);
      if (!decoded) return;
      const again = encodeForwarded(decoded.packet, decoded.from);
      if (!Buffer.from(again).equals(Buffer.from(bytes))) throw new Error('steering envelope does not round-trip');
    },
  },
];
