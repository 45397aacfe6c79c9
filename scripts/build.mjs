// Compiles src/ to dist/ with esbuild: one ESM file per module for the server and CLI, plus a single bundled
// file for the Claude Code hooks, whose start-up time matters (no module graph to resolve at each prompt).
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi } from './build-ui.mjs';

// `--outdir <dir>` builds elsewhere (tests build a private copy so that they never race a concurrent `npm run build`).
const outdirFlag = process.argv.indexOf('--outdir');
const outdir = outdirFlag > 0 ? process.argv[outdirFlag + 1] : 'dist';

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: sources('src'),
  outdir,
  outbase: 'src',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});

// The Claude Code hooks run once per prompt: one self-contained file (SDK included) starts faster than a module graph.
await build({
  entryPoints: ['src/hooks/main.ts'],
  outfile: join(outdir, 'hooks.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
});

// The memory inspector the server serves at / (src/http/plugins/ui.ts).
const ui = await buildUi(join(outdir, 'ui'));
process.stderr.write(`memory inspector: ${ui.script} ${(ui.firstPageJs / 1024).toFixed(1)} kB of JS gzipped\n`);
