import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';

/**
 * `--webrtc-interfaces`: addresses as given, interface names (`eth0`) as their addresses
 * (IPv4, and IPv6 other than link-local, which browsers cannot use without a scope).
 */
export function resolveIceHosts(entries: readonly string[], interfaces = networkInterfaces()): string[] {
  const out = new Set<string>();
  for (const entry of entries) {
    if (isIP(entry) !== 0) {
      out.add(entry);
      continue;
    }
    const addresses = interfaces[entry];
    if (!addresses) {
      throw new Error(`WebRTC interface ${JSON.stringify(entry)} is neither an IP address nor a network interface (have: ${Object.keys(interfaces).join(', ')})`);
    }
    const usable = addresses.filter((a) => a.family === 'IPv4' || !a.address.toLowerCase().startsWith('fe80:'));
    if (usable.length === 0) throw new Error(`WebRTC interface ${entry} has no usable address`);
    for (const a of usable) out.add(a.address);
  }
  return [...out];
}
