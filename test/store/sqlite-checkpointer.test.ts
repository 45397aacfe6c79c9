import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';

describe('SQLite WAL checkpoints', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('run on a worker thread, not in the server connection’s commits, and the WAL is gone after close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-ckpt-'));
    dirs.push(dir);
    const file = join(dir, 'cairn.db');
    const errors: Error[] = [];
    const dialect = await openDatabase({ kind: 'sqlite', file }, (error) => errors.push(error));
    const autocheckpoint = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(dialect.db);
    expect(autocheckpoint.rows[0]!.wal_autocheckpoint).toBe(0);

    // ~3,000 WAL pages: past the 1,000 at which the connection would have checkpointed inside one of these commits.
    await sql`CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`.execute(dialect.db);
    for (let i = 0; i < 60; i++) {
      await dialect.db.transaction().execute(async (tx) => {
        for (let j = 0; j < 50; j++) await sql`INSERT INTO filler (body) VALUES (${'x'.repeat(3500)})`.execute(tx);
      });
    }
    // A third connection sees every frame of the WAL already copied into the database file by the worker.
    const observer = new SqliteDatabase(file);
    let state = { log: -1, checkpointed: -2 };
    for (let attempt = 0; attempt < 50 && state.log !== state.checkpointed; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const [row] = observer.pragma('wal_checkpoint(NOOP)') as { busy: number; log: number; checkpointed: number }[];
      state = row!;
    }
    observer.close();
    expect(state.log).toBeGreaterThan(0);
    expect(state.checkpointed).toBe(state.log);

    await dialect.close();
    expect(errors).toEqual([]);
    expect(existsSync(`${file}-wal`)).toBe(false);
    const reopened = new SqliteDatabase(file, { readonly: true });
    expect(reopened.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: 3000 });
    reopened.close();
  });
});
