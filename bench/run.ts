/**
 * moq-gateway benchmark: `npm run bench [-- options]`.
 *
 * Sections (sections/*.ts; all on 127.0.0.1, every process killed at the end, even on Ctrl-C):
 *   latency  added latency per frame on each path (p50 / p99 / max), plus the peers' paths
 *   fanout   one 2.5 Mbps 30 fps broadcast to N viewers: the gateway over WebSocket and raw QUIC,
 *            a bare `ws` broadcast server and node-media-server, same media and N
 *   ingest   CPU-ms per media-second for 1/10/50 RTMP publishers at 6 Mbps, with/without HLS
 *   hls      one 2.5 Mbps broadcast: CPU and bytes per media-second of fMP4/LL-HLS vs MPEG-TS HLS
 *   memory   RSS per idle subscriber, per broadcast, and a soak with churn (must be flat)
 *   profile  one `node --cpu-prof` run of the gateway under fan-out; top self-time functions
 *
 * Options:
 *   --only latency,fanout,...   sections to run (default all)
 *   --soak <s>                  soak length (default 60; the issue's full soak is --soak 600)
 *   --window <s>                measurement window per point (default 10)
 *   --steps 10,50,...           fan-out viewer counts (default 10,50,100,200,500,1000)
 *   --protocols ws,quic,bare-ws,nms
 *                               fan-out series to run (default all); the profile uses the first of
 *                               ws/quic given (default ws)
 *   --gateway-workers 1,2       run the gateway series with `--workers 1`, `--workers 2`, ...
 *                               (default 1; values > 1 are skipped if the gateway refuses the flag)
 *   --no-pin                    do not pin the server and the load to separate cores (taskset)
 *   --out <dir>                 results directory (default bench/results)
 *   --quick                     short windows and small N, for development
 *   --report                    only rebuild latest.md and the charts from the JSON files
 *
 * Writes bench/results/<section>.json, bench/results/latest.md + latest.json (report.ts) and the
 * charts (latency-distribution.png, fanout.png, soak.png; SVG beside each).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HELP, log, machine, ONLY, type Section, writeResult } from './lib/context.ts';
import { loadH264Source } from './lib/media.ts';
import { liveChildren } from './lib/proc.ts';
import { writeReport } from './report.ts';
import { runFanout } from './sections/fanout.ts';
import { runHlsFormats } from './sections/hls-formats.ts';
import { runIngest } from './sections/ingest.ts';
import { runLatency } from './sections/latency.ts';
import { runMemory } from './sections/memory.ts';
import { runProfile } from './sections/profile.ts';

if (HELP) {
  process.stdout.write(`${readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*\n/, '').replace(/^ \* ?/gm, '')}\n`);
  process.exit(0);
}

// @moq/lite 0.2.2's bundled QMux throws from a WebSocket callback when a frame arrives for a stream
// it already closed (seen when the relay cancels a silent publisher's track). That is the
// reference client's bug, not a measurement: note it and keep going.
let uncaught = 0;
process.on('uncaughtException', (error) => {
  uncaught++;
  if (uncaught <= 5) log(`  (uncaught in the bench process, ignored: ${(error as Error).message})`);
});

async function main(): Promise<void> {
  const started = Date.now();
  log(`moq-gateway bench — ${machine.nproc} × ${machine.cpuModel}, ${machine.ramGiB} GiB; sections: ${[...ONLY].join(', ')}`);
  const run = async (section: Section, fn: () => Promise<void>) => {
    if (!ONLY.has(section)) return;
    const t = Date.now();
    try {
      await fn();
    } catch (error) {
      log(`  ${section} failed: ${(error as Error).stack ?? error}`);
      writeResult(section, { error: (error as Error).message });
    }
    log(`  (${section}: ${Math.round((Date.now() - t) / 1000)} s; ${liveChildren()} child processes left)`);
  };
  if (ONLY.size) {
    const source = loadH264Source();
    log(`source: ${source.width}x${source.height} ${source.fps} fps ${source.codec}, ${source.units.length} frames looped, ${Math.round((source.units.reduce((a, u) => a + u.bytes, 0) * 8) / (source.units.length / source.fps) / 1000)} kbps`);
    await run('latency', () => runLatency(source));
    await run('fanout', () => runFanout(source));
    await run('ingest', () => runIngest());
    await run('hls', () => runHlsFormats());
    await run('memory', () => runMemory(source));
    await run('profile', () => runProfile(source));
  }
  await writeReport();
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log((error as Error).stack ?? String(error));
    process.exit(1);
  },
);
