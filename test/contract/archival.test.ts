import { NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';
import { waitForEmbeddings } from '../support/archival.js';

describe.each(testDialects())('archival memory [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  const url = (path: string) => `${server.baseURL}/v1${path}`;

  it('creates one passage per insert in a default archive, lists and deletes through the SDK', async () => {
    const agent = await server.client.agents.create({ name: 'Archivist', include_base_tools: false });
    const created = await server.client.agents.passages.create(agent.id, {
      text: 'The launch code is tulip.',
      tags: ['secret', 'ops'],
    });
    expect(created).toHaveLength(1);
    const passage = created[0]!;
    expectLettaSchema('Passage', passage);
    expect(passage.id).toMatch(/^passage-/);
    expect(passage.text).toBe('The launch code is tulip.');
    expect([...(passage.tags ?? [])].sort()).toEqual(['ops', 'secret']);
    expect(passage.embedding_config?.handle).toBe('local/use-lite');

    const archives = await server.client.archives.list({ agent_id: agent.id });
    expect(archives.items.map((a) => a.name)).toEqual(["Archivist's Archive"]);
    expect(passage.archive_id).toBe(archives.items[0]!.id);

    await server.client.agents.passages.create(agent.id, { text: 'Second note', created_at: '2024-01-02T03:04:05Z' });
    expect(await server.cairn.services.archival.stats(agent.id)).toEqual({ count: 2, tags: ['ops', 'secret'] });
    const listed = await server.client.agents.passages.list(agent.id);
    expect(listed.map((p) => p.text)).toEqual(['The launch code is tulip.', 'Second note']);
    listed.forEach((p) => expectLettaSchema('Passage', p));
    expect(listed[1]!.created_at).toBe('2024-01-02T03:04:05.000Z');
    const descending = await server.client.agents.passages.list(agent.id, { ascending: false, limit: 1 });
    expect(descending.map((p) => p.text)).toEqual(['Second note']);
    const after = await server.client.agents.passages.list(agent.id, { after: passage.id });
    expect(after.map((p) => p.text)).toEqual(['Second note']);
    const substring = await server.client.agents.passages.list(agent.id, { search: 'LAUNCH' });
    expect(substring.map((p) => p.id)).toEqual([passage.id]);

    await server.client.agents.passages.delete(passage.id!, { agent_id: agent.id });
    expect((await server.client.agents.passages.list(agent.id)).map((p) => p.text)).toEqual(['Second note']);
    await expect(server.client.agents.passages.delete(passage.id!, { agent_id: agent.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('finds a write lexically as soon as it returns, and filters by tags any/all, dates and top_k', async () => {
    const agent = await server.client.agents.create({
      name: 'Filters',
      include_base_tools: false,
      timezone: 'America/New_York',
    });
    const add = (text: string, tags: string[], created_at: string) =>
      server.client.agents.passages.create(agent.id, { text, tags, created_at });
    await add('Ada prefers green tea in the morning', ['drinks', 'ada'], '2024-03-01T12:00:00Z');
    await add('Ada drinks black coffee after lunch', ['drinks'], '2024-03-02T12:00:00Z');
    await add('Grace likes green tea with honey', ['drinks', 'grace'], '2024-03-03T03:30:00Z');
    await add('The green house needs painting', ['house'], '2024-03-04T12:00:00Z');

    // Lexical search only: no waiting for the background embedder.
    const immediate = await server.client.agents.passages.search(agent.id, { query: 'green tea', top_k: 10 });
    expectLettaSchema('ArchivalMemorySearchResponse', immediate);
    expect(immediate.count).toBe(immediate.results.length);
    expect(
      immediate.results
        .slice(0, 2)
        .map((r) => r.content)
        .sort(),
    ).toEqual(['Ada prefers green tea in the morning', 'Grace likes green tea with honey']);
    // Timestamps are shown in the agent's timezone.
    const ada = immediate.results.find((r) => r.content.startsWith('Ada prefers'))!;
    expect(ada.timestamp).toBe('2024-03-01T07:00:00.000-05:00');

    const any = await server.client.agents.passages.search(agent.id, {
      query: 'tea coffee',
      tags: ['ada', 'grace'],
      tag_match_mode: 'any',
      top_k: 10,
    });
    expect(any.results.map((r) => r.content).sort()).toEqual([
      'Ada prefers green tea in the morning',
      'Grace likes green tea with honey',
    ]);
    const all = await server.client.agents.passages.search(agent.id, {
      query: 'tea coffee',
      tags: ['drinks', 'ada'],
      tag_match_mode: 'all',
      top_k: 10,
    });
    expect(all.results.map((r) => r.content)).toEqual(['Ada prefers green tea in the morning']);
    expect(all.results[0]!.tags?.sort()).toEqual(['ada', 'drinks']);

    const top1 = await server.client.agents.passages.search(agent.id, { query: 'green', top_k: 1 });
    expect(top1.count).toBe(1);

    // Date-only end is the end of that day, in the agent's timezone: 2024-03-03T03:30Z is 2024-03-02 22:30 in New York.
    const byDate = await server.client.agents.passages.search(agent.id, {
      query: 'green tea coffee',
      start_datetime: '2024-03-02',
      end_datetime: '2024-03-02',
      top_k: 10,
    });
    expect(byDate.results.map((r) => r.content).sort()).toEqual([
      'Ada drinks black coffee after lunch',
      'Grace likes green tea with honey',
    ]);
    const aware = await server.client.agents.passages.search(agent.id, {
      query: 'green tea coffee',
      start_datetime: '2024-03-03T00:00:00Z',
      top_k: 10,
    });
    expect(aware.results.map((r) => r.content).sort()).toEqual([
      'Grace likes green tea with honey',
      'The green house needs painting',
    ]);
    const naive = await server.client.agents.passages.search(agent.id, {
      query: 'green',
      end_datetime: '2024-03-01T07:00:00',
      top_k: 10,
    });
    expect(naive.results.map((r) => r.content)).toEqual(['Ada prefers green tea in the morning']);
  });

  it('lends rank to neighbouring passages, but never past the search filters', async () => {
    const agent = await server.client.agents.create({ name: 'Neighbours', include_base_tools: false });
    // One conversation session: the same created_at makes the passages one unit of context.
    const add = (text: string, tags: string[]) =>
      server.client.agents.passages.create(agent.id, { text, tags, created_at: '2024-06-01T10:00:00Z' });
    await add('Melanie: what did you name the new puppy?', ['chat']);
    await add('Caroline: we went with Biscuit', ['chat']);
    await add('Caroline: unrelated remark about weather', ['other']);
    const all = await http(
      'GET',
      url(`/agents/${agent.id}/archival-memory/search?query=${encodeURIComponent('puppy name')}&top_k=3&mode=lexical`),
    );
    // Full text sees the unit's neighbours too, at lower weight the further they are (passage-level BM25F).
    expect(all.body.results.map((r: { content: string }) => r.content)).toEqual([
      'Melanie: what did you name the new puppy?',
      'Caroline: we went with Biscuit',
      'Caroline: unrelated remark about weather',
    ]);
    await waitForEmbeddings(server, agent.id);
    // Hybrid search ranks the answer right after the question that matched, though it shares no word with the query.
    const hybrid = await server.client.agents.passages.search(agent.id, {
      query: 'puppy name',
      top_k: 3,
      tags: ['chat'],
    });
    expect(hybrid.results.map((r) => r.content)).toEqual([
      'Melanie: what did you name the new puppy?',
      'Caroline: we went with Biscuit',
    ]);
    const filtered = await server.client.agents.passages.search(agent.id, {
      query: 'puppy name',
      top_k: 3,
      tags: ['other'],
    });
    expect(filtered.results.map((r) => r.content)).toEqual(['Caroline: unrelated remark about weather']);
  });

  it('finds the neighbours of a passage when other agents wrote in between', async () => {
    const agent = await server.client.agents.create({ name: 'Interleaved', include_base_tools: false });
    const other = await server.client.agents.create({ name: 'Interleaving', include_base_tools: false });
    const at = '2024-06-02T10:00:00Z';
    for (const text of [
      'Melanie: what did you name the new puppy?',
      'Caroline: we went with Biscuit',
      'Caroline: unrelated remark about weather',
    ]) {
      await server.client.agents.passages.create(agent.id, { text, created_at: at });
      await server.client.agents.passages.create(other.id, { text: `noise between turns: ${text}`, created_at: at });
    }
    const store = server.cairn.stores.archival;
    const archiveIds = (await store.archivesOf(agent.id)).map((a) => a.id);
    const [question, answer, remark] = (
      await store.listPassages(archiveIds, undefined, { limit: 10, order: 'asc' })
    ).map((p) => p.seq);
    const { neighbours } = await store.context([answer!], { archiveIds });
    expect(neighbours.get(answer!)).toEqual({ prev: question, next: remark, created_at: expect.any(String) });
    await waitForEmbeddings(server, agent.id);
    const hybrid = await server.client.agents.passages.search(agent.id, { query: 'puppy name', top_k: 2 });
    expect(hybrid.results.map((r) => r.content)).toEqual([
      'Melanie: what did you name the new puppy?',
      'Caroline: we went with Biscuit',
    ]);
  });

  it('ranks passages of the period a query names first, within the search filters', async () => {
    const agent = await server.client.agents.create({ name: 'Periods', include_base_tools: false });
    // Written first and longer, so full-text alone ranks it second; told a few days after the trip.
    await server.client.agents.passages.create(agent.id, {
      text: 'Ada: we went hiking in the Alps last week, all of us',
      created_at: '2023-09-03T10:00:00Z',
    });
    await server.client.agents.passages.create(agent.id, {
      text: 'Ada: we went hiking in Norway',
      created_at: '2022-03-10T10:00:00Z',
    });
    await waitForEmbeddings(server, agent.id);
    const search = async (query: string, extra = '') =>
      (
        await http(
          'GET',
          url(`/agents/${agent.id}/archival-memory/search?query=${encodeURIComponent(query)}&top_k=2${extra}`),
        )
      ).body.results.map((r: { content: string }) => r.content);
    expect((await search('Where did Ada go hiking?', '&mode=lexical'))[0]).toBe('Ada: we went hiking in Norway');
    expect((await search('Where did Ada go hiking in August 2023?'))[0]).toBe(
      'Ada: we went hiking in the Alps last week, all of us',
    );
    expect((await search('Where did Ada go hiking in March 2022?'))[0]).toBe('Ada: we went hiking in Norway');
    // A period outside the caller's own date filter adds nothing and excludes nothing it allows.
    expect(await search('Where did Ada go hiking in August 2023?', '&end_datetime=2023-01-01')).toEqual([
      'Ada: we went hiking in Norway',
    ]);
  });

  it('ranks a paraphrase with no shared words above an unrelated sentence (the local model really runs)', async () => {
    const agent = await server.client.agents.create({ name: 'Semantic', include_base_tools: false });
    const paraphrase = 'When the socket connection drops, retry after increasingly longer random delays.';
    for (const text of [
      paraphrase,
      'The quarterly revenue grew because of strong sales in Europe.',
      'Bake the bread for forty minutes until golden.',
    ]) {
      await server.client.agents.passages.create(agent.id, { text });
    }
    await waitForEmbeddings(server, agent.id);
    const search = (mode: string) =>
      http(
        'GET',
        url(
          `/agents/${agent.id}/archival-memory/search?query=${encodeURIComponent('WebSocket reconnection needs exponential backoff with jitter')}&top_k=3&mode=${mode}`,
        ),
      );
    const vector = await search('vector');
    expect(vector.status).toBe(200);
    expect(vector.body.results[0].content).toBe(paraphrase);
    const hybrid = await search('hybrid');
    expect(hybrid.body.results[0].content).toBe(paraphrase);
    // Full-text alone cannot see it: no word is shared.
    const lexical = await search('lexical');
    expect(lexical.body.results.map((r: { content: string }) => r.content)).not.toContain(paraphrase);
  });

  it('makes a write semantically searchable within a second', async () => {
    const agent = await server.client.agents.create({ name: 'Fresh', include_base_tools: false });
    await server.client.agents.passages.create(agent.id, { text: 'My cat is called Biscuit and sleeps all day.' });
    // Warm the worker pool so the measured write does not include loading the model.
    await waitForEmbeddings(server, agent.id);
    const started = Date.now();
    await server.client.agents.passages.create(agent.id, {
      text: 'The physician prescribed antibiotics for the infection.',
    });
    let found = false;
    while (!found && Date.now() - started < 5000) {
      const r = await http(
        'GET',
        url(
          `/agents/${agent.id}/archival-memory/search?query=${encodeURIComponent('doctor gave medicine')}&top_k=1&mode=vector`,
        ),
      );
      found = r.body.results[0]?.content === 'The physician prescribed antibiotics for the infection.';
      if (!found) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(found).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('rejects bad input with a clear 4xx', async () => {
    const agent = await server.client.agents.create({ name: 'Strict', include_base_tools: false });
    await expect(server.client.agents.passages.create(agent.id, { text: '' })).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
    await expect(server.client.agents.passages.create(agent.id, { text: '   ' })).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
    await expect(
      server.client.agents.passages.create(agent.id, { text: 'x', created_at: 'yesterday' }),
    ).rejects.toBeInstanceOf(UnprocessableEntityError);
    const search = (qs: string) => http('GET', url(`/agents/${agent.id}/archival-memory/search?${qs}`));
    for (const qs of [
      'query=a&top_k=0',
      'query=a&top_k=-3',
      'query=a&top_k=100000',
      'query=a&top_k=abc',
      'query=a&tag_match_mode=some',
      'query=a&start_datetime=2024-13-01',
      'query=a&end_datetime=not-a-date',
      'query=a&start_datetime=2024-02-30',
      '',
    ]) {
      const r = await search(qs);
      expect(r.status, qs).toBe(422);
      expect(JSON.stringify(r.body.detail), qs).toMatch(/top_k|tag_match_mode|datetime|query/);
    }
    expect(
      (await http('GET', url(`/agents/agent-00000000-0000-4000-8000-000000000000/archival-memory/search?query=a`)))
        .status,
    ).toBe(404);
    await expect(
      server.client.agents.passages.delete('passage-00000000-0000-4000-8000-000000000000', { agent_id: agent.id }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});
