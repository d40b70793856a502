import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatTopology, GATEWAY_IP, PUBLIC_IP, type NatTopology } from '../helpers/netns.ts';
import { CHROMIUM_PATH } from '../helpers/browser.ts';
import { haveTools } from '../helpers/tools.ts';
import type { PublishResult } from '../helpers/werift-whip-publisher.ts';

/**
 * WHIP behind NAT, in network namespaces this test creates (see test/helpers/netns.ts): the
 * gateway sits on a private network behind a router that forwards one TCP port (HTTP) and one
 * UDP port (ICE) of its public address; a werift publisher on the other side can reach it only
 * there. With --webrtc-public-ip and --webrtc-udp-port the answer announces that address and
 * port, ICE and DTLS complete through the NAT and frames reach the relay; without the public
 * address the same publisher cannot connect. Also with a UDP port range instead of the shared
 * port, and with Chromium (fake camera and microphone, the gateway's /publish page) as publisher.
 */

const HTTP_PORT = 8443;
const UDP_PORT = 40000;
const UDP_RANGE = [40100, 40110] as const;
const PACKETS = 50;

function runnable(): boolean {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  if (process.getuid?.() !== 0) {
    if (ci) throw new Error('whip-nat.test.ts needs root (network namespaces, iptables)');
    console.warn('skipping: whip-nat.test.ts needs root');
    return false;
  }
  return haveTools('ip', 'iptables');
}

