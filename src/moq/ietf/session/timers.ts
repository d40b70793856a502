/** Small timer helpers that never keep the process alive on their own. */

/** `promise`'s value, or `fallback` once `ms` pass first. */
export async function withTimeout<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: unknown;
  const expired = new Promise<F>((resolve) => {
    const handle = setTimeout(() => resolve(fallback), ms);
    (handle as { unref?: () => void }).unref?.();
    timer = handle;
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer as Parameters<typeof clearTimeout>[0]);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const handle = setTimeout(resolve, ms);
    (handle as { unref?: () => void }).unref?.();
  });
}
