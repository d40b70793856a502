import type { AuthContext } from './context.ts';

/** setTimeout fires at once for delays above 2^31-1 ms (~24.8 days), so longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onExpire` once when the context's token lapses (at once if it already has), so the
 * session it authorized can be closed. Returns a cancel function; a token without `exp` never fires.
 * Timers are unref'd: a pending expiry never keeps the process alive.
 */
export function expiryTimer(ctx: Pick<AuthContext, 'expiresAt'>, onExpire: () => void, now: () => number = Date.now): () => void {
  const expiresAt = ctx.expiresAt;
  if (expiresAt === undefined) return () => {};
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = () => {
    const remaining = expiresAt - now();
    timer = setTimeout(
      () => {
        if (cancelled) return;
        if (now() >= expiresAt) onExpire();
        else arm();
      },
      Math.min(Math.max(remaining, 0), MAX_TIMER_MS),
    );
    timer.unref();
  };
  arm();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
