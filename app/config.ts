import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';

/**
 * Every option, once: its config-file key, CLI flag, environment variable, type, default and
 * help text. Sources apply in order file → environment → flags, later overriding earlier.
 */
interface OptionSpec<T> {
  key: string;
  flag: string;
  env: string;
  type: 'string' | 'int' | 'bool' | 'bytes' | 'duration' | 'list' | 'map';
  default: T;
  help: string;
  /** Smallest accepted value of a number option (a limit of 0 would refuse everything). */
  min?: number;
}

const opt = <T>(spec: OptionSpec<T>): OptionSpec<T> => spec;

export const OPTIONS = {
  host: opt({ key: 'host', flag: 'host', env: 'MOQ_HOST', type: 'string', default: '0.0.0.0', help: 'Address to listen on (HTTP, WebSocket, QUIC, RTMP)' }),
  port: opt({ key: 'port', flag: 'port', env: 'MOQ_PORT', type: 'int', default: 4443, help: 'HTTP + WebSocket on TCP, WebTransport + QUIC on UDP (same number)' }),
  rtmpPort: opt({ key: 'rtmp.port', flag: 'rtmp-port', env: 'MOQ_RTMP_PORT', type: 'int', default: 1935, help: 'RTMP ingest port (TCP); -1 disables RTMP' }),
  workers: opt({ key: 'workers', flag: 'workers', env: 'MOQ_WORKERS', type: 'int', default: 0, help: 'Gateway processes sharing the ports (SO_REUSEPORT); 0 (default) = one per core (os.availableParallelism()); 1 = a single process, no supervisor' }),
  quic: opt({ key: 'quic.enabled', flag: 'quic', env: 'MOQ_QUIC', type: 'bool', default: true, help: 'Serve WebTransport (HTTP/3) and raw QUIC on UDP --port (--no-quic or MOQ_QUIC=false turns it off)' }),
  tlsCert: opt({ key: 'tls.cert', flag: 'tls-cert', env: 'MOQ_TLS_CERT', type: 'string', default: '', help: 'Certificate chain (PEM) for HTTPS/WSS and QUIC; empty = dev mode: a self-signed ECDSA certificate, renewed, its hash at /certificate.sha256' }),
  tlsKey: opt({ key: 'tls.key', flag: 'tls-key', env: 'MOQ_TLS_KEY', type: 'string', default: '', help: 'Private key (PEM) for --tls-cert' }),
  rtmpsPort: opt({ key: 'rtmp.tlsPort', flag: 'rtmps-port', env: 'MOQ_RTMPS_PORT', type: 'int', default: 1936, help: 'RTMPS ingest port (TCP), served when --tls-cert is set; -1 disables' }),
  logLevel: opt({ key: 'log.level', flag: 'log-level', env: 'MOQ_LOG_LEVEL', type: 'string', default: 'info', help: 'trace, debug, info, warn, error, fatal or silent' }),
  logFormat: opt({ key: 'log.format', flag: 'log-format', env: 'MOQ_LOG_FORMAT', type: 'string', default: 'auto', help: 'auto (pretty on a terminal, JSON otherwise), pretty or json' }),
  record: opt({ key: 'record.broadcasts', flag: 'record', env: 'MOQ_RECORD', type: 'list', default: [] as string[], help: 'Record these broadcasts to --record-dir as CMAF fMP4: comma-separated path prefixes, or all' }),
  recordDir: opt({ key: 'record.dir', flag: 'record-dir', env: 'MOQ_RECORD_DIR', type: 'string', default: './recordings', help: 'Directory recordings are written to (one subdirectory per recording, an index beside the segments)' }),
  reconnectGrace: opt({ key: 'ingest.reconnectGrace', flag: 'reconnect-grace', env: 'MOQ_RECONNECT_GRACE', type: 'duration', default: 5000, help: 'How long a broadcast waits for its encoder to reconnect (ms, or 5s)' }),
  takeover: opt({ key: 'ingest.takeover', flag: 'takeover', env: 'MOQ_TAKEOVER', type: 'bool', default: false, help: 'A second publisher to a live name replaces the first instead of being refused' }),
  cacheBytes: opt({ key: 'relay.cacheBytes', flag: 'cache-bytes', env: 'MOQ_CACHE_BYTES', type: 'bytes', default: 16 * 1024 * 1024, help: 'Per-track cache of the current and previous group (bytes, or 16MiB)', min: 1 }),
  maxGroupBytes: opt({ key: 'relay.maxGroupBytes', flag: 'max-group-bytes', env: 'MOQ_MAX_GROUP_BYTES', type: 'bytes', default: 32 * 1024 * 1024, help: 'Largest group (GOP) held; a larger one is dropped until the next keyframe', min: 1 }),
  authKey: opt({ key: 'auth.key', flag: 'auth-key', env: 'MOQ_AUTH_KEY', type: 'string', default: '', help: 'Turns authentication on: an HS256 secret (>= 32 bytes), or a JWK / JWK Set file (HS256, ES256)' }),
  authKeyFile: opt({ key: 'auth.keyFile', flag: 'auth-key-file', env: 'MOQ_AUTH_KEY_FILE', type: 'string', default: '', help: 'Like --auth-key, read from a file (an HS256 secret, or a JWK / JWK Set), so the secret is on no command line' }),
  authPublicPublish: opt({ key: 'auth.public.publish', flag: 'auth-public-publish', env: 'MOQ_AUTH_PUBLIC_PUBLISH', type: 'list', default: [] as string[], help: 'Path prefixes anyone may publish without a token (comma-separated)' }),
  authPublicSubscribe: opt({ key: 'auth.public.subscribe', flag: 'auth-public-subscribe', env: 'MOQ_AUTH_PUBLIC_SUBSCRIBE', type: 'list', default: [] as string[], help: 'Path prefixes anyone may watch without a token (comma-separated)' }),
  authStreamKeys: opt({ key: 'auth.streamKeys', flag: 'auth-stream-keys', env: 'MOQ_AUTH_STREAM_KEYS', type: 'map', default: {} as Record<string, string>, help: 'Static RTMP/WHIP stream keys: broadcast=key pairs (comma-separated; a mapping in the file)' }),
  clusterRedis: opt({ key: 'cluster.redis', flag: 'cluster-redis', env: 'MOQ_CLUSTER_REDIS', type: 'string', default: '', help: 'Redis URL joining this node to a cluster (redis://host:6379); empty = standalone' }),
  nodeId: opt({ key: 'cluster.nodeId', flag: 'node-id', env: 'MOQ_NODE_ID', type: 'string', default: '', help: "This node's id, unique in the cluster; empty = <hostname>:<port>" }),
  advertiseUrl: opt({ key: 'cluster.advertiseUrl', flag: 'advertise-url', env: 'MOQ_ADVERTISE_URL', type: 'string', default: '', help: 'MoQ URL other nodes reach this node at; empty = http://<hostname>:<port>/' }),
  clusterTtl: opt({ key: 'cluster.ttl', flag: 'cluster-ttl', env: 'MOQ_CLUSTER_TTL', type: 'duration', default: 10000, help: "How long a crashed node's broadcasts stay registered (heartbeat every third)" }),
  sessionsPerIp: opt({ key: 'limits.sessionsPerIp', flag: 'max-sessions-per-ip', env: 'MOQ_MAX_SESSIONS_PER_IP', type: 'int', default: 100, help: 'Open sessions (MoQ, RTMP publish, WHIP) one address may hold', min: 1 }),
  maxBroadcasts: opt({ key: 'limits.broadcasts', flag: 'max-broadcasts', env: 'MOQ_MAX_BROADCASTS', type: 'int', default: 1000, help: 'Live broadcasts this node accepts', min: 1 }),
  maxTracksPerBroadcast: opt({ key: 'limits.tracksPerBroadcast', flag: 'max-tracks-per-broadcast', env: 'MOQ_MAX_TRACKS_PER_BROADCAST', type: 'int', default: 32, help: 'Tracks one broadcast may hold', min: 1 }),
  maxFrameBytes: opt({ key: 'limits.frameBytes', flag: 'max-frame-bytes', env: 'MOQ_MAX_FRAME_BYTES', type: 'bytes', default: 16 * 1024 * 1024, help: 'Largest frame / RTMP message / MoQ object accepted', min: 1 }),
  maxControlMessageBytes: opt({ key: 'limits.controlMessageBytes', flag: 'max-control-message-bytes', env: 'MOQ_MAX_CONTROL_MESSAGE_BYTES', type: 'bytes', default: 64 * 1024, help: 'Largest MoQ control message accepted', min: 1 }),
  handshakeTimeout: opt({ key: 'limits.handshakeTimeout', flag: 'handshake-timeout', env: 'MOQ_HANDSHAKE_TIMEOUT', type: 'duration', default: 10_000, help: 'Time a client has to complete its handshake (RTMP, MoQ SETUP, WHIP ICE, HTTP headers)', min: 1 }),
  idleTimeout: opt({ key: 'limits.idleTimeout', flag: 'idle-timeout', env: 'MOQ_IDLE_TIMEOUT', type: 'duration', default: 30_000, help: 'An RTMP publisher silent this long is disconnected', min: 1 }),
  maxHttpBodyBytes: opt({ key: 'limits.httpBodyBytes', flag: 'max-http-body-bytes', env: 'MOQ_MAX_HTTP_BODY_BYTES', type: 'bytes', default: 64 * 1024, help: 'Largest HTTP request body (WHIP offers, API)', min: 1 }),
  metricsToken: opt({ key: 'metrics.token', flag: 'metrics-token', env: 'MOQ_METRICS_TOKEN', type: 'string', default: '', help: 'Require `Authorization: Bearer <token>` on /metrics; empty = open (put it behind --metrics-listen or a firewall)' }),
  metricsListen: opt({ key: 'metrics.listen', flag: 'metrics-listen', env: 'MOQ_METRICS_LISTEN', type: 'string', default: '', help: 'Serve /metrics only on this separate host:port (e.g. 127.0.0.1:9090), not on --port; empty = on --port' }),
  viewerStallTimeout: opt({ key: 'relay.viewerStallTimeout', flag: 'viewer-stall-timeout', env: 'MOQ_VIEWER_STALL_TIMEOUT', type: 'duration', default: 30_000, help: 'A MoQ subscriber that takes no bytes this long (bytes waiting) is closed', min: 1 }),
  subscriberQueueBytes: opt({ key: 'relay.subscriberQueueBytes', flag: 'subscriber-queue-bytes', env: 'MOQ_SUBSCRIBER_QUEUE_BYTES', type: 'bytes', default: 4 * 1024 * 1024, help: 'Bytes queued per subscriber before it loses old groups', min: 1 }),
  // WebRTC (WHIP ingest) behind NAT / on a cloud VM: what the answer announces and where ICE listens.
  webrtcPublicIp: opt({ key: 'webrtc.publicIp', flag: 'webrtc-public-ip', env: 'MOQ_WEBRTC_PUBLIC_IP', type: 'string', default: '', help: 'Public IPv4 address or host name (resolved at start) WHIP clients reach this node at through NAT: announced in the answer beside the host candidates; empty = host candidates only' }),
  webrtcUdpPort: opt({ key: 'webrtc.udpPort', flag: 'webrtc-udp-port', env: 'MOQ_WEBRTC_UDP_PORT', type: 'int', default: 0, help: 'One UDP port for the ICE of every WHIP session (IPv4), told apart by ICE ufrag; forward just this port through the NAT. 0 = off: a port per session' }),
  webrtcUdpPorts: opt({ key: 'webrtc.udpPorts', flag: 'webrtc-udp-ports', env: 'MOQ_WEBRTC_UDP_PORTS', type: 'string', default: '', help: 'UDP port range A-B for per-session ICE sockets (IPv6 too when --webrtc-udp-port is set); empty = any free port' }),
  webrtcInterfaces: opt({ key: 'webrtc.interfaces', flag: 'webrtc-interfaces', env: 'MOQ_WEBRTC_INTERFACES', type: 'list', default: [] as string[], help: 'Addresses or interface names (eth0) to offer WHIP host candidates on (comma-separated); empty = loopback and every interface' }),
} as const;

