import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BlockHistoryEntry } from '../../src/schemas/block-history.js';
import { openSqlite } from '../../src/store/dialect/sqlite.js';
import { migrations } from '../../src/store/migrations/index.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { tempDir } from '../support/cli.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { http } from '../support/http.js';

describe.each(testDialects())('block history [%s]', (dialect) => {
  let server: TestCairn;
  let llm: FakeLlm;
  beforeAll(async () => {
    llm = await startFakeLlm();
    server = await startCairn(dialect, {}, llm.env());
  });
  afterAll(async () => {
    await server.close();
    await llm.close();
  });
  beforeEach(() => llm.reset());

  const history = (blockId: string, query = '') =>
    server.client.get<BlockHistoryEntry[]>(`/v1/blocks/${blockId}/history${query}`);

  it('records the creation and every update with its author, newest first', async () => {
    const block = await server.client.blocks.create({ label: 'notes', value: 'one', limit: 50 });
    await server.client.blocks.update(block.id, { value: 'two' });
    await http(
      'PATCH',
      `${server.baseURL}/v1/blocks/${block.id}`,
      { value: 'three' },
      { 'X-Cairn-Actor': 'hook:claude-code' },
    );
    await http('PATCH', `${server.baseURL}/v1/blocks/${block.id}`, { description: 'd' }, { 'X-Cairn-Actor': 'import' });
    const entries = await history(block.id);
    expect(entries.map((e) => [e.version, e.value, e.actor.kind])).toEqual([
      [4, 'three', 'import'],
      [3, 'three', 'hook'],
      [2, 'two', 'api'],
      [1, 'one', 'api'],
    ]);
    expect(entries[1]!.actor.name).toBe('claude-code');
    expect(entries[0]).toMatchObject({
      block_id: block.id,
      label: 'notes',
      limit: 50,
      description: 'd',
      read_only: false,
    });
    // The SDK names itself in its User-Agent; that is the api actor's name.
    expect(entries[3]!.actor.name).toMatch(/\S/);
    // Pages on by version.
    expect((await history(block.id, '?limit=2&before=3')).map((e) => e.version)).toEqual([2, 1]);
  });

  it("records an agent's memory tool as agent_tool, named by the agent", async () => {
    const agent = await server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'Name: Ada', limit: 200 }],
    });
    llm.script(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Likes tea' } }] },
      { text: 'Noted.' },
    );
    await server.client.agents.messages.create(agent.id, { input: 'I like tea' });
    const block = await server.client.agents.blocks.retrieve('human', { agent_id: agent.id });
    const [latest, first] = await history(block.id);
    expect(latest).toMatchObject({ version: 2, actor: { kind: 'agent_tool', name: agent.id } });
    expect(latest!.value).toContain('Likes tea');
    expect(first).toMatchObject({ version: 1, value: 'Name: Ada', actor: { kind: 'api' } });
  });

  it('restores a version through the update path, recording what it restored', async () => {
    const block = await server.client.blocks.create({ label: 'r', value: 'original', limit: 20 });
    await server.client.blocks.update(block.id, { value: 'changed', description: 'later', limit: 10 });
    const restored = await server.client.post<{ value: string; limit: number; description: string | null }>(
      `/v1/blocks/${block.id}/history/1/restore`,
    );
    expect(restored).toMatchObject({ value: 'original', limit: 20 });
    expect((await server.client.blocks.retrieve(block.id)).value).toBe('original');
    const [entry] = await history(block.id);
    expect(entry).toMatchObject({ version: 3, value: 'original', restored_from: 1, actor: { kind: 'api' } });
  });

  it('answers 404 for an unknown block or version and 422 for a malformed one', async () => {
    const block = await server.client.blocks.create({ label: 'x', value: '' });
    await expect(server.client.post(`/v1/blocks/${block.id}/history/9/restore`)).rejects.toBeInstanceOf(NotFoundError);
    await expect(history('block-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    await expect(server.client.post(`/v1/blocks/${block.id}/history/zero/restore`)).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
    const bad = await http('GET', `${server.baseURL}/v1/blocks/${block.id}/history?limit=0`);
    expect(bad.status).toBe(422);
  });

  it('keeps nothing of a write that failed, and drops the history with the block', async () => {
    const block = await server.client.blocks.create({ label: 'limit', value: 'abc', limit: 5 });
    await expect(server.client.blocks.update(block.id, { value: 'too long for it' })).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
    expect((await history(block.id)).map((e) => e.version)).toEqual([1]);
    await server.client.blocks.delete(block.id);
    const rows = await sql<{ n: number }>`select count(*) as n from block_history where block_id = ${block.id}`.execute(
      server.cairn.dialect.db,
    );
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });

  it('is listed in the OpenAPI document as Cairn extensions', async () => {
    const doc = (await http('GET', `${server.baseURL}/openapi.json`)).body;
    expect(doc.paths['/v1/blocks/{block_id}/history'].get.summary).toMatch(/Cairn extension/);
    expect(doc.paths['/v1/blocks/{block_id}/history/{version}/restore'].post.summary).toMatch(/Cairn extension/);
  });
});

describe('migration 0009 (block history)', () => {
  it("gives blocks that exist already their current state as the first entry, by 'system'", async () => {
    const dir = tempDir('cairn-mig-');
    const dialect = openSqlite(join(dir, 'cairn.db'));
    try {
      const names = Object.keys(migrations).sort();
      for (const name of names.filter((n) => n < '0009')) await migrations[name]!.up(dialect.db, dialect.name);
      await sql`INSERT INTO blocks (id, label, value, char_limit, description, read_only, hidden, metadata, is_template, version, created_at, updated_at)
        VALUES ('block-1', 'human', 'Ada', 100, 'who', 1, 0, '{}', 0, 7, '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z')`.execute(
        dialect.db,
      );
      for (const name of names.filter((n) => n >= '0009')) await migrations[name]!.up(dialect.db, dialect.name);
      const rows =
        await sql`SELECT block_id, version, label, value, char_limit, description, read_only, actor_kind, restored_from, created_at FROM block_history`.execute(
          dialect.db,
        );
      expect(rows.rows).toEqual([
        {
          block_id: 'block-1',
          version: 7,
          label: 'human',
          value: 'Ada',
          char_limit: 100,
          description: 'who',
          read_only: 1,
          actor_kind: 'system',
          restored_from: null,
          created_at: '2026-02-01T00:00:00.000Z',
        },
      ]);
    } finally {
      await dialect.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
