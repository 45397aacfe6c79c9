import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * A pool of warm worker threads for sandboxed runs. A worker that has run a tool is reused only for the same
 * isolation key (same tool source, requirements and environment), so one tool can never observe or tamper with the
 * interpreter another tool ran in; any other key gets a worker that never ran anything. A worker that times out,
 * crashes or exceeds its memory is terminated and replaced, and the run ends with an outcome saying which.
 */
export interface WorkerPoolOptions {
  /** Inline worker source (CommonJS, run with `eval`), so it works from src/ and dist/ alike. */
  source: string;
  workerData: unknown;
  /** Most workers alive at once; runs beyond it wait. */
  size: number;
  /** Workers booted ahead of the first run. */
  warm: number;
  resourceLimits: ResourceLimits;
}

export type WorkerOutcome =
  { kind: 'done'; value: unknown } | { kind: 'timeout' } | { kind: 'crashed'; error: string } | { kind: 'closed' };

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  isReady: boolean;
  /** null until the worker runs a tool; from then on it only runs runs of that key. */
  key: string | null;
  busy: boolean;
  finish: ((outcome: WorkerOutcome) => void) | null;
}

interface Waiter {
  key: string;
  resume: (slot: Slot | null) => void;
}

let nextRunId = 1;

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly waiters: Waiter[] = [];
  private closed = false;
  /** Set when a worker could not boot: no more are booted ahead until one boots again, or this would spin. */
  private bootFailing = false;

  constructor(private readonly options: WorkerPoolOptions) {
    for (let i = 0; i < Math.min(options.warm, options.size); i += 1) this.spawn();
  }

  /** Workers alive now (for tests and metrics). */
  get workerCount(): number {
    return this.slots.size;
  }

  /** `discard` says, from a finished run's value, that its worker must not be reused. */
  async exec(
    key: string,
    payload: unknown,
    timeoutMs: number,
    discard: (value: unknown) => boolean = () => false,
  ): Promise<WorkerOutcome> {
    const slot = await this.acquire(key);
    if (!slot) return { kind: 'closed' };
    try {
      await slot.ready;
    } catch (error) {
      await this.retire(slot);
      return { kind: 'crashed', error: error instanceof Error ? error.message : String(error) };
    }
    slot.key = key;
    const outcome = await new Promise<WorkerOutcome>((resolve) => {
      // The clock starts when the tool starts: queueing and booting an interpreter are not the tool's time.
      const timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
      slot.finish = (result) => {
        clearTimeout(timer);
        resolve(result);
      };
      slot.worker.postMessage({ type: 'run', id: nextRunId++, payload });
    });
    slot.finish = null;
    if (outcome.kind === 'done' && !discard(outcome.value)) this.release(slot);
    else void this.retire(slot);
    return outcome;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.resume(null);
    await Promise.all([...this.slots].map((slot) => this.retire(slot)));
  }

  private spawn(): Slot {
    const worker = new Worker(this.options.source, {
      eval: true,
      workerData: this.options.workerData,
      resourceLimits: this.options.resourceLimits,
      // A worker gets none of the server's environment variables.
      env: {},
      stdout: true,
      stderr: true,
    });
    // Nothing a tool prints reaches the server's own output; the worker reports output in its messages.
    worker.stdout.resume();
    worker.stderr.resume();
    let markReady!: () => void;
    let failBoot!: (error: Error) => void;
    const slot: Slot = {
      worker,
      ready: new Promise<void>((resolve, reject) => {
        markReady = resolve;
        failBoot = reject;
      }),
      isReady: false,
      key: null,
      busy: false,
      finish: null,
    };
    slot.ready.catch(() => undefined);
    worker.on('message', (message: { type: string; value?: unknown; error?: string }) => {
      if (message.type === 'ready') {
        slot.isReady = true;
        this.bootFailing = false;
        markReady();
      } else if (message.type === 'done') slot.finish?.({ kind: 'done', value: message.value });
      else if (message.type === 'boot-failed') {
        this.bootFailing = true;
        failBoot(new Error(message.error ?? 'the sandbox failed to start'));
      }
    });
    const onGone = (error: string) => {
      failBoot(new Error(error));
      slot.finish?.({ kind: 'crashed', error });
      if (this.slots.delete(slot)) this.dispatch();
    };
    worker.on('error', (error) => onGone(`${error.name}: ${error.message}`));
    worker.on('exit', (code) => onGone(`the sandbox worker exited (code ${code})`));
    this.slots.add(slot);
    return slot;
  }

  private acquire(key: string): Promise<Slot | null> {
    if (this.closed) return Promise.resolve(null);
    const slot = this.pick(key);
    if (slot) return Promise.resolve(slot);
    return new Promise((resume) => this.waiters.push({ key, resume }));
  }

  /** Same key first, then a worker that never ran a tool, then a new one, then one of another key replaced. */
  private pick(key: string): Slot | null {
    const idle = [...this.slots].filter((s) => !s.busy);
    let slot = idle.find((s) => s.key === key) ?? idle.find((s) => s.key === null && s.isReady);
    slot ??= idle.find((s) => s.key === null);
    if (!slot && this.slots.size < this.options.size) slot = this.spawn();
    if (!slot) {
      const other = idle[0];
      if (!other) return null;
      void this.retire(other);
      slot = this.spawn();
    }
    slot.busy = true;
    return slot;
  }

  private release(slot: Slot): void {
    slot.busy = false;
    this.dispatch();
  }

  private dispatch(): void {
    if (this.closed) return;
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0] as Waiter;
      const slot = this.pick(waiter.key);
      if (!slot) return;
      this.waiters.shift();
      waiter.resume(slot);
    }
    // Keep the warm floor of never-used workers, so the next new tool does not wait for a boot.
    const pristine = [...this.slots].filter((s) => s.key === null && !s.busy).length;
    if (!this.bootFailing && pristine < this.options.warm && this.slots.size < this.options.size) this.spawn();
  }

  private async retire(slot: Slot): Promise<void> {
    this.slots.delete(slot);
    await slot.worker.terminate();
    this.dispatch();
  }
}
