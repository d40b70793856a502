/**
 * Configuration: one declaration per option (app/config.ts OPTIONS) read from a YAML file, the
 * environment and CLI flags, later sources overriding earlier ones; errors that name the key
 * and the problem; `--help` generated from OPTIONS; and config.example.yaml kept complete and
 * equal to the defaults.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { workerCount } from '../../app/workers/worker-role.ts';
import { ConfigError, defaultConfig, helpText, loadConfig, OPTIONS, parseBytes, parseDuration, unknownEnvironment, type GatewayConfig } from '../../app/config.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(REPO_ROOT, 'config.example.yaml');
const dir = mkdtempSync(join(tmpdir(), 'moq-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function yamlFile(text: string): string {
  const file = join(dir, `config-${++fileCount}.yaml`);
  writeFileSync(file, text);
  return file;
}

type Flags = Record<string, string | boolean>;

/** The ConfigError loadConfig throws (fails the test when it does not throw one). */
function configError(args: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(args);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(args)}`);
}

describe('precedence: defaults < file < environment < flags', () => {
  interface Case {
    option: keyof GatewayConfig;
    file: string;
    env: string;
    flag: string | boolean;
    expected: { file: unknown; env: unknown; flag: unknown };
  }
  const cases: Case[] = [
    { option: 'port', file: 'port: 1000', env: '2000', flag: '3000', expected: { file: 1000, env: 2000, flag: 3000 } },
    { option: 'rtmpPort', file: 'rtmp:\n  port: 1936', env: '-1', flag: '1937', expected: { file: 1936, env: -1, flag: 1937 } },
    { option: 'takeover', file: 'ingest:\n  takeover: true', env: 'no', flag: true, expected: { file: true, env: false, flag: true } },
    { option: 'cacheBytes', file: 'relay:\n  cacheBytes: 16MiB', env: '64KiB', flag: '1000', expected: { file: 16 * 1024 * 1024, env: 64 * 1024, flag: 1000 } },
    { option: 'reconnectGrace', file: 'ingest:\n  reconnectGrace: 5s', env: '250ms', flag: '2m', expected: { file: 5000, env: 250, flag: 120_000 } },
    { option: 'clusterTtl', file: 'cluster:\n  ttl: 1500', env: '1.5s', flag: '1h', expected: { file: 1500, env: 1500, flag: 3_600_000 } },
    {
      option: 'authPublicPublish',
      file: 'auth:\n  public:\n    publish: [live, demo/open]',
      env: 'a, b',
      flag: 'c',
      expected: { file: ['live', 'demo/open'], env: ['a', 'b'], flag: ['c'] },
    },
    {
      option: 'authStreamKeys',
      file: 'auth:\n  streamKeys:\n    live/a: key-a',
      env: 'live/b=key-b',
      flag: 'live/c=key-c, live/d=k=v',
      expected: { file: { 'live/a': 'key-a' }, env: { 'live/b': 'key-b' }, flag: { 'live/c': 'key-c', 'live/d': 'k=v' } },
    },
    { option: 'logLevel', file: 'log:\n  level: debug', env: 'warn', flag: 'silent', expected: { file: 'debug', env: 'warn', flag: 'silent' } },
    { option: 'host', file: 'host: 127.0.0.1', env: '::1', flag: 'localhost', expected: { file: '127.0.0.1', env: '::1', flag: 'localhost' } },
  ];

  for (const c of cases) {
    const spec = OPTIONS[c.option];
    it(`${c.option} (${spec.type})`, () => {
      const file = yamlFile(`${c.file}\n`);
      const env = { [spec.env]: c.env };
      const flags: Flags = { [spec.flag]: c.flag };
      expect(loadConfig({})[c.option]).toEqual(spec.default);
      expect(loadConfig({ file })[c.option]).toEqual(c.expected.file);
      expect(loadConfig({ env })[c.option]).toEqual(c.expected.env);
      expect(loadConfig({ flags })[c.option]).toEqual(c.expected.flag);
      expect(loadConfig({ file, env })[c.option]).toEqual(c.expected.env);
      expect(loadConfig({ file, flags })[c.option]).toEqual(c.expected.flag);
      expect(loadConfig({ env, flags })[c.option]).toEqual(c.expected.flag);
      expect(loadConfig({ file, env, flags })[c.option]).toEqual(c.expected.flag);
    });
  }

  it('an empty environment variable is ignored (the file value stays)', () => {
    const file = yamlFile('port: 1000\n');
    expect(loadConfig({ file, env: { MOQ_PORT: '' } }).port).toBe(1000);
  });

  it('sources set different options side by side; the rest keep their defaults', () => {
    const file = yamlFile('port: 1000\nlog:\n  level: debug\n');
    const config = loadConfig({ file, env: { MOQ_RTMP_PORT: '2000', MOQ_TAKEOVER: 'true' }, flags: { 'cache-bytes': '1KiB' } });
    expect(config).toEqual({ ...defaultConfig(), port: 1000, logLevel: 'debug', rtmpPort: 2000, takeover: true, cacheBytes: 1024 });
  });

  it('a file may spell nested keys flat (rtmp.port) and may be empty', () => {
    expect(loadConfig({ file: yamlFile('rtmp.port: 1999\n') }).rtmpPort).toBe(1999);
    expect(loadConfig({ file: yamlFile('# nothing set\n') })).toEqual(defaultConfig());
  });

  it('the environment only reads the declared variables', () => {
    expect(loadConfig({ env: { PORT: '1', MOQ_PORTS: '2', port: '3' } })).toEqual(defaultConfig());
  });
});

describe('validation errors name the key and the problem', () => {
  it('unknown key in the file, at the top level and nested', () => {
    const top = yamlFile('colour: red\n');
    expect(configError({ file: top }).message).toBe(`${top}: unknown option colour`);
    const nested = yamlFile('rtmp:\n  prot: 1935\n');
    expect(configError({ file: nested }).message).toBe(`${nested}: unknown option rtmp.prot`);
    // A section given a scalar is not silently ignored either.
    expect(configError({ file: yamlFile('limits: 5\n') }).message).toMatch(/unknown option limits$/);
    expect(configError({ file: yamlFile('- port\n- 4443\n') }).message).toMatch(/top level must be a mapping/);
  });

  it('bad port numbers, from each source', () => {
    expect(configError({ file: yamlFile('port: 70000\n') }).message).toMatch(/^port: 70000 is not a port number/);
    expect(configError({ flags: { 'rtmp-port': '-2' } }).message).toMatch(/^rtmp\.port: -2 is not a port number .*-1 to disable/);
    expect(configError({ env: { MOQ_PORT: 'http' } }).message).toBe('environment MOQ_PORT: expected an integer (got "http")');
    expect(configError({ flags: { port: '44.3' } }).message).toBe('--port: expected an integer (got "44.3")');
    const file = yamlFile('port: "four"\n');
    expect(configError({ file }).message).toBe(`${file}: port: expected an integer (got "four")`);
  });

  it('bad log level and format', () => {
    expect(configError({ file: yamlFile('log:\n  level: loud\n') }).message).toMatch(/^log\.level: loud is not one of trace, debug, info/);
    expect(configError({ env: { MOQ_LOG_LEVEL: 'verbose' } }).message).toMatch(/^log\.level: verbose/);
    expect(configError({ flags: { 'log-format': 'xml' } }).message).toMatch(/^log\.format: xml is not auto, pretty or json/);
  });

  it('bad sizes', () => {
    const file = yamlFile('relay:\n  cacheBytes: 16 potatoes\n');
    expect(configError({ file }).message).toBe(`${file}: relay.cacheBytes: expected a size like 4096, 64KiB or 16MiB (got "16 potatoes")`);
    expect(configError({ flags: { 'max-group-bytes': '1.5MiB' } }).message).toMatch(/^--max-group-bytes: expected a size/);
    expect(configError({ env: { MOQ_SUBSCRIBER_QUEUE_BYTES: '-1' } }).message).toMatch(/^environment MOQ_SUBSCRIBER_QUEUE_BYTES: expected a size/);
    expect(configError({ file: yamlFile('relay:\n  cacheBytes: -5\n') }).message).toMatch(/relay\.cacheBytes: expected a size .*\(got -5\)/);
  });

  it('bad durations', () => {
    const file = yamlFile('ingest:\n  reconnectGrace: soon\n');
    expect(configError({ file }).message).toBe(`${file}: ingest.reconnectGrace: expected a duration like 500, 500ms, 5s or 2m (got "soon")`);
    expect(configError({ env: { MOQ_CLUSTER_TTL: '-5s' } }).message).toMatch(/^environment MOQ_CLUSTER_TTL: expected a duration/);
    expect(configError({ flags: { 'reconnect-grace': '5 days' } }).message).toMatch(/^--reconnect-grace: expected a duration/);
  });

  it('bad booleans and lists', () => {
    expect(configError({ env: { MOQ_TAKEOVER: 'maybe' } }).message).toBe('environment MOQ_TAKEOVER: expected true or false (got "maybe")');
    expect(configError({ file: yamlFile('ingest:\n  takeover: 2\n') }).message).toMatch(/ingest\.takeover: expected true or false/);
    expect(configError({ file: yamlFile('auth:\n  public:\n    publish: [1, 2]\n') }).message).toMatch(/auth\.public\.publish: expected a list of strings/);
  });

  it('bad map syntax', () => {
    expect(configError({ flags: { 'auth-stream-keys': 'live/a' } }).message).toBe('--auth-stream-keys: expected name=value pairs separated by commas (got "live/a")');
    expect(configError({ env: { MOQ_AUTH_STREAM_KEYS: 'live/a=1,=2' } }).message).toMatch(/^environment MOQ_AUTH_STREAM_KEYS: expected name=value pairs/);
    expect(configError({ file: yamlFile('auth:\n  streamKeys: [live/a, key]\n') }).message).toMatch(/auth\.streamKeys: expected name=value pairs/);
    expect(configError({ file: yamlFile('auth:\n  streamKeys:\n    live/a:\n      nested: x\n') }).message).toMatch(/auth\.streamKeys: expected a mapping of strings/);
  });

  it('YAML syntax errors name the file and the line', () => {
    const file = yamlFile('port: [1, 2\nhost: x\n');
    const message = configError({ file }).message;
    expect(message.startsWith(`${file}: `)).toBe(true);
    expect(message).toMatch(/line 2/);
    expect(configError({ file: yamlFile('port: 1\nport: 2\n') }).message).toMatch(/[Dd]uplicate|unique/);
  });

  it('a missing file names the file', () => {
    const missing = join(dir, 'does-not-exist.yaml');
    expect(configError({ file: missing }).message).toMatch(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`));
  });
});

