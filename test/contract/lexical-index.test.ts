import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createCairn, type Cairn } from '../../src/server.js';
import type { PassageRecord } from '../../src/store/archival.store.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';

/**
 * The in-process BM25 index (src/store/lexical-index.ts) answers unfiltered lexical searches; the engine's own
 * full-text index answers filtered ones. These tests check that the index ranks as FTS5 does, and that it follows
 * every write: its own, another process's, deletes, and (PostgreSQL) a transaction that commits a lower seq late.
 */
describe.each(testDialects())('archival lexical index [%s]', (dialect) => {
  let server: TestCairn;
  let other: Cairn;
  let archiveId: string;
  const store = () => server.cairn.stores.archival;

  const vocabulary = (
    'garden hiking painting pottery camping violin guitar adoption counseling school family friends dog cat ' +
    'beach mountain museum concert festival recipe baking running marathon library novel poetry sunset lake bicycle'
  ).split(' ');
  let rng = 11;
  const pick = () => {
    rng = (rng * 1103515245 + 12345) % 2 ** 31;
    return vocabulary[rng % vocabulary.length]!;
  };
  const sentence = () => Array.from({ length: 4 + (rng % 9) }, pick).join(' ');

  function rows(texts: string[], createdAt = new Date().toISOString()): Omit<PassageRecord, 'seq'>[] {
    return texts.map((text) => ({
      id: `passage-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
      archive_id: archiveId,
      text,
      metadata: '{}',
      created_at: createdAt,
      updated_at: createdAt,
      embed_status: 'pending' as const,
      embed_attempts: 0,
      embed_next_at: '9999-01-01T00:00:00.000Z',
      embed_lease_until: null,
      embed_error: null,
    }));
  }
  const indexed = (
    terms: string[],
    k = 10,
    stores = server.cairn.stores,
    range: { start?: string; end?: string } = {},
  ) => stores.archival.lexical(terms, [{ archiveIds: [archiveId], ...range }], k).then(([ranked]) => ranked!);
  /** The engine's own full-text ranking (FTS5 BM25 / ts_rank_cd), straight from the dialect. */
  async function engine(
    terms: string[],
    k = 10,
    range: { start?: string; end?: string } = {},
  ): Promise<{ seq: number; score: number }[]> {
    const rows = await (server.cairn.dialect.db as Kysely<any>)
      .selectFrom(server.cairn.dialect.search.textMatches('passages', terms).as('m'))
      .innerJoin('passages', 'passages.seq', 'm.seq')
      .select(['m.seq as seq', 'm.score as score'])
      .where('passages.archive_id', '=', archiveId)
      .$if(range.start !== undefined, (q) => q.where('passages.created_at', '>=', range.start!))
      .$if(range.end !== undefined, (q) => q.where('passages.created_at', '<=', range.end!))
      .orderBy('m.score', 'desc')
      .orderBy('m.seq', 'desc')
      .limit(k)
      .execute();
    return rows.map((r) => ({ seq: Number(r.seq), score: Number(r.score) }));
  }
  const seqOf = async (id: string) => (await store().findPassage(id))!.seq;

  beforeAll(async () => {
    server = await startCairn(dialect);
    const agent = await server.client.agents.create({ name: 'lexical', include_base_tools: false } as never);
    archiveId = (await server.cairn.services.archival.defaultArchive(agent.id)).id;
    // One passage an hour from 2024-01-01, so date ranges select part of the archive.
    const corpus = Array.from(
      { length: 3000 },
      (_, i) => rows([sentence()], new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString())[0]!,
    );
    // In batches: SQLite binds at most 32,766 values per statement.
    for (let i = 0; i < corpus.length; i += 500) await store().insertPassages(corpus.slice(i, i + 500), []);
    // A second server on the same database: another process as far as the index can tell.
    other = await createCairn(
      {
        ...loadConfig(
          { port: 0, host: '127.0.0.1', dataDir: server.config.dataDir },
          { LETTA_PG_URI: server.config.pgUri },
        ),
      },
      createLogger('silent'),
    );
  }, 60_000);
  afterAll(async () => {
    await other?.close();
    await server.close();
  });

  it.runIf(dialect === 'sqlite')('ranks as FTS5 BM25 does, scores included', async () => {
    for (const terms of [
      ['painting'],
      ['hiking', 'violins'],
      ['adoption', 'counseling', 'school'],
      ['dog', 'sunset', 'marathon', 'poetry'],
    ]) {
      const fast = await indexed(terms, 20);
      const reference = await engine(terms, 20);
      expect(fast.map((r) => r.seq)).toEqual(reference.map((r) => r.seq));
      fast.forEach((r, i) => expect(r.score).toBeCloseTo(reference[i]!.score, 9));
    }
  });

  it.runIf(dialect === 'sqlite')('ranks within a date range as FTS5 does with the same filter', async () => {
    const range = { start: '2024-01-10T00:00:00.000Z', end: '2024-01-20T12:00:00.000Z' };
    for (const terms of [['painting'], ['beach', 'sunset', 'concert']]) {
      const fast = await indexed(terms, 20, server.cairn.stores, range);
      expect(fast).toHaveLength(20);
      expect(fast.map((r) => r.seq)).toEqual((await engine(terms, 20, range)).map((r) => r.seq));
    }
    expect(await indexed(['painting'], 20, server.cairn.stores, { start: '2030-01-01T00:00:00.000Z' })).toEqual([]);
  });

  it('ranks several date ranges of one search in one pass, each as it would alone', async () => {
    const period = { start: '2024-01-10T00:00:00.000Z', end: '2024-01-20T12:00:00.000Z' };
    const terms = ['beach', 'sunset', 'concert'];
    const [whole, inPeriod] = await server.cairn.stores.archival.lexical(
      terms,
      [{ archiveIds: [archiveId] }, { archiveIds: [archiveId], ...period }],
      20,
    );
    expect(whole).toEqual(await indexed(terms, 20));
    expect(inPeriod).toEqual(await indexed(terms, 20, server.cairn.stores, period));
    expect(inPeriod!.length).toBeGreaterThan(0);
    expect(inPeriod).not.toEqual(whole);
  });

  it('finds what the engine finds, and nothing for unknown words', async () => {
    const fast = await indexed(['pottery', 'festival'], 50);
    const reference = new Set((await engine(['pottery', 'festival'], 3000)).map((r) => r.seq));
    expect(fast).toHaveLength(50);
    for (const r of fast) expect(reference.has(r.seq)).toBe(true);
    expect(await indexed(['zeppelin'])).toEqual([]);
  });

  it('sees a write at once, from this process or another, and never returns a deleted passage', async () => {
    await indexed(['quokka']);
    const [mine] = rows(['a quokka smiled at the camera']);
    await store().insertPassages([mine!], []);
    expect((await indexed(['quokka'])).map((r) => r.seq)).toEqual([await seqOf(mine!.id)]);

    // The other server built its own index before this write.
    expect(await indexed(['quokka'], 10, other.stores)).toHaveLength(1);
    const [theirs] = rows(['two quokka friends at the beach']);
    await other.stores.archival.insertPassages([theirs!], []);
    expect(await indexed(['quokka'])).toHaveLength(2);

    await other.stores.archival.deletePassage(mine!.id);
    expect((await indexed(['quokka'])).map((r) => r.seq)).toEqual([await seqOf(theirs!.id)]);
    expect((await indexed(['quokka'], 10, other.stores)).map((r) => r.seq)).toEqual([await seqOf(theirs!.id)]);
  });

  it('keeps its ranking exact after many deletes (tombstones, then a rebuild)', async () => {
    const victims = (await indexed(['guitar'], 400)).slice(0, 300);
    await indexed(['guitar']);
    for (const victim of victims.slice(0, 100)) {
      const row = await server.cairn.dialect.db
        .selectFrom('passages')
        .select('id')
        .where('seq', '=', victim.seq)
        .executeTakeFirstOrThrow();
      await store().deletePassage(row.id);
    }
    const afterSome = await indexed(['guitar'], 20);
    expect(afterSome.map((r) => r.seq)).not.toContain(victims[0]!.seq);
    if (dialect === 'sqlite')
      expect(afterSome.map((r) => r.seq)).toEqual((await engine(['guitar'], 20)).map((r) => r.seq));
    await server.cairn.dialect.db
      .deleteFrom('passages')
      .where(
        'seq',
        'in',
        victims.slice(100).map((v) => v.seq),
      )
      .execute();
    const afterMany = await indexed(['guitar', 'beach'], 20);
    const gone = new Set(victims.map((v) => v.seq));
    for (const r of afterMany) expect(gone.has(r.seq)).toBe(false);
    if (dialect === 'sqlite')
      expect(afterMany.map((r) => r.seq)).toEqual((await engine(['guitar', 'beach'], 20)).map((r) => r.seq));
  });

  it('does not absorb the writes of a transaction that rolls back', async () => {
    await indexed(['narwhal']);
    await expect(
      server.cairn.stores.transaction(async (tx) => {
        await tx.archival.insertPassages(rows(['a narwhal in the harbour']), []);
        // Inside the transaction its own write is found (through the engine's index)...
        expect(await indexed(['narwhal'], 10, tx)).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    // ...and after the rollback it is gone, also from the in-process index.
    expect(await indexed(['narwhal'])).toEqual([]);
  });

  it.runIf(dialect === 'postgres')(
    'finds a passage whose transaction committed a lower seq after a higher one was indexed',
    async () => {
      const db = server.cairn.dialect.db;
      // What a slow transaction does: it draws its seq, then a faster one draws and commits a higher seq.
      const { rows: drawn } = await sql<{ seq: string }>`SELECT nextval('passages_seq_seq') AS seq`.execute(db);
      const [late] = rows(['an axolotl that took its time']);
      const [early] = rows(['an axolotl in a hurry']);
      await store().insertPassages([early!], []);
      expect((await indexed(['axolotl'])).map((r) => r.seq)).toEqual([await seqOf(early!.id)]);
      await db
        .insertInto('passages')
        .values({ ...late!, seq: Number(drawn[0]!.seq) } as never)
        .execute();
      expect(await seqOf(late!.id)).toBeLessThan(await seqOf(early!.id));
      expect((await indexed(['axolotl'])).map((r) => r.seq).sort()).toEqual(
        [await seqOf(late!.id), await seqOf(early!.id)].sort(),
      );
    },
  );
});
