/**
 * The layering the README draws, checked over the import graph of app/, src/ and adapters/
 * (type-only imports included: an upward type is an upward dependency too). Data flows
 * ingest → src/media → src/relay ← src/moq ← transports, egress adapters read the relay, and
 * app/ wires everything; a folder may import only the folders its row allows, and no file may
 * reach itself through its imports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Files directly under src/ (small shared leaves: the logger interface, the version). */
const SRC_ROOT = 'src/*';

/**
 * What each folder may import besides itself. Folders are `app`, `src/<name>` and
 * `adapters/<kind>/<name>`; a file in src/ itself counts as `src/*`.
 */
const ALLOWED: Record<string, readonly string[]> = {
  'src/wire': [],
  [SRC_ROOT]: ['src/wire'],
  'src/relay': ['src/wire'],
  'src/transport': ['src/wire', SRC_ROOT],
  'src/media': ['src/relay', 'src/wire'],
  'src/moq': ['src/relay', 'src/wire', 'src/transport', SRC_ROOT],
  'src/auth': ['src/relay', 'src/wire'],
  'src/http': ['src/auth', 'src/media', 'src/relay', 'src/wire', SRC_ROOT],
  'src/webrtc': ['src/http', 'src/media', 'src/relay', 'src/wire', SRC_ROOT],
  'src/cluster': ['src/moq', 'src/auth', 'src/relay', 'src/transport', 'src/wire', SRC_ROOT],
};

/** Adapters sit on the core: any src/ folder, never app/ or another adapter. */
const ADAPTER_ALLOWED = (from: string, to: string) => to.startsWith('src/') || to === SRC_ROOT || to === from;

function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'app') return 'app';
  if (parts[0] === 'adapters') return parts.slice(0, 3).join('/');
  return parts.length === 2 ? SRC_ROOT : parts.slice(0, 2).join('/');
}

function mayImport(from: string, to: string): boolean {
  if (from === to || from === 'app') return true;
  if (from.startsWith('adapters/')) return ADAPTER_ALLOWED(from, to);
  const allowed = ALLOWED[from];
  if (!allowed) throw new Error(`${from} has no row in ALLOWED: say what it may import`);
  return allowed.includes(to);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

/** Comments out, so a path quoted in prose is not an import; strings stay (they are the specifiers). */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** `import … from`, `export … from`, bare `import '…'` and `import('…')`: relative specifiers only. */
const SPECIFIER = /\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g;

function importsOf(file: string): string[] {
  const source = withoutComments(readFileSync(path.join(ROOT, file), 'utf8'));
  const targets: string[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2]!;
    if (!specifier.startsWith('.')) continue;
    targets.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)));
  }
  return targets;
}

function importGraph(): Map<string, string[]> {
  const files = ['app', 'src', 'adapters'].flatMap(sourceFiles);
  return new Map(files.map((file) => [file, importsOf(file)]));
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)!.includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe('layering', () => {
  const graph = importGraph();

  it('reads the import graph (every relative import names a file that exists)', () => {
    expect(graph.size).toBeGreaterThan(100);
    const dangling = [...graph].flatMap(([file, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${file} -> ${t}`));
    expect(dangling).toEqual([]);
  });

  it('no folder imports one above it', () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      targets.filter((target) => !mayImport(folderOf(file), folderOf(target))).map((target) => `${file} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it('no file-level import cycles', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('the checks catch what they are for', () => {
    expect(mayImport('src/relay', 'src/media')).toBe(false);
    expect(mayImport('src/moq', 'src/media')).toBe(false);
    expect(mayImport('src/media', 'src/moq')).toBe(false);
    expect(mayImport('src/transport', 'src/auth')).toBe(false);
    expect(mayImport('src/wire', 'src/relay')).toBe(false);
    expect(mayImport('src/relay', 'app')).toBe(false);
    expect(mayImport('adapters/ingest/rtmp', 'app')).toBe(false);
    expect(mayImport('adapters/ingest/rtmp', 'adapters/egress/hls')).toBe(false);
    expect(mayImport('app', 'adapters/egress/hls')).toBe(true);
    const loop = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(loop)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