type OptionKey = keyof typeof OPTIONS;
export type GatewayConfig = { [K in OptionKey]: (typeof OPTIONS)[K]['default'] };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function defaultConfig(): GatewayConfig {
  const config = {} as Record<string, unknown>;
  for (const [name, spec] of Object.entries(OPTIONS)) config[name] = spec.default;
  return config as GatewayConfig;
}

/** Build the config from a YAML file (optional), the environment and CLI flags. */
export function loadConfig(args: { file?: string; env?: NodeJS.ProcessEnv; flags?: Record<string, string | boolean> }): GatewayConfig {
  const config = defaultConfig() as Record<string, unknown>;
  if (args.file) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(args.file, 'utf8'));
    } catch (error) {
      throw new ConfigError(`${args.file}: ${(error as Error).message}`);
    }
    applyFile(config, doc ?? {}, args.file);
  }
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const raw = args.env?.[spec.env];
    if (raw !== undefined && raw !== '') config[name] = coerce(spec, raw, `environment ${spec.env}`);
  }
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const raw = args.flags?.[spec.flag];
    if (raw !== undefined) config[name] = coerce(spec, raw, `--${spec.flag}`);
  }
  validate(config as GatewayConfig);
  if (config.authKeyFile) config.authKey = authKeyFromFile(config.authKeyFile as string);
  return config as GatewayConfig;
}