describe('size and duration syntax', () => {
  it('sizes', () => {
    expect(parseBytes('16MiB')).toBe(16 * 1024 * 1024);
    expect(parseBytes('64kib')).toBe(65_536);
    expect(parseBytes('1GB')).toBe(1e9);
    expect(parseBytes(' 4096 ')).toBe(4096);
    expect(parseBytes(4096)).toBe(4096);
    for (const bad of ['', 'MiB', '1.5MiB', '-1', '10 TiB', 1.5, -1]) expect(parseBytes(bad), String(bad)).toBeUndefined();
  });

  it('durations (milliseconds)', () => {
    expect(parseDuration('500')).toBe(500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration(250)).toBe(250);
    for (const bad of ['', 's', '-5s', '5d', '5 seconds', -1]) expect(parseDuration(bad), String(bad)).toBeUndefined();
  });
});

/** Runs the real CLI (what `npm start` runs) and collects its output. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cli ${args.join(' ')} did not exit within 20 s\n${stdout}\n${stderr}`));
    }, 20_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every option's help line, as the CLI prints it. */
function expectEveryOption(text: string): void {
  expect(text).toContain('--config <file>');
  expect(text).toContain('--help');
  for (const spec of Object.values(OPTIONS)) {
    const line = text.split('\n').find((l) => l.trimStart().startsWith(`--${spec.flag} `) || l.trimStart().startsWith(`--[no-]${spec.flag} `));
    expect(line, `--${spec.flag} in the help`).toBeDefined();
    expect(line).toContain(`[${spec.key} / ${spec.env}]`);
    if (spec.type !== 'bool') expect(line).toMatch(new RegExp(`--${spec.flag} <[^>]+>`));
    // Durations and sizes show their default with a unit, never a bare number.
    if (spec.type === 'duration') expect(line).toMatch(/\(default \d+(ms|s|m)\)/);
    if (spec.type === 'bytes') expect(line).toMatch(/\(default \d+(KiB|MiB|GiB| bytes?)\)/);
  }
}

