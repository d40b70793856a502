import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/**
 * Network namespaces a test creates and always removes: a publisher on the "internet" side of a
 * NAT router, and a gateway on a private network behind it (a cloud VM). Needs root, `ip` and
 * `iptables`; nothing touches the host's own interfaces.
 *
 *   publisher 198.51.100.2 ── 198.51.100.1 [router: DNAT + MASQUERADE] 10.99.0.1 ── 10.99.0.2 gateway
 *
 * The publisher has no route to 10.99.0.0/24 (private addresses are not routed on the internet)
 * and, like any client behind a home NAT, accepts no unsolicited UDP: it reaches the gateway only
 * through the router's public address and the ports forwarded there.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const PUBLIC_IP = '198.51.100.1';
export const PUBLISHER_IP = '198.51.100.2';
export const GATEWAY_IP = '10.99.0.2';

export interface NatTopology {
  publisher: string;
  router: string;
  gateway: string;
  /** The gateway's interface name inside its namespace. */
  gatewayInterface: string;
  /** Forward TCP and UDP ports (`40000` or `40000:40010`) of the public address to the gateway. */
  forward(protocol: 'tcp' | 'udp', ports: string): void;
  /** Spawn a command inside a namespace, in the repository root and its own process group (killed by `destroy`). */
  spawnIn(ns: string, command: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** Kill every process started here (by process group), delete the namespaces. Idempotent. */
  destroy(): void;
}

function run(command: string): void {
  const result = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command}: ${result.stderr || `exit ${result.status}`}`);
}

export function createNatTopology(): NatTopology {
  const tag = `wn${randomBytes(3).toString('hex')}`; // interface names are at most 15 bytes
  const [publisher, router, gateway] = [`${tag}-pub`, `${tag}-rtr`, `${tag}-gw`];
  const [pubLink, rtrPubLink, rtrGwLink, gwLink] = [`${tag}a`, `${tag}b`, `${tag}c`, `${tag}d`];
  const children: ChildProcess[] = [];
  const inNs = (ns: string, command: string) => run(`ip netns exec ${ns} ${command}`);
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // Anything else still running inside (e.g. a browser's children), then the namespaces;
    // deleting one removes its veth ends and their peers.
    for (const ns of [publisher, router, gateway]) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split(/\s+/).filter((p) => /^\d+$/.test(p)) ?? [];
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
    process.off('exit', destroy);
  };
  process.once('exit', destroy);
  try {
    for (const ns of [publisher, router, gateway]) {
      run(`ip netns add ${ns}`);
      inNs(ns, 'ip link set lo up');
    }
    run(`ip link add ${pubLink} netns ${publisher} type veth peer name ${rtrPubLink} netns ${router}`);
    run(`ip link add ${rtrGwLink} netns ${router} type veth peer name ${gwLink} netns ${gateway}`);
    inNs(publisher, `ip addr add ${PUBLISHER_IP}/24 dev ${pubLink}`);
    inNs(publisher, `ip link set ${pubLink} up`);
    inNs(router, `ip addr add ${PUBLIC_IP}/24 dev ${rtrPubLink}`);
    inNs(router, `ip addr add 10.99.0.1/24 dev ${rtrGwLink}`);
    inNs(router, `ip link set ${rtrPubLink} up`);
    inNs(router, `ip link set ${rtrGwLink} up`);
    inNs(gateway, `ip addr add ${GATEWAY_IP}/24 dev ${gwLink}`);
    inNs(gateway, `ip link set ${gwLink} up`);
    inNs(gateway, 'ip route add default via 10.99.0.1');
    inNs(router, 'sysctl -qw net.ipv4.ip_forward=1');
    // The VM's outbound traffic leaves with the public address; inbound only where forwarded.
    inNs(router, `iptables -t nat -A POSTROUTING -s 10.99.0.0/24 -o ${rtrPubLink} -j MASQUERADE`);
    inNs(router, 'iptables -P FORWARD DROP');
    inNs(router, 'iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED,DNAT -j ACCEPT');
    inNs(router, `iptables -A FORWARD -i ${rtrGwLink} -o ${rtrPubLink} -j ACCEPT`);
    // The publisher's own stateful firewall (its home NAT): replies only.
    inNs(publisher, 'iptables -A INPUT -i lo -j ACCEPT');
    inNs(publisher, 'iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT');
    inNs(publisher, 'iptables -A INPUT -p udp -j DROP');
  } catch (error) {
    destroy();
    throw error;
  }
  return {
    publisher,
    router,
    gateway,
    gatewayInterface: gwLink,
    forward: (protocol, ports) => {
      const to = ports.replace(':', '-');
      inNs(router, `iptables -t nat -A PREROUTING -d ${PUBLIC_IP} -p ${protocol} --dport ${ports} -j DNAT --to-destination ${GATEWAY_IP}:${to}`);
    },
    spawnIn: (ns, command, env) => {
      const child = spawn('ip', ['netns', 'exec', ns, ...command], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      children.push(child);
      return child;
    },
    destroy,
  };
}
