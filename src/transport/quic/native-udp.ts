/**
 * The one typed door to the batched-UDP addon (native/udp/udp_batch.c, built by
 * native/build.mjs on `npm ci`). Loading it may fail (not built, not Linux, or
 * MOQ_GATEWAY_UDP=dgram): then `nativeUdp` is undefined and `udpMode()` says why, and the
 * QUIC endpoints use node:dgram instead.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export type NativeUdpHandle = { readonly __brand: 'NativeUdpHandle' };

/** [handle, local host, local port, GSO available, GRO enabled] */
type OpenResult = [NativeUdpHandle, string, number, boolean, boolean];

export interface NativeUdp {
  /**
   * Binds a socket and starts polling it. `onReceive(datagrams, sources, error)` runs once per
   * readable event: `meta` then holds [offset in rx, length, message index] per datagram and
   * `sources` [host, port] per message; error is an errno (e.g. ECONNREFUSED) with nothing read.
   */
  open(
    host: string,
    port: number,
    reusePort: boolean,
    connectHost: string | null,
    connectPort: number,
    bufferBytes: number,
    rx: Uint8Array,
    meta: Int32Array,
    onReceive: (datagrams: number, sources: readonly (string | number)[], error: number) => void,
  ): OpenResult;
  /** A sockaddr for `host:port` in the socket's family, as a 28-byte address slot. */
  address(handle: NativeUdpHandle, host: string, port: number): Buffer;
  /** trains: [offset, length, segment size, address slot] × count. 0 or a negative errno. */
  sendBatch(handle: NativeUdpHandle, data: Uint8Array, trains: Int32Array, count: number, addresses: Uint8Array): number;
  close(handle: NativeUdpHandle): void;
  /** [sent messages, send calls, send errors, received datagrams, receive calls, gso, gro] */
  stats(handle: NativeUdpHandle): number[];
  /** The receive path's control-message parser (for fuzzing): [offset, length, 0] × n, or -1. */
  groSegments(control: Uint8Array, length: number, out: Int32Array): number;
}

export const ADDRESS_SLOT_BYTES = 28;
/** -ECONNREFUSED from sendBatch, ECONNREFUSED in onReceive (Linux errno 111). */
export const ECONNREFUSED = 111;

export interface UdpMode {
  readonly mode: 'batched' | 'dgram';
  /** Why node:dgram is used; for batched, whether GSO/GRO are available. */
  readonly reason: string;
}

const ADDON = fileURLToPath(new URL('../../../native/udp/build/udp_batch.node', import.meta.url));

function load(): { addon?: NativeUdp; reason: string } {
  if (process.env.MOQ_GATEWAY_UDP === 'dgram') return { reason: 'MOQ_GATEWAY_UDP=dgram' };
  if (process.platform !== 'linux') return { reason: `the batched UDP addon needs Linux (this is ${process.platform})` };
  if (!existsSync(ADDON)) return { reason: 'native/udp/build/udp_batch.node is not built (run `node native/build.mjs`)' };
  try {
    return { addon: createRequire(import.meta.url)(ADDON) as NativeUdp, reason: 'recvmmsg/sendmmsg' };
  } catch (error) {
    return { reason: `loading the batched UDP addon failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const loaded = load();

export const nativeUdp: NativeUdp | undefined = loaded.addon;

let offload = '';

/** Called by the first native socket: whether the kernel took GSO and GRO. */
export function noteOffload(gso: boolean, gro: boolean): void {
  offload = `, GSO ${gso ? 'on' : 'off'}, GRO ${gro ? 'on' : 'off'}`;
}

export function udpMode(): UdpMode {
  return nativeUdp ? { mode: 'batched', reason: `${loaded.reason}${offload}` } : { mode: 'dgram', reason: loaded.reason };
}
