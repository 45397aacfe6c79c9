#!/usr/bin/env node
// Reliability campaigns (docs/benchmarks.md): each a bounded loop that stops by itself, prints a summary and exits
// non-zero on a violation; not part of `npm test` (short versions live in test/reliability/).
//
//   node bench/reliability/run.mjs soak   [--minutes 60] [--out bench-out/soak]
//   node bench/reliability/run.mjs kill9  [--dialect sqlite|postgres] [--turns 100]
//   node bench/reliability/run.mjs pg-restart [--rounds 3]
//   node bench/reliability/run.mjs llm-faults [--only slow,garbage-json,…] [--dialect sqlite|postgres]
//   node bench/reliability/run.mjs full-disk [--size-mb 48] [--ballast-mb 4]   (root: it mounts a tmpfs)
//
// PostgreSQL: set CAIRN_TEST_PG_URI (`export CAIRN_TEST_PG_URI=$(scripts/test-postgres.sh start)`); pg-restart starts
// and stops its own cluster instead. The campaigns are TypeScript (they reuse the test harness: the fake LLM, test
// databases); this wrapper bundles the one asked for with esbuild and makes a private build of Cairn for the server
// processes, so it needs no `npm run build` and never races one.
import { execFileSync, spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const campaigns = ['soak', 'kill9', 'pg-restart', 'llm-faults', 'full-disk'];
const [name, ...rest] = process.argv.slice(2);
if (!campaigns.includes(name)) {
  console.error(`usage: run.mjs <${campaigns.join('|')}> [options]`);
  process.exit(2);
}
const root = fileURLToPath(new URL('../..', import.meta.url));
// A build per campaign: rebuilding for one never pulls files from under another still running (the soak's hooks).
const outdir = `${root}.cache/bench-reliability/${name}`;
mkdirSync(outdir, { recursive: true });
if (!process.env.CAIRN_BENCH_DIST) {
  execFileSync(process.execPath, [`${root}scripts/build.mjs`, '--outdir', `${outdir}/dist`], {
    cwd: root,
    stdio: 'inherit',
  });
  process.env.CAIRN_BENCH_DIST = `${outdir}/dist`;
}
await build({
  entryPoints: [`${root}bench/reliability/${name}.ts`],
  outfile: `${outdir}/${name}.mjs`,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
// The bundle lives under .cache/, so it is told where the project is.
const campaign = spawnSync(process.execPath, [`${outdir}/${name}.mjs`, ...rest], {
  stdio: 'inherit',
  env: { ...process.env, CAIRN_BENCH_ROOT: root },
});
process.exit(campaign.status ?? 1);