/** MOQ_* variables that name no option: a typo that would otherwise go unnoticed. */
export function unknownEnvironment(env: NodeJS.ProcessEnv): string[] {
  const known = new Set(Object.values(OPTIONS).map((spec) => spec.env));
  return Object.keys(env).filter((name) => name.startsWith('MOQ_') && !known.has(name)).sort();
}

/**
 * --auth-key-file: the key the file holds, in --auth-key's terms. A JWK / JWK Set (JSON, or
 * base64url as moq-token writes it, or a *.jwk / *.json name) is read as a key file; anything
 * else is the HS256 secret itself, without its trailing newline.
 */
function authKeyFromFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`auth.keyFile: cannot read ${path}: ${(error as Error).message}`);
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new ConfigError(`auth.keyFile: ${path} is empty`);
  if (trimmed.startsWith('{') || /\.(jwk|json)$/i.test(path)) return `file:${path}`;
  return trimmed;
}

function applyFile(config: Record<string, unknown>, doc: unknown, file: string): void {
  const known = new Map(Object.entries(OPTIONS).map(([name, spec]) => [spec.key, [name, spec] as const]));
  const walk = (node: unknown, prefix: string) => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) {
      throw new ConfigError(`${file}: ${prefix || 'top level'} must be a mapping`);
    }
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      const entry = known.get(key);
      if (entry) config[entry[0]] = coerce(entry[1], v, `${file}: ${key}`);
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) walk(v, key);
      else throw new ConfigError(`${file}: unknown option ${key}`);
    }
  };
  walk(doc, '');
}

