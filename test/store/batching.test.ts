import { CompiledQuery, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseConfigFor, openDatabase } from '../../src/store/database.js';
import type { Dialect } from '../../src/store/dialect/types.js';
import { openPostgres } from '../../src/store/dialect/postgres.js';
import { createSearchIndexes } from '../../src/search/index.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { queueingKysely } from '../../src/store/batching.js';
import { newId } from '../../src/lib/ids.js';
import { createTestDatabase, startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { runRecord } from '../support/rows.js';
import { DEFAULT_PG_POOL } from '../../src/store/dialect/postgres-pool.js';

/** The writes `build` makes through a queueing Kysely, compiled for `dialect` (an untyped view: the probe table is not in the schema). */
async function queuedBy(dialect: Dialect, build: (db: Kysely<any>) => Promise<unknown>): Promise<CompiledQuery[]> {
  const queued: CompiledQuery[] = [];
  await build(queueingKysely(dialect.kysely, queued) as unknown as Kysely<any>);
  return queued;
}

/** A scratch table the schema types do not know. */
const createProbeTable = (dialect: Dialect) =>
  sql`CREATE TABLE batch_probe (id text PRIMARY KEY, body text, n integer)`.execute(dialect.db);

describe.each(testDialects())('write batches [%s]', (name) => {
  let dialect: Dialect;
  let drop: () => Promise<void>;
  const probe = (db: Kysely<any>) => db.insertInto('batch_probe');

  beforeAll(async () => {
    const database = await createTestDatabase(name);
    drop = database.drop;
    dialect = await openDatabase(databaseConfigFor(database));
    await createProbeTable(dialect);
  });
  afterAll(async () => {
    await dialect.close();
    await drop();
  });

  const queue = (rows: { id: string; body: string | null; n: number | null }[]) =>
    queuedBy(dialect, async (db) => {
      for (const row of rows) await probe(db).values(row).execute();
    });

  it('write every value exactly as it was bound', async () => {
    const awkward = [
      `it's`,
      'back\\slash \\n and \\\\',
      'new\nline\ttab',
      'ünïcødé ✓ 🪨',
      '$1 $2 and ?',
      "'; DROP TABLE batch_probe; --",
      '',
    ];
    const rows: { id: string; body: string | null; n: number | null }[] = awkward.map((body, i) => ({
      id: `v${i}`,
      body,
      n: i - 3,
    }));
    rows.push({ id: 'nulls', body: null, n: null });
    await dialect.runTogether(await queue(rows));
    const stored = await sql<{
      id: string;
      body: string | null;
      n: number | null;
    }>`SELECT id, body, n FROM batch_probe WHERE id LIKE 'v%' OR id = 'nulls' ORDER BY id`.execute(dialect.db);
    expect(stored.rows).toEqual([...rows].sort((a, b) => (a.id < b.id ? -1 : 1)));
  });

  it('are atomic: a failing statement leaves none of the batch behind', async () => {
    const queued = await queue([
      { id: 'a1', body: 'first', n: 1 },
      { id: 'a2', body: 'second', n: 2 },
      { id: 'a1', body: 'duplicate key', n: 3 },
    ]);
    await expect(dialect.runTogether(queued)).rejects.toThrow();
    const stored = await sql<{ id: string }>`SELECT id FROM batch_probe WHERE id IN ('a1', 'a2')`.execute(dialect.db);
    expect(stored.rows).toEqual([]);
    // The connection is usable afterwards.
    await dialect.runTogether(await queue([{ id: 'a3', body: 'after', n: 4 }]));
    expect((await sql<{ id: string }>`SELECT id FROM batch_probe WHERE id = 'a3'`.execute(dialect.db)).rows).toEqual([
      { id: 'a3' },
    ]);
  });

  it('run effects registered with afterCommit once the outermost transaction or batch commits, and never on rollback', async () => {
    const stores = createStores(dialect, createSearchIndexes({ engineIndexesVectors: true }));
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
    const stores = createStores(dialect, createSearchIndexes({ engineIndexesVectors: true }));
    await expect(stores.writeBatch(async (batch) => void (await batch.agents.findById('agent-x')))).rejects.toThrow(
      'a write batch cannot read',
    );
    const db = queueingKysely(dialect.kysely, []) as unknown as Kysely<any>;
    await expect(probe(db).values({ id: 'r1', body: null, n: null }).returning('id').execute()).rejects.toThrow(
      'a write batch cannot read',
    );
  });
});

describe.each(testDialects())('queries made together [%s]', (name) => {
  let t: TestCairn;
  let stores: Stores;
  let isUniqueViolation: (error: unknown) => boolean;
  let isForeignKeyViolation: (error: unknown) => boolean;

  beforeAll(async () => {
    t = await startCairn(name);
    stores = t.cairn.stores;
    isUniqueViolation = (error) => t.cairn.dialect.isUniqueViolation(error);
    isForeignKeyViolation = (error) => t.cairn.dialect.isForeignKeyViolation(error);
  });
  afterAll(() => t.close());

  const createAgent = () =>
    t.cairn.services.agents.create({
      model: 'openai/gpt-4o-mini',
      system: `A prompt with 'quotes', "doubles", \\ and ünïcødé`,
      memory_blocks: [{ label: 'human', value: 'Ada' }],
    });

  it('answer each read with the rows a read on its own returns, and make the write once', async () => {
    const agent = await createAgent();
    const systemId = (JSON.parse((await stores.agents.findById(agent.id))!.message_ids) as string[])[0]!;
    const reads = (s: Stores) =>
      [s.agents.findById(agent.id), s.tools.listForAgents([agent.id]), s.messages.findByIds([systemId])] as const;
    const expected = await Promise.all(reads(stores));
    const runId = newId('run');
    const [, ...read] = await stores.pipelined((s) =>
      Promise.all([s.runs.insert(runRecord({ id: runId, agent_id: agent.id })), ...reads(s)]),
    );
    expect(read).toEqual(expected);
    expect(expected[1].get(agent.id)?.length).toBeGreaterThan(0);
    expect((await stores.runs.list({ agentIds: [agent.id] }, { limit: 10, order: 'asc' })).map((r) => r.id)).toEqual([
      runId,
    ]);
  });

  it('fail every read with the write, which leaves nothing behind', async () => {
    const agent = await createAgent();
    const held = runRecord({ id: newId('run'), agent_id: agent.id });
    await stores.runs.insert(held);
    const second = stores.pipelined((s) =>
      Promise.all([s.runs.insert(runRecord({ id: newId('run'), agent_id: agent.id })), s.agents.findById(agent.id)]),
    );
    await expect(second).rejects.toSatisfy(isUniqueViolation);
    const orphan = newId('run');
    const unknownAgent = stores.pipelined((s) =>
      Promise.all([
        s.runs.insert(runRecord({ id: orphan, agent_id: 'agent-missing' })),
        s.agents.findById('agent-missing'),
      ]),
    );
    await expect(unknownAgent).rejects.toSatisfy(isForeignKeyViolation);
    expect(await stores.runs.findById(orphan)).toBeUndefined();
    expect((await stores.runs.list({ agentIds: [agent.id] }, { limit: 10, order: 'asc' })).map((r) => r.id)).toEqual([
      held.id,
    ]);
  });

  it('run in order, each seeing what the ones before it wrote, and fail together', async () => {
    const agent = await createAgent();
    const first = newId('run');
    const [, seen] = await stores.pipelined((s) =>
      Promise.all([
        s.runs.insert(runRecord({ id: first, agent_id: agent.id, thread_lock: null })),
        s.runs.findById(first),
      ]),
    );
    expect(seen?.id).toBe(first);
    const second = newId('run');
    const clash = stores.pipelined((s) =>
      Promise.all([
        s.runs.insert(runRecord({ id: second, agent_id: agent.id, thread_lock: null })),
        s.runs.insert(runRecord({ id: first, agent_id: agent.id, thread_lock: null })),
      ]),
    );
    await expect(clash).rejects.toSatisfy(isUniqueViolation);
    expect(await stores.runs.findById(second)).toBeUndefined();
  });

  it('run a read that needs another read’s answer on its own, after the others', async () => {
    const agent = await createAgent();
    const found = await stores.pipelined(async (s) => {
      const [, first] = await Promise.all([
        s.runs.insert(runRecord({ id: newId('run'), agent_id: agent.id })),
        s.agents.findById(agent.id),
      ]);
      return s.agents.findById(first!.id);
    });
    expect(found?.id).toBe(agent.id);
  });
});

describe.runIf(testDialects().includes('postgres'))('write batches on one PostgreSQL connection [postgres]', () => {
  let dialect: Dialect;
  let drop: () => Promise<void>;
  const prepared = async () =>
    Number(
      (
        await sql<{ n: string }>`SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'cairn_p%'`.execute(
          dialect.db,
        )
      ).rows[0]!.n,
    );
  // A statement shape per length: `IN` lists of different lengths are different SQL texts.
  const deleteShape = (length: number) =>
    queuedBy(dialect, (db) =>
      db
        .deleteFrom('batch_probe')
        .where(
          'id',
          'in',
          Array.from({ length }, (_, i) => `none-${i}`),
        )
        .execute(),
    );

  beforeAll(async () => {
    const database = await createTestDatabase('postgres');
    drop = database.drop;
    dialect = openPostgres(database.pgUri!, { ...DEFAULT_PG_POOL, size: 1, overflow: 0 });
    await createProbeTable(dialect);
  });
  afterAll(async () => {
    await dialect.close();
    await drop();
  });

  /** Runs `count` statement shapes not run before on the pool's one connection: past 100 the cache is full. */
  const runShapes = async (from: number, count: number) => {
    for (let length = from; length < from + count; length++) await dialect.runTogether(await deleteShape(length));
  };

  it('keep a bounded number of prepared statements, closing the least recently used', async () => {
    await runShapes(1, 130);
    expect(await prepared()).toBe(100);
    // Still answered correctly after evictions, by statements prepared again.
    await dialect.runTogether([...(await deleteShape(1)), ...(await deleteShape(130))]);
    expect(await prepared()).toBe(100);
  });

  it('fail a batch holding a value that cannot be sent before sending any of it, and keep the connection', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const insert = CompiledQuery.raw('INSERT INTO batch_probe (id, body, n) VALUES ($1, $2, $3)', ['unsent', 'x', 1]);
    const unsendable = CompiledQuery.raw('UPDATE batch_probe SET body = $1 WHERE id = $2', [cyclic, 'unsent']);
    await expect(dialect.runTogether([insert, unsendable])).rejects.toThrow(/circular/);
    // The one pooled connection answers at once, and nothing of the batch was written.
    expect(
      (await sql<{ id: string }>`SELECT id FROM batch_probe WHERE id = 'unsent'`.execute(dialect.db)).rows,
    ).toEqual([]);
  });

  it('forget what a failed batch may not have prepared, and leave nothing prepared behind', async () => {
    const insert = (id: string, n: number) =>
      queuedBy(dialect, (db) => db.insertInto('batch_probe').values({ id, body: null, n }).execute());
    await runShapes(500, 101);
    await dialect.runTogether(await insert('taken', 0));
    for (let k = 0; k < 10; k++) {
      // The first new shape is prepared and runs; the insert fails; PostgreSQL skips the second new shape's Parse.
      await expect(
        dialect.runTogether([
          ...(await deleteShape(300 + k)),
          ...(await insert('taken', 1)),
          ...(await deleteShape(400 + k)),
        ]),
      ).rejects.toThrow('duplicate key');
      await dialect.runTogether([...(await deleteShape(400 + k)), ...(await deleteShape(300 + k))]);
    }
    // As many on the server as the connection remembers (the bound, filled above): none leaked.
    expect(await prepared()).toBe(100);
  });
});
