/** Profile section: one `node --cpu-prof` run of the gateway under fan-out; top self-time functions. */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ConnectSpec, WorkerPool } from '../lib/fanout.ts';
import type { H264Source } from '../lib/media.ts';
import { topSelfTime } from '../lib/profile.ts';
import { sleep } from '../lib/proc.ts';
import { type RunningPublisher, startRtmpPublisher } from '../lib/publishers.ts';
import { REPO_ROOT, startGatewayServer } from '../lib/servers.ts';
import { GATEWAY_ARGS, PROFILE_PROTOCOL, QUICK, RESULTS, log, readResult, writeResult } from '../lib/context.ts';
import { certificateHashOf } from '../lib/window.ts';
import type { FanoutRow } from './fanout.ts';

export async function runProfile(source: H264Source): Promise<void> {
  const fan = readResult<{ rows: FanoutRow[] }>('fanout');
  const passing = fan?.rows.filter((r) => r.protocol === PROFILE_PROTOCOL && r.pass).map((r) => r.subscribers) ?? [];
  const n = QUICK ? 20 : Math.min(200, Math.max(100, ...passing));
  const seconds = QUICK ? 6 : 15;
  log(`\n== profile: node --cpu-prof, ${n} moq-lite/${PROFILE_PROTOCOL === 'lite-quic' ? 'QUIC' : 'WebSocket'} subscribers, ${seconds} s`);
  const dir = join(RESULTS, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spawned = Date.now();
  const gw = await startGatewayServer({ args: GATEWAY_ARGS, cpuProfDir: dir });
  let pool: WorkerPool | undefined;
  let pub: RunningPublisher | undefined;
  let fromMs = 0;
  let toMs = 0;
  try {
    pub = await startRtmpPublisher(gw.rtmpUrl('live/profile'), source);
    pool = await WorkerPool.start(2);
    const spec: ConnectSpec =
      PROFILE_PROTOCOL === 'lite-quic'
        ? { protocol: 'lite-quic', url: `https://127.0.0.1:${gw.httpPort}/`, broadcast: 'live/profile', track: 'video', certificateSha256: await certificateHashOf(gw) }
        : { protocol: 'lite-ws', url: `${gw.httpUrl}/`, broadcast: 'live/profile', track: 'video' };
    await pool.connect(spec, n);
    await sleep(2000);
    // Only the steady fan-out counts: not start-up (tsx compiling), not the connects, not shutdown.
    fromMs = Date.now() - spawned;
    await sleep(seconds * 1000);
    toMs = Date.now() - spawned;
  } finally {
    await pool?.close();
    await pub?.stop();
    await gw.stop();
  }
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (others are tsx's loader).
  const file = readdirSync(dir).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)).map((f) => join(dir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!file) {
    writeResult('profile', { subscribers: n, seconds, error: 'no .cpuprofile written (the gateway did not exit cleanly?)' });
    log('  no profile written');
    return;
  }
  const top = topSelfTime(file, REPO_ROOT, 10, { fromMs, toMs });
  writeResult('profile', { protocol: PROFILE_PROTOCOL, subscribers: n, seconds, file: file.replace(REPO_ROOT, ''), busyMs: top.total, gcMs: top.gcMs, top: top.entries });
  for (const e of top.entries.slice(0, 5)) log(`  ${String(e.percent).padStart(5)}%  ${e.function}  ${e.location}`);
}
