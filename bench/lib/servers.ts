/**
 * The servers under test, each a tracked child process on 127.0.0.1 with temp dirs:
 * - the gateway (`node --import tsx app/cli.ts`, what `npm start` runs; optionally --cpu-prof),
 * - node-media-server 4.x (its own bin/app.js, RTMP only),
 * - nginx with libnginx-mod-rtmp (RTMP in, HLS out, served by nginx's own HTTP server).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { pinned } from './pin.ts';
import { collectOutput, freePort, sleep, track, waitFor, type Tracked } from './proc.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  name: string;
  proc: Tracked;
  pid: number;
  /** Extra pids whose CPU counts for this server (nginx workers). */
  pids(): number[];
  logs(): string[];
  stop(): Promise<void>;
}

export interface GatewayServer extends ServerProcess {
  httpPort: number;
  rtmpPort: number;
  httpUrl: string;
  rtmpUrl(broadcast: string): string;
}

/** `pid` and all its descendants (a multi-worker server's processes), from /proc. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of readdirSafe(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // gone
    }
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface GatewayStartOptions {
  cpuProfDir?: string;
  args?: string[];
  nodeArgs?: string[];
  /** taskset CPU list. */
  cpus?: string;
}

export async function startGatewayServer(opts: GatewayStartOptions = {}): Promise<GatewayServer> {
  const httpPort = await freePort({ udp: true });
  const rtmpPort = await freePort();
  const nodeArgs = [...(opts.nodeArgs ?? [])];
  if (opts.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  const args = [...nodeArgs, '--import', 'tsx', 'app/cli.ts', '--host', '127.0.0.1', '--port', String(httpPort), '--rtmp-port', String(rtmpPort), '--log-format', 'json', '--log-level', 'warn', ...(opts.args?.includes('--workers') ? [] : ['--workers', '1']), ...(opts.args ?? [])];
  const proc = track(...pinned(opts.cpus, process.execPath, args), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = collectOutput(proc.child);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  try {
    await Promise.race([
      waitFor(() => fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false), 'gateway /healthz', 30_000),
      proc.exited.then((code) => {
        throw new Error(`gateway exited with ${code}`);
      }),
    ]);
    await waitFor(() => tcpOpen(rtmpPort), 'gateway RTMP port', 10_000);
  } catch (error) {
    await proc.stop();
    throw new Error(`${(error as Error).message}\n${logs().slice(-20).join('\n')}`);
  }
  return {
    name: 'moq-gateway',
    proc,
    pid: proc.pid,
    pids: () => processTree(proc.pid),
    logs,
    stop: () => proc.stop(6000),
    httpPort,
    rtmpPort,
    httpUrl,
    rtmpUrl: (broadcast) => `rtmp://127.0.0.1:${rtmpPort}/${broadcast}`,
  };
}

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RtmpServer extends ServerProcess {
  rtmpPort: number;
  rtmpUrl(broadcast: string): string;
}

/** node-media-server 4.x from node_modules, RTMP only, on a temp config and data dir. */
export async function startNodeMediaServer(opts: { cpus?: string } = {}): Promise<RtmpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nms-'));
  const rtmpPort = await freePort();
  const config = {
    bind: '127.0.0.1',
    notify: { url: '' },
    store: { path: join(dir, 'data'), maxHistory: 100 },
    auth: { play: false, publish: false, secret: 'bench-secret-not-used', jwt: { secret: 'bench-jwt-secret-not-used-0123456789abcdef', expiresIn: '24h', refreshExpiresIn: '7d', algorithm: 'HS256', users: [] } },
    rtmp: { port: rtmpPort },
    webadmin: { enable: false },
    record: { auto: false, path: join(dir, 'record') },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const app = join(REPO_ROOT, 'node_modules/node-media-server/bin/app.js');
  const proc = track(...pinned(opts.cpus, process.execPath, [app, '-c', configPath, '--no-admin']), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = collectOutput(proc.child);
  try {
    await Promise.race([
      waitFor(() => tcpOpen(rtmpPort), 'node-media-server RTMP port', 20_000),
      proc.exited.then((code) => {
        throw new Error(`node-media-server exited with ${code}`);
      }),
    ]);
  } catch (error) {
    await proc.stop();
    throw new Error(`${(error as Error).message}\n${logs().slice(-20).join('\n')}`);
  }
  return {
    name: `node-media-server ${nmsVersion()}`,
    proc,
    pid: proc.pid,
    pids: () => [proc.pid],
    logs,
    stop: async () => {
      await proc.stop(3000);
      rmSync(dir, { recursive: true, force: true });
    },
    rtmpPort,
    rtmpUrl: (broadcast) => `rtmp://127.0.0.1:${rtmpPort}/${broadcast}`,
  };
}

function nmsVersion(): string {
  try {
    return (JSON.parse(spawnSync(process.execPath, ['-p', 'JSON.stringify(require("node-media-server/package.json"))'], { cwd: REPO_ROOT }).stdout.toString()) as { version: string }).version;
  } catch {
    return '4.x';
  }
}

export interface NginxServer extends RtmpServer {
  httpPort: number;
  /** `http://127.0.0.1:<port>/hls/<stream>.m3u8` for `rtmp://.../live/<stream>`. */
  hlsUrl(stream: string): string;
  version: string;
}

const NGINX_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export function nginxAvailable(): boolean {
  return existsSync('/usr/sbin/nginx') && existsSync(NGINX_MODULE);
}

/** nginx + nginx-rtmp in one process (master_process off), HLS with 1 s fragments into a temp dir. */
export async function startNginx(opts: { fragmentS?: number } = {}): Promise<NginxServer> {
  if (!nginxAvailable()) throw new Error('nginx or libnginx-mod-rtmp missing (run bench/setup.sh)');
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  mkdirSync(join(dir, 'hls'));
  mkdirSync(join(dir, 'logs'));
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const conf = `
load_module ${NGINX_MODULE};
daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/logs/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      hls on;
      hls_path ${dir}/hls;
      hls_fragment ${opts.fragmentS ?? 1}s;
      hls_playlist_length 10s;
      hls_cleanup on;
    }
  }
}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server {
    listen 127.0.0.1:${httpPort};
    location /hls/ { alias ${dir}/hls/; add_header Cache-Control no-cache; }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const proc = track('/usr/sbin/nginx', ['-c', confPath, '-p', dir, '-e', `${dir}/logs/error.log`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = collectOutput(proc.child);
  try {
    await Promise.race([
      waitFor(async () => (await tcpOpen(rtmpPort)) && (await tcpOpen(httpPort)), 'nginx ports', 10_000),
      proc.exited.then((code) => {
        throw new Error(`nginx exited with ${code}`);
      }),
    ]);
  } catch (error) {
    await proc.stop();
    throw new Error(`${(error as Error).message}\n${logs().slice(-20).join('\n')}`);
  }
  const version = spawnSync('/usr/sbin/nginx', ['-v']).stderr.toString().trim().replace('nginx version: ', '');
  return {
    name: `${version} + nginx-rtmp`,
    version,
    proc,
    pid: proc.pid,
    pids: () => [proc.pid],
    logs,
    stop: async () => {
      // SIGQUIT is nginx's graceful stop; SIGTERM (what stop() sends) is its fast stop.
      await proc.stop(3000);
      await sleep(50);
      rmSync(dir, { recursive: true, force: true });
    },
    rtmpPort,
    httpPort,
    rtmpUrl: (broadcast) => `rtmp://127.0.0.1:${rtmpPort}/${broadcast}`,
    hlsUrl: (stream) => `http://127.0.0.1:${httpPort}/hls/${stream}.m3u8`,
  };
}

export interface BareWsServer extends ServerProcess {
  port: number;
  /** Where the publisher sends frames. */
  publishUrl: string;
  /** Where viewers connect. */
  viewUrl: string;
}

/** The bare `ws` broadcast baseline (baselines/bare-ws.ts). */
export async function startBareWsServer(opts: { cpus?: string } = {}): Promise<BareWsServer> {
  const port = await freePort();
  const script = fileURLToPath(new URL('../baselines/bare-ws.ts', import.meta.url));
  const proc = track(...pinned(opts.cpus, process.execPath, ['--import', 'tsx', script, '--port', String(port)]), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = collectOutput(proc.child);
  try {
    await Promise.race([
      waitFor(() => tcpOpen(port), 'bare-ws port', 20_000),
      proc.exited.then((code) => {
        throw new Error(`bare-ws exited with ${code}`);
      }),
    ]);
  } catch (error) {
    await proc.stop();
    throw new Error(`${(error as Error).message}\n${logs().slice(-20).join('\n')}`);
  }
  return {
    name: 'bare ws broadcast',
    proc,
    pid: proc.pid,
    pids: () => [proc.pid],
    logs,
    stop: () => proc.stop(3000),
    port,
    publishUrl: `ws://127.0.0.1:${port}/publish`,
    viewUrl: `ws://127.0.0.1:${port}/`,
  };
}
