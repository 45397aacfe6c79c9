#!/usr/bin/env node
// Micro-benchmark of the SQLite vector prefilter's distance scan (src/store/dialect/hamming-kernel.ts): the
// Hamming distance from one query code to every code of an archive, JS loop (the path before the WASM kernel,
// still used where SIMD is missing) against the WASM SIMD kernel. Both must give the same distances.
//
//   npm run build && node bench/archival/hamming.mjs [--count 100000] [--bits 512] [--scans 200] [--rounds 5]
import { randomFillSync } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { percentile } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    bits: { type: 'string', default: '512' },
    scans: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
  },
});
const count = Number(args.count);
const words = Number(args.bits) / 32;
const { HammingKernel } = await import('../../dist/search/hamming-kernel.js');

const paths = { js: new HammingKernel(false).codes(count, words), wasm: new HammingKernel().codes(count, words) };
if (paths.wasm.constructor.name !== 'WasmCodes')
  console.warn('WASM kernel unavailable here: both rows measure the JS loop');
paths.wasm.codes.set(randomFillSync(paths.js.codes));

const queries = Array.from({ length: 64 }, () => randomFillSync(new Uint32Array(words)));
const timings = { js: [], wasm: [] };
// Alternate the two paths round by round, so that a change of load on this shared machine hits both alike.
for (let round = 0; round < Number(args.rounds); round++) {
  for (const [name, codes] of Object.entries(paths)) {
    for (let s = 0; s < Number(args.scans); s++) {
      codes.query.set(queries[s % queries.length]);
      const start = process.hrtime.bigint();
      codes.distances();
      timings[name].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
}
for (const query of queries) {
  paths.js.query.set(query);
  paths.wasm.query.set(query);
  const [a, b] = [paths.js.distances(), paths.wasm.distances()];
  if (a.some((d, i) => d !== b[i])) throw new Error('the WASM and JS distances differ');
}

const p50 = (name) => percentile(timings[name], 50);
console.log(
  `${count} codes × ${args.bits} bits, ${timings.js.length} scans per path, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const name of ['js', 'wasm']) {
  const t = timings[name];
  console.log(
    `  ${name.padEnd(4)}  p50 ${p50(name).toFixed(3)} ms  p95 ${percentile(t, 95).toFixed(3)} ms  min ${Math.min(...t).toFixed(3)} ms`,
  );
}
console.log(`  speed-up (p50): ${(p50('js') / p50('wasm')).toFixed(1)}×`);
