import type { Logger } from 'pino';
import type { ChunkSource, RunChunk } from '../domain/turns.js';
import type { Stores } from '../store/index.js';

const FLUSH_MS = 50;
const FLUSH_COUNT = 50;

/**
 * The chunk log of one live run in this process: numbers chunks from 1, hands them to local subscribers at once
 * and appends them to `run_chunks` in small batches so any process can replay or follow the run (§6.7).
 */
export class LiveRun {
  private readonly chunks: RunChunk[] = [];
  private readonly listeners = new Set<(chunk: RunChunk | null) => void>();
  private unflushed: RunChunk[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** After `finishInto`: the remaining chunks wait for its transaction. */
  private held = false;
  /** The run's final chunks: written by `finishInto`, shown to subscribers by `publishFinal`. */
  private staged: RunChunk[] = [];
  done = false;

  constructor(
    readonly runId: string,
    private readonly stores: Stores,
    private readonly persist: boolean,
    private readonly logger: Logger,
  ) {}

  push(payload: Record<string, unknown>): void {
    const chunk = this.chunkOf(payload, this.chunks.length + 1);
    this.chunks.push(chunk);
    for (const l of this.listeners) l(chunk);
    if (!this.persist) return;
    this.unflushed.push(chunk);
    if (this.held) return;
    if (this.unflushed.length >= FLUSH_COUNT) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  private chunkOf(payload: Record<string, unknown>, seqId: number): RunChunk {
    return {
      seqId,
      data: JSON.stringify({ ...payload, run_id: this.runId, seq_id: seqId }),
      error: payload.message_type === 'error_message',
    };
  }

  get lastSeqId(): number {
    return this.chunks.length;
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.unflushed;
    this.unflushed = [];
    if (batch.length === 0) return this.writing;
    this.writing = this.writing.then(() =>
      this.stores.runs
        .appendChunks(this.runId, batch)
        .catch((error: unknown) =>
          this.logger.error({ err: error, runId: this.runId }, 'storing stream chunks failed'),
        ),
    );
    return this.writing;
  }

  /**
   * Writes, in `tx` (the transaction that records the run's end), the chunks not stored yet and the run's final
   * chunks, so a follower in another process sees the final chunks and the final status together. Subscribers get
   * the final chunks from `publishFinal`, once `tx` has committed; if it fails, nothing was shown or lost, and this
   * can run again with other final chunks.
   */
  async finishInto(tx: Stores, finals: Record<string, unknown>[]): Promise<void> {
    this.held = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Batches must reach the database in order.
    await this.writing;
    this.staged = finals.map((payload, i) => this.chunkOf(payload, this.chunks.length + 1 + i));
    if (this.persist) await tx.runs.appendChunks(this.runId, [...this.unflushed, ...this.staged]);
  }

  /** After `finishInto`'s transaction committed. */
  publishFinal(): void {
    this.unflushed = [];
    for (const chunk of this.staged) {
      this.chunks.push(chunk);
      for (const l of this.listeners) l(chunk);
    }
    this.staged = [];
  }

  async close(): Promise<void> {
    await this.flush();
    this.done = true;
    for (const l of this.listeners) l(null);
    this.listeners.clear();
  }

  /** Chunks after `afterSeqId`, then every later one as it comes; `null` ends the stream. */
  /** The run's chunks after `afterSeqId`, as a stream writer consumes them: each chunk, then the end. */
  source(afterSeqId: number): ChunkSource {
    return { start: (emit, end) => this.subscribe(afterSeqId, (chunk) => (chunk ? emit(chunk) : end())) };
  }

  subscribe(afterSeqId: number, listener: (chunk: RunChunk | null) => void): () => void {
    for (const c of this.chunks) if (c.seqId > afterSeqId) listener(c);
    if (this.done) {
      listener(null);
      return () => {};
    }
    const wrapped = (c: RunChunk | null) => {
      if (c === null || c.seqId > afterSeqId) listener(c);
    };
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Follows a run from the database (a run owned by another process, or finished): replays stored chunks after the
 * cursor, then polls until the final chunk arrives. A run that ended without final chunks (its process died) gets
 * a synthesized `stop_reason` so clients never wait forever.
 */
export async function followStoredRun(
  stores: Stores,
  runId: string,
  afterSeqId: number,
  options: { pollMs: number; batchSize: number; signal: AbortSignal },
  emit: (chunk: RunChunk) => void,
): Promise<void> {
  let cursor = afterSeqId;
  let idleAfterEnd = 0;
  while (!options.signal.aborted) {
    const rows = await stores.runs.readChunks(runId, cursor, options.batchSize);
    for (const row of rows) {
      cursor = row.seq_id;
      const parsed = JSON.parse(row.data) as { message_type?: string };
      emit({ seqId: row.seq_id, data: row.data, error: parsed.message_type === 'error_message' });
      if (parsed.message_type === 'usage_statistics' || parsed.message_type === 'error_message') return;
    }
    if (rows.length === options.batchSize) continue;
    const run = await stores.runs.findById(runId);
    if (!run) return;
    if (TERMINAL.has(run.status)) {
      // The owner writes its final chunks right after the status; give it a moment before synthesizing them.
      if (++idleAfterEnd > Math.max(3, Math.ceil(2000 / options.pollMs))) {
        emit({
          seqId: cursor + 1,
          data: JSON.stringify({
            message_type: 'stop_reason',
            stop_reason: run.stop_reason ?? 'error',
            run_id: runId,
            seq_id: cursor + 1,
          }),
          error: false,
        });
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}
