import { mkdir, readdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { StructuredLogger } from '../logger.ts';

/**
 * The browser pages' JS/CSS bundle (web/src, plus web/publish when present → web/dist), built
 * with esbuild when the gateway starts and the bundle is missing or older than its sources,
 * so `npm start` on a fresh clone just works and an edited page shows up on the next start.
 */

export interface WebBundleOptions {
  /** Only `info` and `error` are used: a build reports what it did or why it failed. */
  logger: Pick<StructuredLogger, 'info' | 'error'>;
  /** The web/ folder (sources in src/, output in dist/). Defaults to the repository's. */
  webDir?: string;
  /** Build even when the bundle looks fresh. */
  force?: boolean;
}

export interface WebBundle {
  /** Folder the /assets/ route serves. */
  dir: string;
  /** Whether this call built it (false: an up-to-date bundle was already there). */
  built: boolean;
}

/** Entry points: page scripts and the one stylesheet; shared code lands in hashed chunks. */
const ENTRIES: Record<string, string> = { dashboard: 'src/dashboard.ts', watch: 'src/watch.ts', style: 'src/style.css' };
/** Built when present: pages other parts of the gateway bring along (WHIP publishing). */
const OPTIONAL_ENTRIES: Record<string, string> = { publish: 'publish/publish.ts' };
/** Written last: its presence and mtime say the bundle is complete and when it was built. */
const STAMP = 'build.json';
const COMPRESSIBLE = /\.(js|css|svg|json)$/;

export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

export async function ensureWebBundle(opts: WebBundleOptions): Promise<WebBundle> {
  const webDir = resolve(opts.webDir ?? DEFAULT_WEB_DIR);
  const dist = join(webDir, 'dist');
  if (!opts.force && (await isFresh(webDir, dist))) return { dir: dist, built: false };

  opts.logger.info({ dir: dist }, 'building web bundle…');
  const started = performance.now();
  const tmp = join(webDir, `.dist-${process.pid}-${Date.now().toString(36)}`);
  try {
    const bytes = await buildInto(webDir, tmp);
    await publish(tmp, dist);
    const ms = Math.round(performance.now() - started);
    opts.logger.info({ ms, bytes }, `web bundle built in ${ms} ms`);
  } catch (error) {
    opts.logger.error({ err: error }, `web bundle build failed: ${(error as Error).message}`);
    throw error;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { dir: dist, built: true };
}

/** Fresh = complete and newer than every source, this file (the build options) and @moq/watch. */
async function isFresh(webDir: string, dist: string): Promise<boolean> {
  const built = await mtime(join(dist, STAMP));
  if (built === undefined) return false;
  // A deployment may ship web/dist without the sources: serve what is there.
  if ((await mtime(join(webDir, ENTRIES.dashboard!))) === undefined) return true;
  const inputs = [...(await listSources(webDir)), fileURLToPath(import.meta.url), watchPackageJson()];
  for (const input of inputs) {
    const changed = input === undefined ? undefined : await mtime(input);
    if (changed !== undefined && changed > built) return false;
  }
  return true;
}

async function buildInto(webDir: string, outdir: string): Promise<number> {
  const esbuild = await import('esbuild'); // loaded only when a build is needed
  const entryPoints = Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, join(webDir, file)]));
  for (const [name, file] of Object.entries(OPTIONAL_ENTRIES)) {
    if ((await mtime(join(webDir, file))) !== undefined) entryPoints[name] = join(webDir, file);
  }
  const result = await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    assetNames: 'chunks/[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: webDir,
  });
  let bytes = 0;
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    const path = resolve(webDir, file);
    if (!path.endsWith('.map')) bytes += output.bytes;
    if (COMPRESSIBLE.test(path)) await precompress(path);
  }
  await writeFile(join(outdir, STAMP), JSON.stringify({ builtAt: new Date().toISOString(), entries: Object.keys(entryPoints) }));
  return bytes;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** `.gz` and `.br` siblings so phones download ~a third of the player. */
async function precompress(path: string): Promise<void> {
  const data = await readFile(path);
  const [gz, br] = await Promise.all([
    gzipAsync(data, { level: 9 }),
    brotliAsync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: data.byteLength } }),
  ]);
  await Promise.all([writeFile(`${path}.gz`, gz), writeFile(`${path}.br`, br)]);
}

/**
 * Swap the finished build in with renames, so a server never sees half a bundle. Two gateways
 * starting at once (parallel tests) may both build: identical sources give identical output,
 * so losing the race is fine.
 */
async function publish(tmp: string, dist: string): Promise<void> {
  await mkdir(dirname(dist), { recursive: true });
  if (await tryRename(tmp, dist)) return;
  const old = `${dist}.old-${process.pid}-${Date.now().toString(36)}`;
  if (await tryRename(dist, old)) {
    await tryRename(tmp, dist);
    await rm(old, { recursive: true, force: true });
  }
}

async function tryRename(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT' || code === 'EPERM') return false;
    throw error;
  }
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Every file under web/ except the output and temporary build folders (dot-names, dist*). */
async function listSources(webDir: string): Promise<string[]> {
  const entries = await readdir(webDir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => !/^(\.|dist)/.test(relative(webDir, path)));
}

function watchPackageJson(): string | undefined {
  try {
    return join(dirname(fileURLToPath(import.meta.resolve('@moq/watch/element'))), 'package.json');
  } catch {
    return undefined;
  }
}