function coerce(spec: OptionSpec<unknown>, raw: unknown, where: string): unknown {
  const fail = (what: string): never => {
    throw new ConfigError(`${where}: ${what} (got ${JSON.stringify(raw)})`);
  };
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number') fail('expected a string');
      return String(raw);
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isInteger(n)) fail('expected an integer');
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      return fail('expected true or false');
    case 'bytes':
      return parseBytes(raw) ?? fail('expected a size like 4096, 64KiB or 16MiB');
    case 'duration':
      return parseDuration(raw) ?? fail('expected a duration like 500, 500ms, 5s or 2m');
    case 'list':
      if (Array.isArray(raw) && raw.every((v) => typeof v === 'string')) return raw;
      if (typeof raw === 'string') return raw.split(',').map((v) => v.trim()).filter((v) => v !== '' || raw.trim() === '');
      return fail('expected a list of strings');
    case 'map': {
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
        const entries = Object.entries(raw);
        if (entries.every(([, v]) => typeof v === 'string')) return Object.fromEntries(entries);
        return fail('expected a mapping of strings');
      }
      if (typeof raw !== 'string') return fail('expected name=value pairs');
      const map: Record<string, string> = {};
      for (const pair of raw.split(',').filter((p) => p.trim() !== '')) {
        const at = pair.indexOf('=');
        if (at <= 0) return fail('expected name=value pairs separated by commas');
        map[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
      }
      return map;
    }
  }
}

