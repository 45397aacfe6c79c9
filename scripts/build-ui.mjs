// Builds the memory inspector (web/) into <outdir>: index.html plus content-hashed, minified files under assets/,
// each with a gzip twin that the server sends when the browser accepts it. Run alone: node scripts/build-ui.mjs.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The JS the first page loads may weigh at most this much gzipped (issue 18). */
export const FIRST_PAGE_JS_BUDGET = 150 * 1024;

export async function buildUi(outdir) {
  rmSync(outdir, { recursive: true, force: true });
  const assets = join(outdir, 'assets');
  mkdirSync(assets, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['web/src/main.tsx'],
    outdir: assets,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    // Browsers of the last few years; nothing needs a polyfill.
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const written = Object.keys(result.metafile.outputs).map((path) => resolve(root, path));
  const script = written.find((path) => path.endsWith('.js'));
  const style = written.find((path) => path.endsWith('.css'));
  const html = readFileSync(join(root, 'web/index.html'), 'utf8')
    .replace('%STYLE%', `/assets/${basename(style)}`)
    .replace('%SCRIPT%', `/assets/${basename(script)}`);
  writeFileSync(join(outdir, 'index.html'), html);
  let firstPageJs = 0;
  for (const path of [...written, join(outdir, 'index.html')]) {
    const zipped = gzipSync(readFileSync(path), { level: 9 });
    writeFileSync(`${path}.gz`, zipped);
    if (path === script) firstPageJs = zipped.length;
  }
  if (firstPageJs > FIRST_PAGE_JS_BUDGET)
    throw new Error(`memory inspector JS is ${firstPageJs} bytes gzipped, over the ${FIRST_PAGE_JS_BUDGET} budget`);
  return { script: basename(script), firstPageJs };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2] ?? join(root, 'dist/ui');
  const { script, firstPageJs } = await buildUi(outdir);
  console.log(`memory inspector: ${script} ${(firstPageJs / 1024).toFixed(1)} kB gzipped`);
}
