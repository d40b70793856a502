/**
 * ES2024 built-ins Node 20 lacks that @moq/qmux (our WebSocket framing) calls at run time.
 * Imported first by the CLI; a no-op on newer runtimes.
 */
const promise = Promise as unknown as { withResolvers?: unknown };
promise.withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const p = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise: p, resolve, reject };
};

const setProto = Set.prototype as unknown as { difference?: unknown };
setProto.difference ??= function difference<T>(this: Set<T>, other: ReadonlySet<T>): Set<T> {
  const out = new Set<T>();
  for (const value of this) if (!other.has(value)) out.add(value);
  return out;
};

export {};
