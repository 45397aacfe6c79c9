import { sql, type CompiledQuery, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseConfigFor, openDatabase } from '../../src/store/database.js';
import type { Dialect } from '../../src/store/dialect/types.js';
import { createStores } from '../../src/store/index.js';
import { queueingKysely } from '../../src/store/write-batch.js';
import { createTestDatabase, testDialects } from '../support/cairn.js';

describe.each(testDialects())('write batches [%s]', (name) => {
  let dialect: Dialect;
  let drop: () => Promise<void>;
  // A scratch table the schema types do not know: reached through an untyped view of the batch's Kysely.
  const probe = (db: Kysely<any>) => db.insertInto('batch_probe');

  beforeAll(async () => {
    const database = await createTestDatabase(name);
    drop = database.drop;
    dialect = await openDatabase(databaseConfigFor(database));
    await sql`CREATE TABLE batch_probe (id text PRIMARY KEY, body text, n integer)`.execute(dialect.db);
  });
  afterAll(async () => {
    await dialect.close();
    await drop();
  });

  const queue = async (rows: { id: string; body: string | null; n: number | null }[]): Promise<CompiledQuery[]> => {
    const queued: CompiledQuery[] = [];
    const db = queueingKysely(dialect.kysely, queued) as unknown as Kysely<any>;
    for (const row of rows) await probe(db).values(row).execute();
    return queued;
  };

  it('write every value exactly as bound parameters would (PostgreSQL inlines them as literals)', async () => {
    const awkward = [`it's`, 'back\\slash \\n and \\\\', 'new\nline\ttab', 'ünïcødé ✓ 🪨', '$1 $2 and ?', "'; DROP TABLE batch_probe; --", ''];
    const rows: { id: string; body: string | null; n: number | null }[] = awkward.map((body, i) => ({ id: `v${i}`, body, n: i - 3 }));
    rows.push({ id: 'nulls', body: null, n: null });
    await dialect.runWrites(await queue(rows));
    const stored = await sql<{ id: string; body: string | null; n: number | null }>`SELECT id, body, n FROM batch_probe WHERE id LIKE 'v%' OR id = 'nulls' ORDER BY id`.execute(dialect.db);
    expect(stored.rows).toEqual([...rows].sort((a, b) => (a.id < b.id ? -1 : 1)));
  });

  it('are atomic: a failing statement leaves none of the batch behind', async () => {
    const queued = await queue([
      { id: 'a1', body: 'first', n: 1 },
      { id: 'a2', body: 'second', n: 2 },
      { id: 'a1', body: 'duplicate key', n: 3 },
    ]);
    await expect(dialect.runWrites(queued)).rejects.toThrow();
    const stored = await sql<{ id: string }>`SELECT id FROM batch_probe WHERE id IN ('a1', 'a2')`.execute(dialect.db);
    expect(stored.rows).toEqual([]);
    // The connection is usable afterwards.
    await dialect.runWrites(await queue([{ id: 'a3', body: 'after', n: 4 }]));
    expect((await sql<{ id: string }>`SELECT id FROM batch_probe WHERE id = 'a3'`.execute(dialect.db)).rows).toEqual([{ id: 'a3' }]);
  });

  it('run effects registered with afterCommit once the outermost transaction or batch commits, and never on rollback', async () => {
    const stores = createStores(dialect);
    const log: string[] = [];
    await stores.transaction(async (tx) => {
      await tx.transaction(async (inner) => inner.afterCommit(() => log.push('nested')));
      tx.afterCommit(() => log.push('outer'));
      log.push('before commit');
    });
    await expect(
      stores.transaction(async (tx) => {
        tx.afterCommit(() => log.push('rolled back'));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await stores.writeBatch(async (batch) => batch.afterCommit(() => log.push('batch')));
    stores.afterCommit(() => log.push('no transaction'));
    expect(log).toEqual(['before commit', 'nested', 'outer', 'batch', 'no transaction']);
  });

  it('refuse reads, which would have nothing to answer with', async () => {
    const stores = createStores(dialect);
    await expect(stores.writeBatch(async (batch) => void (await batch.agents.findById('agent-x')))).rejects.toThrow('a write batch cannot read');
    const db = queueingKysely(dialect.kysely, []) as unknown as Kysely<any>;
    await expect(probe(db).values({ id: 'r1', body: null, n: null }).returning('id').execute()).rejects.toThrow('a write batch cannot read');
  });
});