describe('the command line', () => {
  it('helpText() lists every option with its file key and environment variable', () => {
    expectEveryOption(helpText());
    // Flags are unique (parseArgs would silently merge duplicates), and so are keys and variables.
    const specs = Object.values(OPTIONS);
    for (const field of ['flag', 'key', 'env'] as const) expect(new Set(specs.map((s) => s[field])).size, field).toBe(specs.length);
  });

  it('--help prints every option and exits 0', async () => {
    const { code, stdout, stderr } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout.startsWith('Usage: moq-gateway')).toBe(true);
    expectEveryOption(stdout);
  });

  it('an unknown flag exits 2 with the error and the help on stderr', async () => {
    const { code, stdout, stderr } = await runCli(['--no-such-flag']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Unknown option '--no-such-flag'/);
    expectEveryOption(stderr);
  });

  it('a flag missing its value exits 2', async () => {
    const { code, stderr } = await runCli(['--port']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--port/);
    expect(stderr).toContain('Usage: moq-gateway');
  });

  it('a bad value or config file exits 2 naming the key, before anything listens', async () => {
    const flag = await runCli(['--port', 'abc']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('config error: --port: expected an integer (got "abc")\n');
    const file = yamlFile('relay:\n  cacheBytez: 1MiB\n');
    const fromFile = await runCli(['--config', file]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toBe(`config error: ${file}: unknown option relay.cacheBytez\n`);
    const env = await runCli([], { MOQ_LOG_LEVEL: 'loud' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^config error: log\.level: loud is not one of/);
  });
});

describe('command-line paper cuts', () => {
  it('a negative number is a flag value (--rtmp-port -1 disables RTMP, as documented)', async () => {
    const { code, stdout, stderr } = await runCli(['--rtmp-port', '-1', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--max-frame-bytes', '-5']);
    expect(code).toBe(2);
    // --rtmp-port -1 got past the argument parser; the negative size is refused by name.
    expect(stderr).toBe('config error: --max-frame-bytes: expected a size like 4096, 64KiB or 16MiB (got "-5")\n');
    expect(stdout).toBe('');
  });

  it('--no-<flag> turns a boolean off', () => {
    expect(loadConfig({ flags: { quic: false } }).quic).toBe(false);
  });

  it('limits of 0 that would refuse everything are errors; a reconnect grace of 0 is allowed', () => {
    for (const [flag, key] of [
      ['subscriber-queue-bytes', 'relay.subscriberQueueBytes'],
      ['max-frame-bytes', 'limits.frameBytes'],
      ['max-sessions-per-ip', 'limits.sessionsPerIp'],
      ['handshake-timeout', 'limits.handshakeTimeout'],
      ['idle-timeout', 'limits.idleTimeout'],
    ]) {
      expect(() => loadConfig({ flags: { [flag!]: '0' } }), flag).toThrow(new RegExp(`^${key!.replace('.', '\\.')}: 0 would refuse everything`));
    }
    expect(loadConfig({ flags: { 'reconnect-grace': '0' } }).reconnectGrace).toBe(0);
  });

  it('an unknown MOQ_* variable is reported, known ones are not', () => {
    expect(unknownEnvironment({ MOQ_PORT: '1', MOQ_PROT: '2', MOQ_AUTH_KEYS: 'x', PATH: '/bin' })).toEqual(['MOQ_AUTH_KEYS', 'MOQ_PROT']);
  });

  it('--auth-key-file reads a secret (without its newline) or names a JWK file; not with --auth-key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moq-keyfile-'));
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'a-secret-of-at-least-thirty-two-bytes!!\n');
    expect(loadConfig({ flags: { 'auth-key-file': secret } }).authKey).toBe('a-secret-of-at-least-thirty-two-bytes!!');
    const jwk = join(dir, 'key');
    writeFileSync(jwk, '{"kty":"oct","k":"c2VjcmV0"}');
    expect(loadConfig({ env: { MOQ_AUTH_KEY_FILE: jwk } }).authKey).toBe(`file:${jwk}`);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => loadConfig({ flags: { 'auth-key-file': join(dir, 'empty') } })).toThrow(/is empty/);
    expect(() => loadConfig({ flags: { 'auth-key-file': join(dir, 'missing') } })).toThrow(/cannot read/);
    expect(() => loadConfig({ flags: { 'auth-key-file': secret, 'auth-key': 'x' } })).toThrow(/use one/);
  });
});

