import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EmbeddingError, normalise } from './types.js';

/**
 * Local models run only in worker threads: their inference is CPU work that would stall the event loop for the
 * length of a batch. A worker is code evaluated from a string (so the same source runs under the test runner, from
 * `src/` and from `dist/`), given `workerData`; it answers `{ id, input }` messages with `{ id, flat, dim }` (the
 * vectors of the batch, concatenated) or `{ id, error }`.
 */
export interface WorkerSpec<Input> {
  source: string;
  workerData: unknown;
  /** Splits a batch's input for the workers. */
  slice(input: Input, start: number, end: number): Input;
  size(input: Input): number;
}

interface Pending {
  slot: PoolWorker;
  resolve(vectors: Float32Array[]): void;
  reject(error: Error): void;
}

interface PoolWorker {
  worker: Worker;
  busy: number;
}

/** At most two workers: each holds its own copy of the model and the target machines have two cores. */
const MAX_WORKERS = Math.max(1, Math.min(2, availableParallelism()));

export class EmbeddingWorkerPool<Input> {
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(
    private readonly spec: WorkerSpec<Input>,
    /** Prefix of failure messages ("local embedding"). */
    private readonly what: string,
  ) {}

  /** Splits a batch across the workers so both cores embed it. */
  async embed(input: Input): Promise<Float32Array[]> {
    const n = this.spec.size(input);
    if (n === 0) return [];
    const parts = Math.min(MAX_WORKERS, Math.ceil(n / 8));
    const size = Math.ceil(n / parts);
    const chunks: Promise<Float32Array[]>[] = [];
    for (let i = 0; i < n; i += size) chunks.push(this.run(this.spec.slice(input, i, Math.min(n, i + size))));
    return (await Promise.all(chunks)).flat();
  }

  private run(input: Input): Promise<Float32Array[]> {
    const slot = this.leastBusy();
    const id = this.nextId++;
    slot.busy++;
    slot.worker.ref();
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(id, { slot, resolve, reject });
      slot.worker.postMessage({ id, input });
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
    const worker = new Worker(this.spec.source, { eval: true, workerData: this.spec.workerData });
    const slot: PoolWorker = { worker, busy: 0 };
    worker.on('message', (message: { id: number; flat?: Float32Array; dim?: number; error?: string }) => {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.error !== undefined || !message.flat || !message.dim) {
        pending.reject(new EmbeddingError(`${this.what} failed: ${message.error ?? 'no output'}`));
        return;
      }
      const vectors: Float32Array[] = [];
      try {
        for (let i = 0; i < message.flat.length; i += message.dim)
          vectors.push(normalise(message.flat.subarray(i, i + message.dim)));
      } catch (error) {
        pending.reject(error instanceof Error ? error : new EmbeddingError(String(error)));
        return;
      }
      pending.resolve(vectors);
    });
    // A crashed worker fails what it held; the next request spawns a fresh one.
    const fail = (error: Error) => {
      this.workers.splice(this.workers.indexOf(slot), 1);
      for (const [id, pending] of this.pending) {
        if (pending.slot !== slot) continue;
        this.pending.delete(id);
        pending.reject(new EmbeddingError(`${this.what} worker stopped: ${error.message}`));
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
