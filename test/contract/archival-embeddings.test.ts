import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';
import { waitForEmbeddings } from '../support/archival.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../support/fake-embeddings.js';
import pino from 'pino';
import { EmbeddingIndexer } from '../../src/services/embedding-indexer.js';

describe.each(testDialects())('archival embeddings [%s]', (dialect) => {
  let server: TestCairn;
  let fake: FakeEmbeddings;
  beforeAll(async () => {
    fake = await startFakeEmbeddings({ dim: 16, apiKey: 'sk-test' });
    // The embedders read provider settings from the server's environment.
    server = await startCairn(
      dialect,
      {},
      {
        CAIRN_EMBEDDING_BASE_URL: `${fake.baseUrl}/v1`,
        CAIRN_EMBEDDING_API_KEY: 'sk-test',
        OPENAI_BASE_URL: `${fake.baseUrl}/v1`,
        OPENAI_API_KEY: 'sk-test',
        OLLAMA_BASE_URL: fake.baseUrl,
      },
    );
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  const url = (path: string) => `${server.baseURL}/v1${path}`;
  const db = () => server.cairn.dialect.db;
  const vectorRows = async (agentId?: string) => {
    const rows = await db()
      .selectFrom('passage_vectors')
      .select(['passage_id', 'model', 'dim', 'archive_id'])
      .execute();
    if (!agentId) return rows;
    const archives = (await server.cairn.stores.archival.archivesOf(agentId)).map((a) => a.id);
    return rows.filter((r) => archives.includes(r.archive_id));
  };
  /** Full-text index rows (SQLite's FTS5 table keeps its own copy; PostgreSQL's GIN index is part of the table). */
  const ftsDocs = async () => {
    if (server.cairn.dialect.name !== 'sqlite') return undefined;
    await sql`INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')`.execute(db());
    const row = await sql<{ n: number }>`SELECT count(*) AS n FROM passages_fts_docsize`.execute(db());
    return Number(row.rows[0]!.n);
  };

  it('lists usable embedding handles, including configured remote providers', async () => {
    const models = await server.client.models.embeddings.list();
    const handles = models.map((m) => m.handle);
    expect(handles).toEqual(
      expect.arrayContaining([
        'local/use-lite',
        'openai/text-embedding-3-small',
        'openai/text-embedding-3-large',
        'ollama/nomic-embed-text',
        'openai-compatible/fake-embed',
      ]),
    );
    expect(handles).not.toContain('ollama/llama3');
    models.forEach((m) => expectLettaSchema('EmbeddingModel', m));
    expect(models.find((m) => m.handle === 'local/use-lite')?.embedding_dim).toBe(512);
  });

  it('embeds through OpenAI, OpenAI-compatible and Ollama protocols', async () => {
    for (const [handle, path] of [
      ['openai/text-embedding-3-small', '/v1/embeddings'],
      ['openai-compatible/fake-embed', '/v1/embeddings'],
      ['ollama/nomic-embed-text', '/api/embed'],
    ] as const) {
      const before = fake.requests.length;
      const vectors = await server.cairn.embedders.get(handle).embed(['red apples', 'green pears', 'red apples']);
      expect(vectors.map((v) => v.length)).toEqual([16, 16, 16]);
      // Order is kept (the fake answers OpenAI requests in reverse index order) and vectors are unit length.
      expect(Array.from(vectors[0]!)).toEqual(Array.from(vectors[2]!));
      expect(Math.hypot(...vectors[1]!)).toBeCloseTo(1, 5);
      const request = fake.requests[before]!;
      expect(request.path).toBe(path);
      expect(request.body.model).toBe(handle.slice(handle.indexOf('/') + 1));
      expect(request.body.input).toEqual(['red apples', 'green pears', 'red apples']);
      if (path === '/v1/embeddings') expect(request.authorization).toBe('Bearer sk-test');
    }
  });

  it('re-embeds an agent whose embedding model changes, and never compares across models', async () => {
    const agent = await server.client.agents.create({ name: 'Switcher', include_base_tools: false });
    await server.client.agents.passages.create(agent.id, { text: 'apples are red and sweet' });
    await server.client.agents.passages.create(agent.id, { text: 'the ocean is deep and blue' });
    await waitForEmbeddings(server, agent.id);
    expect((await vectorRows(agent.id)).map((r) => [r.model, r.dim])).toEqual([
      ['local/use-lite', 512],
      ['local/use-lite', 512],
    ]);

    // Hold the new provider back so the in-between state is observable.
    fake.failures = 1_000;
    await server.client.agents.update(agent.id, { embedding: 'openai-compatible/fake-embed' });
    const during = await http('GET', url(`/agents/${agent.id}/archival-memory/embedding-status`));
    expect(during.body).toMatchObject({ total: 2, pending: 2, embedding: 'openai-compatible/fake-embed' });
    // Old vectors are gone: nothing of the old model can be compared with a query of the new one.
    expect(await vectorRows(agent.id)).toEqual([]);
    // Still lexically findable meanwhile; a hybrid query the new provider cannot embed is an explicit error.
    const lexical = await http('GET', url(`/agents/${agent.id}/archival-memory/search?query=ocean&mode=lexical`));
    expect(lexical.body.results.map((r: { content: string }) => r.content)).toEqual(['the ocean is deep and blue']);
    const hybrid = await http('GET', url(`/agents/${agent.id}/archival-memory/search?query=ocean`));
    expect(hybrid.status).toBe(502);
    expect(hybrid.body.detail).toMatch(/openai-compatible\/fake-embed/);

    fake.failures = 0;
    // The failed attempts pushed the retry out; kick the queue as a restart would, rather than wait the backoff.
    await db()
      .updateTable('passages')
      .set({ embed_next_at: new Date(0).toISOString() })
      .execute();
    server.cairn.indexer.kick();
    await waitForEmbeddings(server, agent.id);
    expect((await vectorRows(agent.id)).map((r) => [r.model, r.dim])).toEqual([
      ['openai-compatible/fake-embed', 16],
      ['openai-compatible/fake-embed', 16],
    ]);
    const archives = await server.client.archives.list({ agent_id: agent.id });
    expect(archives.items[0]!.embedding_config?.handle).toBe('openai-compatible/fake-embed');

    const requestsBefore = fake.requests.length;
    const vector = await http(
      'GET',
      url(
        `/agents/${agent.id}/archival-memory/search?query=${encodeURIComponent('sweet red apples')}&mode=vector&top_k=1`,
      ),
    );
    expect(vector.status).toBe(200);
    expect(vector.body.results[0].content).toBe('apples are red and sweet');
    // The query went to the agent's new model.
    expect(fake.requests.slice(requestsBefore).map((r) => r.body?.model)).toEqual(['fake-embed']);

    // The provider now answers with another dimension under the same handle: an explicit error, not a silent mix.
    fake.dim = 8;
    const mismatch = await http('GET', url(`/agents/${agent.id}/archival-memory/search?query=apples`));
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.detail).toMatch(/16 dimensions.*8/);
    fake.dim = 16;

    // An archive of another model cannot join this agent's searches.
    const other = await server.client.archives.create({ name: 'Local archive', embedding: 'local/use-lite' });
    const attach = await http('PATCH', url(`/agents/${agent.id}/archives/attach/${other.id}`));
    expect(attach.status).toBe(409);
    expect(attach.body.detail).toMatch(/local\/use-lite/);
  });

  it('keeps a passage whose embedding failed lexically searchable and retries it', async () => {
    const agent = await server.client.agents.create({
      name: 'Retry',
      include_base_tools: false,
      embedding: 'openai-compatible/fake-embed',
    });
    fake.failures = 1;
    await server.client.agents.passages.create(agent.id, { text: 'the violin was made in Cremona' });
    // The first attempt fails; the passage is found by words at once.
    await expect
      .poll(async () => (await server.cairn.services.archival.embeddingStatus(agent.id)).failing, { timeout: 5000 })
      .toBe(1);
    expect((await server.client.agents.passages.search(agent.id, { query: 'violin' })).count).toBe(1);
    // The retry (after a 2 s backoff) succeeds without anything else happening.
    await waitForEmbeddings(server, agent.id, 10_000);
    expect(await vectorRows(agent.id)).toHaveLength(1);
    const semantic = await http('GET', url(`/agents/${agent.id}/archival-memory/search?query=violin&mode=vector`));
    expect(semantic.body.count).toBe(1);
  });

  it('leaves no orphan vectors, tags or full-text rows after deleting a passage or an agent', async () => {
    const baselineFts = await ftsDocs();
    const baselineVectors = (await vectorRows()).length;
    const agent = await server.client.agents.create({ name: 'Ephemeral', include_base_tools: false });
    const [kept] = await server.client.agents.passages.create(agent.id, {
      text: 'a passage about lighthouses',
      tags: ['coast'],
    });
    const [gone] = await server.client.agents.passages.create(agent.id, {
      text: 'a passage about windmills',
      tags: ['inland'],
    });
    await waitForEmbeddings(server, agent.id);
    expect((await vectorRows()).length).toBe(baselineVectors + 2);
    if (baselineFts !== undefined) expect(await ftsDocs()).toBe(baselineFts + 2);

    await server.client.agents.passages.delete(gone!.id!, { agent_id: agent.id });
    expect((await vectorRows()).map((r) => r.passage_id)).not.toContain(gone!.id);
    expect(await db().selectFrom('passage_tags').selectAll().where('owner_id', '=', gone!.id!).execute()).toEqual([]);
    if (baselineFts !== undefined) expect(await ftsDocs()).toBe(baselineFts + 1);
    const after = await server.client.agents.passages.search(agent.id, { query: 'windmills', top_k: 10 });
    expect(after.results.map((r) => r.content)).toEqual(['a passage about lighthouses']);

    const [archive] = (await server.client.archives.list({ agent_id: agent.id })).items;
    await server.client.agents.delete(agent.id);
    expect((await vectorRows()).length).toBe(baselineVectors);
    expect(await db().selectFrom('passage_tags').selectAll().where('owner_id', '=', kept!.id!).execute()).toEqual([]);
    expect(await db().selectFrom('passages').selectAll().where('archive_id', '=', archive!.id).execute()).toEqual([]);
    expect(await db().selectFrom('archives').selectAll().where('id', '=', archive!.id).execute()).toEqual([]);
    if (baselineFts !== undefined) expect(await ftsDocs()).toBe(baselineFts);
  });

  it('shares the queue between several indexers (processes) without embedding anything twice', async () => {
    const agent = await server.client.agents.create({
      name: 'Shared queue',
      include_base_tools: false,
      embedding: 'openai-compatible/fake-embed',
    });
    const others = [1, 2].map(
      () =>
        new EmbeddingIndexer(server.cairn.stores, server.cairn.embedders, pino({ level: 'silent' }), {
          pollMs: 20,
          batchSize: 4,
        }),
    );
    others.forEach((i) => i.start());
    const before = fake.requests.length;
    try {
      const texts = Array.from({ length: 40 }, (_, i) => `shared queue item ${i}`);
      await server.cairn.services.archival.insertIntoArchive(
        (await server.cairn.services.archival.defaultArchive(agent.id)).id,
        texts.map((text) => ({ text })),
      );
      await waitForEmbeddings(server, agent.id);
      const embedded = fake.requests.slice(before).flatMap((r) => (r.path === '/v1/embeddings' ? r.body.input : []));
      expect(embedded.sort()).toEqual([...texts].sort());
    } finally {
      await Promise.all(others.map((i) => i.stop()));
    }
  });

  // Last: it stops the server's own indexer.
  it('resumes the queue from the database after a restart', async () => {
    const agent = await server.client.agents.create({
      name: 'Restart',
      include_base_tools: false,
      embedding: 'openai-compatible/fake-embed',
    });
    // The process "dies" before embedding: its indexer is stopped, the write still commits.
    await server.cairn.indexer.stop();
    await server.client.agents.passages.create(agent.id, { text: 'queued before the restart' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await server.cairn.services.archival.embeddingStatus(agent.id)).toMatchObject({ pending: 1, embedded: 0 });
    // A new process's indexer (same database, nothing in memory) picks it up.
    const restarted = new EmbeddingIndexer(server.cairn.stores, server.cairn.embedders, pino({ level: 'silent' }), {
      pollMs: 100,
    });
    restarted.start();
    try {
      await waitForEmbeddings(server, agent.id);
      expect(await vectorRows(agent.id)).toHaveLength(1);
    } finally {
      await restarted.stop();
    }
  });
});
