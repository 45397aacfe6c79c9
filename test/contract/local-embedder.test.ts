import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { localUseLite } from '../../src/embedders/local-use-lite.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);

/** True when this machine can give a child process its own empty network namespace. */
function canUnshareNetwork(): boolean {
  return spawnSync('unshare', ['-rn', 'true']).status === 0;
}

describe('local embedder (USE-lite)', () => {
  it('embeds in worker threads: 512-d unit vectors, paraphrase above unrelated, event loop never blocked', async () => {
    const embedder = localUseLite();
    const texts = Array.from(
      { length: 64 },
      (_, i) =>
        `Sentence number ${i} talks about reconnecting websockets with exponential backoff and random jitter, again and again.`,
    );
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = Date.now();
    const vectors = await embedder.embed(texts);
    const elapsed = Date.now() - started;
    delay.disable();
    expect(vectors).toHaveLength(64);
    expect(vectors[0]!.length).toBe(512);
    expect(Math.hypot(...vectors[0]!)).toBeCloseTo(1, 4);
    // WASM inference of the whole batch takes far longer than any stall the event loop saw.
    expect(elapsed).toBeGreaterThan(200);
    expect(delay.max / 1e6).toBeLessThan(100);

    const [query, paraphrase, unrelated] = await embedder.embed([
      'WebSocket reconnection needs exponential backoff with jitter',
      'When the socket connection drops, retry after increasingly longer random delays.',
      'Our quarterly revenue grew thanks to strong sales in Europe.',
    ]);
    expect(dot(query!, paraphrase!)).toBeGreaterThan(dot(query!, unrelated!) + 0.2);
  });

  it('runs with networking disabled: loaded from the installed package, never the network', async () => {
    // The real module, compiled as it ships, run in a child process. Where the machine allows it the child gets
    // its own network namespace (no interfaces up: any connection fails); in every case a preload makes every
    // socket connect, DNS lookup and fetch throw and counts the attempts, in the main thread and in the workers.
    const dir = join(root, 'node_modules', '.cache', 'cairn-offline-test');
    mkdirSync(dir, { recursive: true });
    await build({
      entryPoints: [join(root, 'src/embedders/local-use-lite.ts')],
      outfile: join(dir, 'embedder.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    writeFileSync(
      join(dir, 'no-network.cjs'),
      `const net = require('node:net'); const dns = require('node:dns'); const { isMainThread } = require('node:worker_threads');
       const refuse = (what) => { process.stderr.write('NETWORK ATTEMPT ' + what + (isMainThread ? '' : ' (worker)') + '\\n'); throw new Error('network disabled: ' + what); };
       net.Socket.prototype.connect = function () { refuse('socket connect'); };
       dns.lookup = () => refuse('dns lookup'); dns.promises.lookup = async () => refuse('dns lookup');
       globalThis.fetch = async (url) => refuse('fetch ' + url);`,
    );
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { Worker } from 'node:worker_threads';
       import { localUseLite } from './embedder.mjs';
       const vectors = await localUseLite().embed(['offline sentence one', 'offline sentence two']);
       // Prove the preload is active in worker threads too.
       const probe = await new Promise((resolve) => { const w = new Worker("fetch('http://example.com').then(() => process.exit(0), () => process.exit(3))", { eval: true }); w.on('exit', resolve); });
       console.log(JSON.stringify({ n: vectors.length, dim: vectors[0].length, workerProbe: probe }));
       process.exit(0);`,
    );
    const isolated = canUnshareNetwork();
    const command = isolated ? 'unshare' : process.execPath;
    const argv = [
      ...(isolated ? ['-rn', process.execPath] : []),
      '--require',
      join(dir, 'no-network.cjs'),
      join(dir, 'main.mjs'),
    ];
    const result = spawnSync(command, argv, {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9' },
    });
    expect(result.stderr).not.toMatch(/NETWORK ATTEMPT (?!fetch http:\/\/example\.com)/);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toEqual({ n: 2, dim: 512, workerProbe: 3 });
  }, 90_000);
});
