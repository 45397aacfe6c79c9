import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/dialect/sqlite.js';
import { migrations } from '../../src/store/migrations/index.js';
import { tempDir } from '../support/cli.js';

describe('migration 0008 (the turn lock moves into runs)', () => {
  it('carries the locks held in turn_locks over to their runs and drops the table', async () => {
    const dir = tempDir('cairn-mig-');
    const dialect = openSqlite(join(dir, 'cairn.db'));
    try {
      const names = Object.keys(migrations).sort();
      for (const name of names.filter((n) => n < '0008')) await migrations[name]!.up(dialect.db, dialect.name);
      // Rows as 0007 left them; agents are not needed to exercise the copy.
      await sql`PRAGMA foreign_keys = OFF`.execute(dialect.db);
      const run = (id: string) =>
        sql`INSERT INTO runs (id, agent_id, status, background, streamed, usage, created_at) VALUES (${id}, 'agent-1', 'running', 0, 0, '{}', '2026-11-24T00:00:00Z')`.execute(
          dialect.db,
        );
      await run('run-held');
      await run('run-free');
      await sql`INSERT INTO turn_locks (agent_id, thread, run_id, created_at) VALUES ('agent-1', 'default', 'run-held', '2026-11-24T00:00:00Z')`.execute(
        dialect.db,
      );

      for (const name of names.filter((n) => n >= '0008')) await migrations[name]!.up(dialect.db, dialect.name);
      const rows = await sql<{
        id: string;
        thread_lock: string | null;
      }>`SELECT id, thread_lock FROM runs ORDER BY id`.execute(dialect.db);
      expect(rows.rows).toEqual([
        { id: 'run-free', thread_lock: null },
        { id: 'run-held', thread_lock: 'agent-1:default' },
      ]);
      const tables = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE name = 'turn_locks'`.execute(
        dialect.db,
      );
      expect(tables.rows).toEqual([]);
      // The lock is unique while held.
      await expect(
        sql`UPDATE runs SET thread_lock = 'agent-1:default' WHERE id = 'run-free'`.execute(dialect.db),
      ).rejects.toThrow(/UNIQUE/);
    } finally {
      await dialect.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
