/**
 * Builds the batched-UDP addon (native/udp/udp_batch.c → native/udp/build/udp_batch.node) with
 * the C compiler that is on the machine and the N-API + libuv headers the Node installation
 * ships; no node-gyp, no downloads. Run by `npm ci` / `npm install` (package.json "install").
 * Never fails the install: without a compiler, headers or Linux, the gateway falls back to
 * node:dgram and says so in its log and in /api/info.
 *
 *   node native/build.mjs [--quiet]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'udp', 'udp_batch.c');
const outDir = join(here, 'udp', 'build');
const output = join(outDir, 'udp_batch.node');
const quiet = process.argv.includes('--quiet');

function say(message) {
  if (!quiet) process.stdout.write(`native/build.mjs: ${message}\n`);
}

/** Directories holding node_api.h and uv.h: next to this Node binary first, then the system's. */
function includeDirs() {
  const prefix = dirname(dirname(process.execPath));
  const candidates = [
    join(here, '..', 'node_modules', 'node', 'include', 'node'),
    join(prefix, 'include', 'node'),
    '/usr/local/include/node',
    '/usr/include/node',
  ];
  return candidates.filter((dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h')));
}

function compiler() {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore' });
      return cc;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function build() {
  if (process.platform !== 'linux') return say(`skipped: ${process.platform} has no UDP_SEGMENT/recvmmsg (node:dgram is used)`);
  const includes = includeDirs();
  if (includes.length === 0) return say('skipped: no node_api.h/uv.h found (node:dgram is used)');
  const cc = compiler();
  if (!cc) return say('skipped: no C compiler (node:dgram is used)');
  mkdirSync(outDir, { recursive: true });
  const temporary = `${output}.${process.pid}.tmp`;
  try {
    execFileSync(cc, ['-O2', '-std=gnu11', '-fPIC', '-shared', '-Wall', '-Wextra', '-Wno-unused-parameter', `-I${includes[0]}`, '-DNODE_GYP_MODULE_NAME=udp_batch', '-o', temporary, source], {
      stdio: quiet ? 'ignore' : 'inherit',
    });
    renameSync(temporary, output);
    say(`built ${output} (${cc}, headers ${includes[0]})`);
  } catch (error) {
    say(`failed (node:dgram is used): ${error instanceof Error ? error.message : String(error)}`);
  }
}

build();
