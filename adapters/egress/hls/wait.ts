/**
 * Wait until `ready()` holds, re-checking at every `changed()`, for at most `timeoutMs` or
 * until `signal` aborts (the client went away). Resolves whether it became ready.
 */
export async function waitUntil(changed: () => Promise<void>, ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  if (ready()) return true;
  if (signal?.aborted) return false;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    onAbort = () => resolve();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  let stopped = false;
  void stop.then(() => (stopped = true));
  try {
    while (!ready()) {
      await Promise.race([changed(), stop]);
      if (stopped) return ready();
    }
    return true;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