describe('config.example.yaml', () => {
  const text = readFileSync(EXAMPLE, 'utf8');

  /** Dotted keys of the leaves of a YAML document (a list or a mapping declared by an option is a leaf). */
  function leafKeys(node: unknown, prefix = '', known = new Set(Object.values(OPTIONS).map((s) => s.key))): string[] {
    if (known.has(prefix)) return [prefix];
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return [prefix];
    return Object.entries(node).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k, known));
  }

  it('loads without error and equals the defaults', () => {
    const config = loadConfig({ file: EXAMPLE, env: {} });
    expect(config).toEqual(defaultConfig());
  });

  it('sets every option exactly once, and nothing else', () => {
    const keys = leafKeys(parseYaml(text));
    expect(keys.sort()).toEqual(Object.values(OPTIONS).map((s) => s.key).sort());
  });

  it('annotates every option with its flag and environment variable', () => {
    for (const spec of Object.values(OPTIONS)) {
      expect(text, spec.key).toContain(`# --${spec.flag} / ${spec.env}`);
    }
  });

  it('environment and flags still apply on top of it', () => {
    expect(loadConfig({ file: EXAMPLE, env: { MOQ_PORT: '0' }, flags: { 'rtmp-port': '-1' } })).toEqual({ ...defaultConfig(), port: 0, rtmpPort: -1 });
  });

  it('starts the real CLI (--config config.example.yaml)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', '--config', EXAMPLE, '--host', '127.0.0.1', '--port', '0', '--rtmp-port', '0', '--log-format', 'json'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no 'listening' within 20 s:\n${output}`)), 20_000);
        const onData = (d: Buffer) => {
          output += d.toString();
          if (/listening/.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
      });
      expect(output).not.toMatch(/config error/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('WebRTC behind NAT (webrtc.*)', () => {
  it('reads the options from the file, the environment and flags', async () => {
    const { whipNatOptions } = await import('../../app/whip-nat-options.ts');
    const file = yamlFile('webrtc:\n  publicIp: gw.example.com\n  udpPort: 8189\n  interfaces: [eth0, 10.0.0.5]\n');
    const fromFile = loadConfig({ file, env: {} });
    expect(whipNatOptions(fromFile)).toEqual({ publicIp: 'gw.example.com', udpPort: 8189, iceHosts: ['eth0', '10.0.0.5'] });
    const fromEnv = loadConfig({ env: { MOQ_WEBRTC_PUBLIC_IP: '203.0.113.10', MOQ_WEBRTC_UDP_PORTS: '40000-40100', MOQ_WEBRTC_INTERFACES: 'eth1' } });
    expect(whipNatOptions(fromEnv)).toEqual({ publicIp: '203.0.113.10', udpPortRange: [40000, 40100], iceHosts: ['eth1'] });
    const fromFlags = loadConfig({ file, env: { MOQ_WEBRTC_UDP_PORT: '9000' }, flags: { 'webrtc-udp-port': '9100', 'webrtc-public-ip': '198.51.100.1' } });
    expect(whipNatOptions(fromFlags)).toMatchObject({ publicIp: '198.51.100.1', udpPort: 9100 });
    expect(whipNatOptions(defaultConfig())).toEqual({});
  });

  it('refuses bad values, naming the key', () => {
    expect(configError({ flags: { 'webrtc-udp-ports': '5000' } }).message).toMatch(/webrtc\.udpPorts.*40000-40100/);
    expect(configError({ flags: { 'webrtc-udp-ports': '5000-5000' } }).message).toMatch(/webrtc\.udpPorts/);
    expect(configError({ flags: { 'webrtc-udp-ports': '0-10' } }).message).toMatch(/webrtc\.udpPorts/);
    expect(configError({ flags: { 'webrtc-udp-port': '70000' } }).message).toMatch(/webrtc\.udpPort: 70000/);
    expect(configError({ env: { MOQ_WEBRTC_UDP_PORT: 'x' } }).message).toMatch(/MOQ_WEBRTC_UDP_PORT/);
    expect(configError({ flags: { 'webrtc-public-ip': '2001:db8::1' } }).message).toMatch(/webrtc\.publicIp: expected an IPv4 address or a host name/);
    expect(configError({ flags: { 'webrtc-public-ip': 'not a host' } }).message).toMatch(/webrtc\.publicIp/);
  });

  it('a public host name that does not resolve stops the gateway at start, saying so', async () => {
    const { code, stdout } = await runCli(['--webrtc-public-ip', 'no-such-host.invalid', '--port', '0', '--rtmp-port', '-1', '--no-quic', '--host', '127.0.0.1', '--log-format', 'json']);
    expect(code).not.toBe(0);
    expect(stdout).toMatch(/WebRTC public address no-such-host\.invalid does not resolve/);
  });

  it('--help documents them', () => {
    const help = helpText();
    for (const flag of ['--webrtc-public-ip', '--webrtc-udp-port', '--webrtc-udp-ports', '--webrtc-interfaces']) expect(help).toContain(flag);
  });
});

describe('workers', () => {
  it('defaults to one per core, and to one process with a shared WHIP ICE port or recording', () => {
    expect(workerCount(loadConfig({}))).toBe(availableParallelism());
    expect(workerCount(loadConfig({ flags: { workers: '3' } }))).toBe(3);
    expect(workerCount(loadConfig({ flags: { 'webrtc-udp-port': '40000' } }))).toBe(1);
    expect(workerCount(loadConfig({ flags: { record: 'all' } }))).toBe(1);
  });

  it('refuses more than one worker with what needs a single process', () => {
    expect(() => loadConfig({ flags: { workers: '2', 'webrtc-udp-port': '40000' } })).toThrow(/one shared ICE port needs a single process/);
    expect(() => loadConfig({ flags: { workers: '2', record: 'live' } })).toThrow(/recording needs a single process/);
  });
});