export function parseBytes(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) && raw >= 0 ? raw : undefined;
  const m = /^\s*(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(String(raw));
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  const scale: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1 << 20, gb: 1e9, gib: 1 << 30 };
  return Number(m[1]) * scale[unit]!;
}

export function parseDuration(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw >= 0 ? raw : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(String(raw));
  if (!m) return undefined;
  const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return Math.round(Number(m[1]) * scale[m[2] ?? 'ms']!);
}

function validate(config: GatewayConfig): void {
  const port = (name: string, value: number, allowDisabled: boolean) => {
    if ((allowDisabled && value === -1) || (value >= 0 && value <= 65535)) return;
    throw new ConfigError(`${name}: ${value} is not a port number (0–65535${allowDisabled ? ', or -1 to disable' : ''})`);
  };
  port('port', config.port, false);
  port('rtmp.port', config.rtmpPort, true);
  port('rtmp.tlsPort', config.rtmpsPort, true);
  if (config.metricsListen !== '') {
    const listen = parseHostPort(config.metricsListen);
    if (!listen) throw new ConfigError(`metrics.listen: expected host:port like 127.0.0.1:9090 or [::1]:9090 (got ${JSON.stringify(config.metricsListen)})`);
    port('metrics.listen', listen.port, false);
  }
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec<unknown>][]) {
    const value = (config as Record<string, unknown>)[name];
    if (typeof value !== 'number' || name === 'rtmpPort' || name === 'rtmpsPort') continue;
    if (value < 0) throw new ConfigError(`${spec.key}: ${value} must not be negative`);
    if (spec.min !== undefined && value < spec.min) throw new ConfigError(`${spec.key}: ${value} would refuse everything; the smallest useful value is ${formatValue(spec, spec.min)}`);
  }
  if (config.authKey !== '' && config.authKeyFile !== '') throw new ConfigError('auth.key and auth.keyFile both set: use one');
  if ((config.tlsCert === '') !== (config.tlsKey === '')) throw new ConfigError('tls.cert and tls.key go together: set both or neither');
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
  if (!levels.includes(config.logLevel)) throw new ConfigError(`log.level: ${config.logLevel} is not one of ${levels.join(', ')}`);
  if (!['auto', 'pretty', 'json'].includes(config.logFormat)) throw new ConfigError(`log.format: ${config.logFormat} is not auto, pretty or json`);
  validateWebrtc(config);
  // One ICE port demultiplexed by ufrag cannot be split between processes: the offer's worker must get its packets.
  if (config.workers > 1 && config.webrtcUdpPort !== 0) throw new ConfigError(`workers: ${config.workers} with webrtc.udpPort: one shared ICE port needs a single process (--workers 1)`);
  // Each process rebuilds the recordings index of --record-dir at start (ending what it finds open).
  if (config.workers > 1 && config.record.length > 0) throw new ConfigError(`workers: ${config.workers} with record: recording needs a single process for now (--workers 1)`);
}

