import { isIPv4 } from 'node:net';
import { parseSdp, serializeSdp, toAttribute, type SdpLine } from '../../../src/webrtc/sdp.ts';

/**
 * Which of our ICE candidates (RFC 8839 §5.1) the answer advertises: host candidates only on
 * the configured addresses, plus the public address for each IPv4 host port when the gateway
 * sits behind a 1:1 NAT (the socket is bound to every address, so the public one reaches it).
 */
export interface CandidatePolicy {
  /** Advertise host candidates on these addresses only; all when undefined. */
  hosts: ReadonlySet<string> | undefined;
  publicIp: string | undefined;
}

interface HostCandidate {
  foundation: string;
  component: string;
  transport: string;
  priority: number;
  address: string;
  port: string;
  type: string;
}

/** `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...`. */
function parseCandidate(value: string): HostCandidate | undefined {
  const f = value.split(' ');
  if (f.length < 8 || f[6] !== 'typ') return undefined;
  return { foundation: f[0]!, component: f[1]!, transport: f[2]!, priority: Number(f[3]), address: f[4]!, port: f[5]!, type: f[7]! };
}

function rewriteLines(lines: readonly SdpLine[], policy: CandidatePolicy): SdpLine[] {
  const out: SdpLine[] = [];
  for (const line of lines) {
    const attr = toAttribute(line);
    const candidate = attr?.name === 'candidate' && attr.value !== undefined ? parseCandidate(attr.value) : undefined;
    if (candidate?.type !== 'host') {
      out.push(line);
      continue;
    }
    if (policy.hosts && !policy.hosts.has(candidate.address)) continue;
    out.push(line);
    if (policy.publicIp && candidate.transport.toLowerCase() === 'udp' && isIPv4(candidate.address) && !candidate.address.startsWith('127.')) {
      // A server-reflexive candidate (RFC 8445 §5.1.1.2): the NAT's address, our host as base.
      const priority = Math.max(1, candidate.priority - 256 * 1024);
      out.push({
        type: 'a',
        value: `candidate:${candidate.foundation}9 ${candidate.component} udp ${priority} ${policy.publicIp} ${candidate.port} typ srflx raddr ${candidate.address} rport ${candidate.port}`,
      });
    }
  }
  return dedupe(out);
}

/** Several host addresses share one port: advertise each public address:port once. */
function dedupe(lines: SdpLine[]): SdpLine[] {
  const seen = new Set<string>();
  return lines.filter((line) => {
    if (line.type !== 'a' || !line.value.includes(' typ srflx ')) return true;
    const f = line.value.split(' ');
    const key = `${f[1]} ${f[4]} ${f[5]}`; // component, address, port
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function applyCandidatePolicy(answerSdp: string, policy: CandidatePolicy): string {
  if (!policy.hosts && !policy.publicIp) return answerSdp;
  const doc = parseSdp(answerSdp);
  return serializeSdp({
    session: rewriteLines(doc.session, policy),
    media: doc.media.map((m) => ({ ...m, lines: rewriteLines(m.lines, policy) })),
  });
}
