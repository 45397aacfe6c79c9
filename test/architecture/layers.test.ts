import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules of docs/architecture.md, read from its table, checked over every relative import in src/: an
 * import runs only to the importer's own folder or to a lower rank, the client side imports none of the server's
 * layers, and there is no cycle.
 */
const root = resolve(import.meta.dirname, '../..');
const CLIENT_SIDE = new Set(['client', 'mcp', 'hooks']);
const SERVER_RANKS = { min: 2, max: 8 };

function layerTable(): Map<string, number> {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const ranks = new Map<string, number>();
  for (const [, rank, cell] of doc.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)) {
    for (const [, name] of cell!.matchAll(/`([^`]+)`/g)) ranks.set(name!, Number(rank));
  }
  return ranks;
}

/** The unit a file belongs to: its top folder under src/, or the file itself at the top. */
function unitOf(file: string): string {
  return relative(join(root, 'src'), file).split('/')[0]!;
}

function sourceFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src'], {
    cwd: root,
    encoding: 'utf8',
  });
  return tracked
    .split('\n')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(root, f));
}

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name).replace(/\.js$/, '.ts'));
}

function layerViolations(graph: Map<string, string[]>, ranks: Map<string, number>): string[] {
  const violations: string[] = [];
  for (const [file, imports] of graph) {
    const from = unitOf(file);
    for (const target of imports) {
      const to = unitOf(target);
      if (to === from) continue;
      const [a, b] = [ranks.get(from)!, ranks.get(to)!];
      const clientReachesServer = CLIENT_SIDE.has(from) && b >= SERVER_RANKS.min && b <= SERVER_RANKS.max;
      if (b >= a || clientReachesServer) violations.push(`${relative(root, file)} → ${relative(root, target)}`);
    }
  }
  return violations;
}

describe('architecture', () => {
  const ranks = layerTable();
  const files = sourceFiles();
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('gives every folder and top-level file of src/ a rank in docs/architecture.md', () => {
    const unranked = [...new Set(files.map(unitOf))].filter((unit) => !ranks.has(unit));
    expect(unranked).toEqual([]);
  });

  it('has no import from a lower layer to a higher one, nor across one rank', () => {
    expect(layerViolations(graph, ranks)).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[][] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      path.push(file);
      for (const next of graph.get(file) ?? []) {
        if (!graph.has(next)) continue;
        if (state.get(next) === 'open') cycles.push(path.slice(path.indexOf(next)).map((f) => relative(root, f)));
        else if (!state.has(next)) visit(next);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it('would catch an upward import, a same-rank import and the client side reaching the store', () => {
    const src = (path: string) => join(root, 'src', path);
    const made = new Map([
      [src('store/agent.store.ts'), [src('services/agent.service.ts')]],
      [src('llm/client.ts'), [src('embedders/index.ts')]],
      [src('mcp/ops.ts'), [src('store/index.ts'), src('schemas/capture.ts')]],
      [src('http/app.ts'), [src('services/index.ts')]],
    ]);
    expect(layerViolations(made, ranks)).toEqual([
      'src/store/agent.store.ts → src/services/agent.service.ts',
      'src/llm/client.ts → src/embedders/index.ts',
      'src/mcp/ops.ts → src/store/index.ts',
    ]);
  });
});
