/** `bytes` split at the given cut points (taken modulo its length, deduplicated), in order. */
export function chunksOf(bytes: Uint8Array, cuts: readonly number[] = []): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let last = 0;
  for (const point of [...points, bytes.byteLength]) {
    chunks.push(bytes.slice(last, point));
    last = point;
  }
  return chunks;
}

/** A stream that delivers `bytes` split at the given cut points, the way a transport might. */
export function chunkedStream(bytes: Uint8Array, cuts: readonly number[] = []): ReadableStream<Uint8Array> {
  const chunks = chunksOf(bytes, cuts);
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}
