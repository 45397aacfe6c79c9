import type { Logger } from 'pino';
import type { Embedders } from '../embedders/index.js';
import type { Stores } from '../store/index.js';
import { groupBy } from '../lib/collections.js';

/** A queue of texts to embed: archival passages, recall messages (the stores implement it). */
export interface EmbeddingQueue<C extends { id: string; text: string; model: string }> {
  claimDue(now: string, leaseUntil: string, limit: number): Promise<C[]>;
  storeVectors(items: { claim: C; vector: Float32Array }[]): Promise<number>;
  failEmbedding(ids: string[], error: string, nextAt: (attempts: number) => string): Promise<void>;
  ensureVectorIndex(dim: number): Promise<void>;
}

type AnyQueue = EmbeddingQueue<{ id: string; text: string; model: string }>;

export interface IndexerOptions {
  batchSize: number;
  /** How often the queue is polled for work another process wrote, retries that came due, or a restart left. */
  pollMs: number;
  /** A claim older than this is presumed abandoned (crashed process) and claimed again. */
  leaseMs: number;
}

const DEFAULTS: IndexerOptions = { batchSize: 64, pollMs: 500, leaseMs: 120_000 };
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * Background embedding. Writes only queue a passage (`embed_status = 'pending'` in its row) and return; this
 * loop claims due passages in batches, embeds them (local model in worker threads, or a remote provider) and
 * stores the vectors. The queue is the database, so a restart resumes it and several processes on one
 * PostgreSQL database share it. A failed batch is retried with exponential backoff (capped at 10 minutes);
 * the passages stay lexically searchable meanwhile.
 */
export class EmbeddingIndexer {
  private readonly options: IndexerOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly indexedDims = new Map<AnyQueue, Set<number>>();
  private readonly queues: AnyQueue[];

  constructor(
    stores: Stores,
    private readonly embedders: Embedders,
    private readonly logger: Logger,
    options: Partial<IndexerOptions> = {},
    /** Queues drained after the passages' (recall messages). */
    more: AnyQueue[] = [],
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.queues = [stores.archival, ...more];
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    // The poll must not keep a process alive on its own.
    this.timer.unref();
    this.kick();
  }

  /** Runs the queue now (after a write), or once more after the current run if one is going. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves when the queue has nothing due (tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (const queue of this.queues) await this.drainQueue(queue);
    } catch (error) {
      // The database went away (shutdown) or a query failed: the next poll tries again.
      if (!this.stopped) this.logger.error({ err: error }, 'embedding queue run failed');
    }
  }

  private async drainQueue(queue: AnyQueue): Promise<void> {
    for (;;) {
      // An embedder that fails at once (no API key) never lets a batch wait on I/O: without this, a backlog of
      // 40,000 imported messages would be claimed and failed in one stretch of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.stopped) return;
      const now = Date.now();
      const claims = await queue.claimDue(
        new Date(now).toISOString(),
        new Date(now + this.options.leaseMs).toISOString(),
        this.options.batchSize,
      );
      if (claims.length === 0) return;
      for (const [model, batch] of groupBy(
        claims,
        (c) => c.model,
        (c) => c,
      ))
        await this.embedBatch(queue, model, batch);
      if (claims.length < this.options.batchSize) return;
    }
  }

  private async embedBatch(
    queue: AnyQueue,
    model: string,
    batch: { id: string; text: string; model: string }[],
  ): Promise<void> {
    let vectors: Float32Array[];
    try {
      const embedder = this.embedders.get(model);
      vectors = await embedder.embed(batch.map((c) => c.text));
      const dim = vectors[0]?.length;
      if (embedder.dim !== undefined && dim !== embedder.dim)
        throw new Error(`${model} returned ${dim}-d vectors, expected ${embedder.dim}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ model, texts: batch.length, error: message }, 'embedding failed; texts stay queued for retry');
      await queue.failEmbedding(
        batch.map((c) => c.id),
        message,
        (attempts) => new Date(Date.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts)).toISOString(),
      );
      return;
    }
    const dim = vectors[0]!.length;
    let dims = this.indexedDims.get(queue);
    if (!dims) this.indexedDims.set(queue, (dims = new Set()));
    if (!dims.has(dim)) {
      await queue.ensureVectorIndex(dim);
      dims.add(dim);
    }
    const stored = await queue.storeVectors(batch.map((claim, i) => ({ claim, vector: vectors[i]! })));
    this.logger.debug({ model, dim, embedded: stored, claimed: batch.length }, 'embedded texts');
  }
}
