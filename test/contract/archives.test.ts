import { NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';
import { archiveKeys, waitForEmbeddings } from '../support/archival.js';

describe.each(testDialects())('archives [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  const url = (path: string) => `${server.baseURL}/v1${path}`;

  it('creates, lists, updates and deletes archives', async () => {
    const archive = await server.client.archives.create({ name: 'Team knowledge', description: 'shared facts' });
    expect(Object.keys(archive).every((k) => archiveKeys().includes(k))).toBe(true);
    expect(archive).toMatchObject({
      name: 'Team knowledge',
      description: 'shared facts',
      vector_db_provider: 'native',
    });
    expect(archive.id).toMatch(/^archive-/);
    expectLettaSchema('EmbeddingConfig', archive.embedding_config);
    expect(archive.embedding_config?.handle).toBe('local/use-lite');

    expect((await server.client.archives.retrieve(archive.id)).name).toBe('Team knowledge');
    const updated = await server.client.archives.update(archive.id, { name: 'Team facts' });
    expect(updated).toMatchObject({ name: 'Team facts', description: 'shared facts' });
    const listed = await server.client.archives.list({ name: 'Team facts' });
    expect(listed.items.map((a) => a.id)).toEqual([archive.id]);

    await server.client.archives.delete(archive.id);
    await expect(server.client.archives.retrieve(archive.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(server.client.archives.create({ name: '' })).rejects.toBeInstanceOf(UnprocessableEntityError);
  });

  it('shares an archive between agents: passages, batch insert, attach/detach, agents, passage search', async () => {
    const archive = await server.client.archives.create({ name: 'Shared' });
    const a = await server.client.agents.create({ name: 'A', include_base_tools: false });
    const b = await server.client.agents.create({ name: 'B', include_base_tools: false });
    await server.client.agents.archives.attach(archive.id, { agent_id: a.id });
    await server.client.agents.archives.attach(archive.id, { agent_id: b.id });
    const agents = await http('GET', url(`/archives/${archive.id}/agents`));
    expect(agents.body.map((x: { id: string }) => x.id)).toEqual([a.id, b.id]);
    const page = async (query: string) =>
      (await http('GET', url(`/archives/${archive.id}/agents?${query}`))).body.map((x: { id: string }) => x.id);
    expect(await page('limit=1')).toEqual([a.id]);
    expect(await page(`limit=1&after=${a.id}`)).toEqual([b.id]);
    expect(await page(`order=desc&before=${a.id}`)).toEqual([b.id]);

    const one = await server.client.archives.passages.create(archive.id, {
      text: 'Deploys happen on Tuesdays',
      tags: ['ops'],
      metadata: { source: 'wiki' },
    });
    expectLettaSchema('Passage', one);
    expect(one.metadata).toEqual({ source: 'wiki' });
    const batch = await server.client.archives.passages.createMany(archive.id, {
      passages: [{ text: 'The on-call rota is weekly' }, { text: 'Incidents get a postmortem' }],
    });
    expect(batch.map((p) => p.text)).toEqual(['The on-call rota is weekly', 'Incidents get a postmortem']);

    // Both agents see the shared passages; an agent's own inserts go to its first archive, the shared one.
    for (const agent of [a, b]) {
      const found = await server.client.agents.passages.search(agent.id, { query: 'when do deploys happen', top_k: 1 });
      expect(found.results[0]!.content).toBe('Deploys happen on Tuesdays');
    }
    await server.client.agents.passages.create(a.id, { text: 'A wrote this' });
    expect((await server.client.agents.passages.list(b.id)).map((p) => p.text)).toContain('A wrote this');

    await waitForEmbeddings(server, a.id);
    const results = await server.client.passages.search({ query: 'postmortem', archive_id: archive.id, limit: 2 });
    expect(results[0]!.passage.text).toBe('Incidents get a postmortem');
    results.forEach((r) => expectLettaSchema('PassageSearchResult', r));
    const byAgent = await server.client.passages.search({ query: 'rota', agent_id: b.id, tags: ['ops'] });
    // The tag filter leaves only the one `ops` passage, however weakly it matches.
    expect(byAgent.map((r) => r.passage.text)).toEqual(['Deploys happen on Tuesdays']);

    await server.client.agents.archives.detach(archive.id, { agent_id: b.id });
    expect((await server.client.agents.passages.search(b.id, { query: 'deploys' })).count).toBe(0);
    // Deleting an agent keeps an archive it did not own.
    await server.client.agents.delete(a.id);
    expect((await server.client.archives.retrieve(archive.id)).name).toBe('Shared');

    await server.client.archives.passages.delete(one.id!, { archive_id: archive.id });
    await expect(server.client.archives.passages.delete(one.id!, { archive_id: archive.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(
      (await http('POST', url(`/archives/${archive.id}/passages/batch`), { passages: [{ text: '' }] })).status,
    ).toBe(422);
  });
});
