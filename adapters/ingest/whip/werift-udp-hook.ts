import { UdpTransport } from 'werift';
import type { MuxedTransport, MuxSession } from './udp-mux.ts';

/**
 * werift 0.25 has no way to hand its ICE agent a socket: every host candidate binds its own
 * UDP port through `UdpTransport.init(type, { portRange, interfaceAddresses })`. That static
 * method is the one seam, so it is wrapped here, once: a peer that wants the shared port passes
 * a marker object as `iceInterfaceAddresses` (werift passes the same object through to `init`,
 * and an empty one changes nothing else) and gets a virtual transport on the mux. Every other
 * caller, including werift clients in the same process, gets the original behaviour.
 */

type InitOptions = { portRange?: [number, number]; port?: number; interfaceAddresses?: object };
type Init = (type: 'udp4' | 'udp6', options?: InitOptions) => Promise<unknown>;

const sessions = new WeakMap<object, MuxSession>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const target = UdpTransport as unknown as { init: Init };
  const original = target.init.bind(UdpTransport);
  target.init = async (type, options) => {
    const session = options?.interfaceAddresses ? sessions.get(options.interfaceAddresses) : undefined;
    // IPv6 host candidates keep their own sockets: the shared port is IPv4.
    if (session && type === 'udp4') return session.mux.openTransport(session) satisfies MuxedTransport;
    return original(type, options);
  };
}

/** The value to pass as werift's `iceInterfaceAddresses` so its UDP sockets are `session`'s. */
export function muxMarker(session: MuxSession): Record<string, never> {
  install();
  const marker = {};
  sessions.set(marker, session);
  return marker;
}
