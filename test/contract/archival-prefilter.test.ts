import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { searchView } from '../../src/store/archival.store.js';
import { MIN_INDEXED_VECTORS } from '../../src/search/vector-prefilter.js';

/**
 * SQLite's in-process binary prefilter (src/store/dialect/sqlite-vector-index.ts) only takes over in archives
 * of MIN_INDEXED_VECTORS or more, which the REST tests never reach: here the store is filled directly.
 * PostgreSQL has no prefilter (HNSW), hence SQLite only.
 */
describe.each(testDialects().filter((d) => d === 'sqlite'))('archival vector prefilter [%s]', (dialect) => {
  let server: TestCairn;
  let archiveId: string;
  const DIM = 64;
  const MODEL = 'local/use-lite';
  let rng = 7;
  const random = () => {
    rng = (rng * 1103515245 + 12345) % 2 ** 31;
    return rng / 2 ** 31 - 0.5;
  };
  const unit = (v: number[]) => {
    const norm = Math.hypot(...v);
    return Float32Array.from(v, (x) => x / norm);
  };
  // Clusters around random centres, so the exact top 10 of a query near a centre is well defined.
  const centres = Array.from({ length: 60 }, () => Array.from({ length: DIM }, random));
  const near = (c: number, spread: number) => unit(centres[c]!.map((x) => x + spread * random()));
  const store = () => server.cairn.stores.archival;
  const db = () => server.cairn.dialect.db;

  /** In batches of 500: a single insert statement binds at most 32,766 values. */
  async function add(texts: string[], vectors: Float32Array[], model = MODEL): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < texts.length; i += 500)
      ids.push(...(await addBatch(texts.slice(i, i + 500), vectors.slice(i, i + 500), model)));
    return ids;
  }

  async function addBatch(texts: string[], vectors: Float32Array[], model: string): Promise<string[]> {
    const now = new Date().toISOString();
    const rows = texts.map((text) => ({
      id: `passage-${Math.random().toString(36).slice(2)}`,
      archive_id: archiveId,
      text,
      metadata: '{}',
      created_at: now,
      updated_at: now,
      embed_status: 'ready' as const,
      embed_attempts: 0,
      embed_next_at: now,
      embed_lease_until: null,
      embed_error: null,
    }));
    await store().insertPassages(rows, []);
    await store().storeVectors(
      rows.map((r, i) => ({ claim: { id: r.id, archive_id: archiveId, text: r.text, model }, vector: vectors[i]! })),
    );
    return rows.map((r) => r.id);
  }

  /** The exact answer: every vector of the model scored with vec_distance_cosine. */
  async function exact(vector: Float32Array, k: number, model = MODEL): Promise<number[]> {
    const blob = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    const rows = await sql<{ seq: number }>`SELECT p.seq FROM passage_vectors v JOIN passages p ON p.id = v.passage_id
      WHERE v.archive_id = ${archiveId} AND v.model = ${model} ORDER BY vec_distance_cosine(v.embedding, ${blob}) LIMIT ${k}`.execute(
      db(),
    );
    return rows.rows.map((r) => Number(r.seq));
  }
  const nearest = async (vector: Float32Array, k: number, model = MODEL) =>
    (await store().nearest(model, vector, { archiveIds: [archiveId] }, k)).map((r) => r.seq);

  beforeAll(async () => {
    server = await startCairn(dialect);
    const agent = await server.client.agents.create({ name: 'prefilter', include_base_tools: false } as never);
    archiveId = (await server.cairn.services.archival.defaultArchive(agent.id)).id;
    const n = MIN_INDEXED_VECTORS + 1000;
    const vectors = Array.from({ length: n }, (_, i) => near(i % centres.length, 0.6));
    await add(
      vectors.map((_, i) => `passage ${i}`),
      vectors,
    );
  }, 60_000);
  afterAll(async () => {
    await server.close();
  });

  it('is used on a large archive and returns the exact top k with exact scores', async () => {
    const query = near(3, 0.3);
    const candidates = await server.cairn.search.vectors!.candidates(searchView(db()), [archiveId], MODEL, query, 400);
    expect(candidates).toHaveLength(400);
    expect(await nearest(query, 10)).toEqual(await exact(query, 10));
    const [best] = await store().nearest(MODEL, query, { archiveIds: [archiveId] }, 1);
    const blob = Buffer.from(query.buffer, query.byteOffset, query.byteLength);
    const { rows } = await sql<{
      d: number;
    }>`SELECT vec_distance_cosine(v.embedding, ${blob}) AS d FROM passage_vectors v JOIN passages p ON p.id = v.passage_id WHERE p.seq = ${best!.seq}`.execute(
      db(),
    );
    expect(best!.score).toBeCloseTo(1 - rows[0]!.d, 6);
  });

  it('sees new vectors at once, and never returns deleted ones', async () => {
    const query = near(11, 0.3);
    await nearest(query, 10);
    const [added] = await add(['the same as the query'], [query]);
    const top = await nearest(query, 10);
    const addedSeq = (await store().findPassage(added!))!.seq;
    expect(top[0]).toBe(addedSeq);
    expect(top).toEqual(await exact(query, 10));

    await store().deletePassage(added!);
    const after = await nearest(query, 10);
    expect(after).not.toContain(addedSeq);
    expect(after).toEqual(await exact(query, 10));
  });

  it('never compares vectors of another model, also after the archive switches model', async () => {
    const query = near(20, 0.3);
    expect(await nearest(query, 5, 'openai/text-embedding-3-small')).toEqual([]);
    await store().requeue([archiveId], 'openai/text-embedding-3-small', new Date().toISOString());
    expect(await nearest(query, 5)).toEqual([]);
    await store().updateArchive(archiveId, { embedding: 'openai/text-embedding-3-small' });
    const vectors = Array.from({ length: MIN_INDEXED_VECTORS }, (_, i) => near(i % centres.length, 0.6));
    await add(
      vectors.map((_, i) => `other model ${i}`),
      vectors,
      'openai/text-embedding-3-small',
    );
    expect(await nearest(query, 5)).toEqual([]);
    const other = await nearest(query, 10, 'openai/text-embedding-3-small');
    expect(other).toHaveLength(10);
    expect(other).toEqual(await exact(query, 10, 'openai/text-embedding-3-small'));
  });
});
