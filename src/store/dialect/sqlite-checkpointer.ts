import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

const require = createRequire(import.meta.url);

/** How often the worker copies the WAL back into the database file. */
const CHECKPOINT_MS = 200;
/** SQLite's own default: what the connection falls back to if the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;

/**
 * The worker's code, evaluated rather than loaded from a file so the same source runs under the test runner and
 * from the build. PASSIVE never waits for the server's readers or writers; it copies what it can, and the next
 * write transaction starts the WAL over once everything is copied.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Runs SQLite's WAL checkpoints on a worker thread with its own connection. Left to the server's connection, a
 * checkpoint runs inside whichever commit crosses 1,000 WAL pages (every ~20 agent turns): it copies those pages
 * into the database file and fsyncs twice, 1–3 ms on the event loop that one request pays for (docs/benchmarks/2026-11-lab-notebook.md).
 * If the worker cannot start or stops, the connection checkpoints for itself again.
 */
export function startCheckpointer(
  connection: SqliteDatabase.Database,
  file: string,
  onError: (message: string) => void,
): Checkpointer {
  const selfCheckpoint = () => connection.open && connection.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file, intervalMs: CHECKPOINT_MS },
    });
  } catch (error) {
    onError(`WAL checkpoint worker did not start: ${String(error)}`);
    return { stop: async () => {} };
  }
  connection.pragma('wal_autocheckpoint = 0');
  let stopping = false;
  worker.on('message', (message: { error?: string }) => {
    if (message.error) onError(`WAL checkpoint failed: ${message.error}`);
  });
  worker.on('error', (error) => onError(`WAL checkpoint worker failed: ${error.message}`));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      if (!stopping) selfCheckpoint();
      resolve();
    }),
  );
  // The worker must not keep a CLI command or a test process alive.
  worker.unref();
  return {
    stop: async () => {
      stopping = true;
      worker.postMessage('stop');
      await exited;
    },
  };
}
