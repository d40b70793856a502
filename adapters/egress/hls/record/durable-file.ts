import { open, rename } from 'node:fs/promises';
import path from 'node:path';

/** Suffix of a file being written: never listed, removed when a recording directory is rebuilt. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Write `bytes` to `file` so that after a crash (kill -9, power loss) the file is either absent
 * or complete: written to a temporary name, fsynced, renamed into place, then the directory
 * fsynced so the rename itself is durable (rename(2) is atomic within a file system).
 */
export async function writeDurable(file: string, bytes: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const temp = `${file}.${process.pid}${TEMP_SUFFIX}`;
  const handle = await open(temp, 'w', 0o644);
  try {
    const chunks = bytes instanceof Uint8Array ? [bytes] : bytes;
    await handle.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  await syncDirectory(path.dirname(file));
}

/** fsync a directory: makes the entries created, renamed or removed in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
