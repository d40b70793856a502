import type { WhipServiceOptions } from '../adapters/ingest/whip/index.ts';
import { parseUdpPortRange, type GatewayConfig } from './config.ts';

/** The `webrtc.*` options in the WHIP service's terms (unset ones keep its defaults). */
export function whipNatOptions(config: GatewayConfig): Pick<WhipServiceOptions, 'publicIp' | 'udpPort' | 'udpPortRange' | 'iceHosts'> {
  return {
    ...(config.webrtcPublicIp !== '' ? { publicIp: config.webrtcPublicIp } : {}),
    ...(config.webrtcUdpPort > 0 ? { udpPort: config.webrtcUdpPort } : {}),
    ...(config.webrtcUdpPorts !== '' ? { udpPortRange: parseUdpPortRange(config.webrtcUdpPorts) } : {}),
    ...(config.webrtcInterfaces.length > 0 ? { iceHosts: [...config.webrtcInterfaces] } : {}),
  };
}