const lines = (child: ChildProcess): string[] => {
  const out: string[] = [];
  let partial = '';
  const take = (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    out.push(...parts);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return out;
};

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, log: () => string[]): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms\n${log().slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The answer's distinct UDP candidates (each bundled m-line repeats them) as `type address:port`. */
const candidates = (sdp: string) => [...new Set([...sdp.matchAll(/^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ (\S+)/gim)].map((m) => `${m[3]} ${m[1]}:${m[2]}`))].sort();

describe.runIf(runnable())('WHIP behind NAT (network namespaces)', () => {
  let net: NatTopology;

  beforeAll(() => {
    net = createNatTopology();
    net.forward('tcp', String(HTTP_PORT));
    net.forward('udp', String(UDP_PORT));
    net.forward('udp', UDP_RANGE.join(':'));
  });
  afterAll(() => net?.destroy());

  /** The real gateway (what `npm start` runs) inside the gateway namespace; resolves once it serves. */
  async function startGateway(extra: string[]): Promise<{ logs: () => string[]; stop: () => Promise<void> }> {
    const args = ['--port', String(HTTP_PORT), '--host', '0.0.0.0', '--no-quic', '--log-format', 'json', '--handshake-timeout', '4s', '--webrtc-interfaces', net.gatewayInterface, ...extra];
    const child = net.spawnIn(net.gateway, [process.execPath, '--import', 'tsx', 'app/cli.ts', ...args]);
    const log = lines(child);
    const exited = exitOf(child);
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    };
    try {
      await until('gateway listening', () => (child.exitCode !== null ? Promise.reject(new Error(`gateway exited: ${log.join('\n')}`)) : log.some((l) => /listening/.test(l)) ? true : undefined), 30_000, () => log);
      await until('gateway /healthz', async () => ((await inGateway(`fetch('http://127.0.0.1:${HTTP_PORT}/healthz').then(r=>process.stdout.write(String(r.status)))`)) === '200' ? true : undefined), 15_000, () => log);
    } catch (error) {
      kill();
      await exited;
      throw error;
    }
    return {
      logs: () => log,
      stop: async () => {
        if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
        const timer = setTimeout(kill, 5000);
        await exited;
        clearTimeout(timer);
      },
    };
  }

  /** A node one-liner inside the gateway namespace (the test's own namespace cannot reach it). */
  async function inGateway(script: string): Promise<string> {
    const child = net.spawnIn(net.gateway, [process.execPath, '-e', `${script}.catch(()=>process.exit(1))`]);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    return (await exitOf(child)) === 0 ? out : '';
  }

  async function whipFramesAtRelay(): Promise<number> {
    const text = await inGateway(`fetch('http://127.0.0.1:${HTTP_PORT}/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))`);
    const m = /^moq_gateway_ingest_frames_total\{protocol="whip"\} (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** The werift publisher inside the publisher namespace, POSTing to the public address. */
  async function publish(broadcast: string, timeoutMs: number): Promise<PublishResult> {
    const url = `http://${PUBLIC_IP}:${HTTP_PORT}/whip/${broadcast}`;
    const child = net.spawnIn(net.publisher, [process.execPath, '--import', 'tsx', 'test/helpers/werift-whip-publisher.ts', url, String(PACKETS), String(timeoutMs)]);
    const log = lines(child);
    const code = await exitOf(child);
    const json = log.find((l) => l.startsWith('{"state"'));
    if (code !== 0 || !json) throw new Error(`publisher failed (exit ${code}):\n${log.join('\n')}`);
    return JSON.parse(json) as PublishResult;
  }

  it('announces the public address and the shared port; ICE, DTLS and media cross the NAT', async () => {
    const gateway = await startGateway(['--webrtc-public-ip', PUBLIC_IP, '--webrtc-udp-port', String(UDP_PORT)]);
    try {
      const result = await publish('live/nat', 15_000);
      expect(result.answer, result.state).toBeDefined();
      // Only the configured interface, on the shared port, and the public address beside it.
      expect(candidates(result.answer!)).toEqual([`host ${GATEWAY_IP}:${UDP_PORT}`, `srflx ${PUBLIC_IP}:${UDP_PORT}`]);
      expect(result.state, gateway.logs().slice(-20).join('\n')).toBe('connected');
      expect(result.sent).toBe(PACKETS);
      // Every Opus packet is one frame; the last few may still be in flight when the peer closes.
      const frames = await until('all frames at the relay', async () => ((n) => (n >= PACKETS - 5 ? n : undefined))(await whipFramesAtRelay()), 5000, gateway.logs);
      expect(frames).toBeLessThanOrEqual(PACKETS);
    } finally {
      await gateway.stop();
    }
  }, 90_000);

  it('without --webrtc-public-ip the publisher cannot connect through the NAT', async () => {
    const gateway = await startGateway(['--webrtc-udp-port', String(UDP_PORT)]);
    try {
      const result = await publish('live/nat', 6000);
      expect(candidates(result.answer!)).toEqual([`host ${GATEWAY_IP}:${UDP_PORT}`]);
      expect(result.state).not.toBe('connected');
      expect(result.sent).toBe(0);
      expect(await whipFramesAtRelay()).toBe(0);
      // The gateway gives up on the session after --handshake-timeout.
      await until('the gateway closing the session', () => (gateway.logs().some((l) => l.includes('"whip session closed"') && l.includes('ICE did not connect')) ? true : undefined), 10_000, gateway.logs);
    } finally {
      await gateway.stop();
    }
  }, 90_000);

  it('with a UDP port range: each session on a port of the range, announced with the public address', async () => {
    const gateway = await startGateway(['--webrtc-public-ip', PUBLIC_IP, '--webrtc-udp-ports', UDP_RANGE.join('-')]);
    try {
      const result = await publish('live/range', 15_000);
      const found = candidates(result.answer!);
      expect(found).toHaveLength(2);
      const port = Number(found[0]!.split(':')[1]);
      expect(port).toBeGreaterThanOrEqual(UDP_RANGE[0]);
      expect(port).toBeLessThanOrEqual(UDP_RANGE[1]);
      expect(found).toEqual([`host ${GATEWAY_IP}:${port}`, `srflx ${PUBLIC_IP}:${port}`]);
      expect(result.state, gateway.logs().slice(-20).join('\n')).toBe('connected');
      await until('all frames at the relay', async () => ((n) => (n >= PACKETS - 5 ? n : undefined))(await whipFramesAtRelay()), 5000, gateway.logs);
    } finally {
      await gateway.stop();
    }
  }, 90_000);

  it('Chromium publishes its fake camera and microphone through the NAT on the shared port', async () => {
    if (!haveTools('chromium')) return;
    const gateway = await startGateway(['--webrtc-public-ip', PUBLIC_IP, '--webrtc-udp-port', String(UDP_PORT)]);
    // The browser process runs inside the publisher's namespace; Playwright talks to it over pipes.
    const dir = mkdtempSync(join(tmpdir(), 'whip-nat-'));
    const wrapper = join(dir, 'chromium-in-netns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${net.publisher} ${CHROMIUM_PATH} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const browser = await chromium.launch({
      executablePath: wrapper,
      args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        // getUserMedia needs a secure context; the page is plain HTTP on the public address.
        `--unsafely-treat-insecure-origin-as-secure=http://${PUBLIC_IP}:${HTTP_PORT}`],
      timeout: 30_000,
    });
    try {
      const page = await browser.newPage();
      const console: string[] = [];
      page.on('console', (m) => console.push(`[${m.type()}] ${m.text()}`));
      await page.goto(`http://${PUBLIC_IP}:${HTTP_PORT}/publish/live/chromium-nat`);
      const answer = page.waitForResponse((r) => r.url().includes('/whip/') && r.request().method() === 'POST', { timeout: 20_000 });
      await page.click('#start');
      const response = await answer.catch((error: Error) => {
        throw new Error(`${error.message}\n${console.join('\n')}`);
      });
      expect(response.status()).toBe(201);
      expect(candidates(await response.text())).toEqual([`host ${GATEWAY_IP}:${UDP_PORT}`, `srflx ${PUBLIC_IP}:${UDP_PORT}`]);
      await page.waitForSelector('#state[data-state="live"]', { timeout: 20_000 }).catch((error: Error) => {
        throw new Error(`${error.message}\n${console.join('\n')}\n${gateway.logs().slice(-20).join('\n')}`);
      });
      // Video and audio frames reach the relay through the NAT.
      await until('100 frames at the relay', async () => ((n) => (n >= 100 ? n : undefined))(await whipFramesAtRelay()), 20_000, gateway.logs);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
      await gateway.stop();
    }
  }, 120_000);
});