// --- WebRTC behind NAT (webrtc.*) ---

function validateWebrtc(config: GatewayConfig): void {
  if (config.webrtcUdpPort > 65535) throw new ConfigError(`webrtc.udpPort: ${config.webrtcUdpPort} is not a port number (1–65535, or 0 for a port per session)`);
  if (config.webrtcUdpPorts !== '') parseUdpPortRange(config.webrtcUdpPorts);
  const ip = config.webrtcPublicIp;
  if (ip !== '' && (isIP(ip) === 6 || (isIP(ip) === 0 && !/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(ip)))) {
    throw new ConfigError(`webrtc.publicIp: expected an IPv4 address or a host name (got ${JSON.stringify(ip)})`);
  }
  if (config.webrtcInterfaces.some((entry) => entry === '')) throw new ConfigError('webrtc.interfaces: empty entry');
}

/** `webrtc.udpPorts` (`40000-40100`) as werift's inclusive [min, max], min < max. */
export function parseUdpPortRange(text: string): [number, number] {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  const [min, max] = m ? [Number(m[1]), Number(m[2])] : [Number.NaN, Number.NaN];
  if (!(min >= 1 && min < max && max <= 65535)) throw new ConfigError(`webrtc.udpPorts: expected a range like 40000-40100 with 1 <= A < B <= 65535 (got ${JSON.stringify(text)})`);
  return [min, max];
}

const VALUE_HINT: Record<OptionSpec<unknown>['type'], string> = {
  string: '<text>',
  int: '<n>',
  bool: '',
  bytes: '<size>',
  duration: '<duration>',
  list: '<a,b,...>',
  map: '<name=value,...>',
};

/** A value as a person would write it back: 10s rather than 10000, 4MiB rather than 4194304. */
function formatValue(spec: OptionSpec<unknown>, value: unknown): string {
  if (typeof value === 'number' && spec.type === 'duration') {
    if (value >= 60_000 && value % 60_000 === 0) return `${value / 60_000}m`;
    if (value >= 1000 && value % 1000 === 0) return `${value / 1000}s`;
    return `${value}ms`;
  }
  if (typeof value === 'number' && spec.type === 'bytes') {
    for (const [unit, scale] of [['GiB', 1 << 30], ['MiB', 1 << 20], ['KiB', 1024]] as const) if (value >= scale && value % scale === 0) return `${value / scale}${unit}`;
    return `${value} byte${value === 1 ? '' : 's'}`;
  }
  return JSON.stringify(value);
}

/** `--help` text, generated from OPTIONS so it lists every option. */
export function helpText(): string {
  const lines = [
    'Usage: moq-gateway [options]',
    '       moq-gateway token [token options]   (see moq-gateway token --help)',
    '',
    'Options (config file key / environment variable in brackets):',
    '  --config <file>                 YAML config file',
    '  --help                          Show this help',
  ];
  for (const spec of Object.values(OPTIONS) as OptionSpec<unknown>[]) {
    const flag = spec.type === 'bool' ? `--[no-]${spec.flag}` : `--${spec.flag} ${VALUE_HINT[spec.type]}`;
    lines.push(`  ${flag.padEnd(31)} ${spec.help} (default ${formatValue(spec, spec.default)}) [${spec.key} / ${spec.env}]`);
  }
  lines.push('', 'Durations: a bare number is milliseconds; or 500ms, 10s, 2m, 1h. Sizes: a bare number is bytes; or 64KiB, 16MiB, 1GiB (KB/MB/GB are powers of 1000).');
  return lines.join('\n');
}

/** `127.0.0.1:9090`, `[::1]:9090` or `:9090` (all interfaces). */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port: Number(match[3]) };
}
