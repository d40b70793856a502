/**
 * What tells the gateway to shut down: SIGTERM, SIGINT and SIGHUP, and — when an npm script
 * started it — the death of its parent. Killing `npm start`'s PID (what supervisors, systemd
 * units and test scripts do) ends npm and its `sh -c` but not the node process under them,
 * which would keep every port. Node has no prctl(PR_SET_PDEATHSIG), so the parent is polled:
 * a changed `process.ppid` means it died and this process was re-parented. Only under npm
 * (npm_lifecycle_event is set): a gateway started directly by a shell with `&` or nohup must
 * outlive that shell. A worker forked by the `--workers` supervisor (app/workers/supervisor.ts)
 * also stops when its IPC channel to the supervisor closes: the supervisor is gone, even by
 * SIGKILL, and no orphan may keep the shared ports.
 */
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const PARENT_POLL_MS = 500;

export type ShutdownReason = (typeof SIGNALS)[number] | 'parent exited' | 'supervisor exited';

export function onShutdownRequest(stop: (reason: ShutdownReason) => void, env: NodeJS.ProcessEnv = process.env): void {
  let requested = false;
  const once = (reason: ShutdownReason) => {
    if (requested) return;
    requested = true;
    clearInterval(parentWatch);
    stop(reason);
  };
  for (const signal of SIGNALS) process.once(signal, () => once(signal));
  const parent = process.ppid;
  const parentWatch =
    env.npm_lifecycle_event === undefined
      ? undefined
      : setInterval(() => {
          if (process.ppid !== parent) once('parent exited');
        }, PARENT_POLL_MS);
  parentWatch?.unref();
  if (process.channel) process.once('disconnect', () => once('supervisor exited'));
}
