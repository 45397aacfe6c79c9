import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Letta from '@letta-ai/letta-client';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createCairn, type Cairn } from '../../src/server.js';
import { migrations } from '../../src/store/migrations/index.js';
import { createTestDatabase, terminateConnections, testDialects } from '../support/cairn.js';

const silent = createLogger('silent');

async function listening(cairn: Cairn): Promise<Letta> {
  await cairn.app.listen({ host: '127.0.0.1', port: 0 });
  const address = cairn.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return new Letta({ baseURL: `http://127.0.0.1:${address.port}`, maxRetries: 0 });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// Only PostgreSQL can be shared between processes; without CAIRN_TEST_PG_URI this suite has no cases.
describe.each(testDialects().filter((d) => d === 'postgres'))('Cairn instances sharing one database [%s]', () => {
  it('three instances started at once on one fresh PostgreSQL database migrate once and share every write', async () => {
    const database = await createTestDatabase('postgres');
    cleanups.push(database.drop);
    const config = loadConfig({ port: 0, dataDir: database.dataDir }, { LETTA_PG_URI: database.pgUri });
    // Three at once makes the migration and built-in tool races likelier to bite than two.
    const instances = await Promise.all([
      createCairn(config, silent),
      createCairn(config, silent),
      createCairn(config, silent),
    ]);
    cleanups.push(async () => {
      await Promise.all(instances.map((i) => i.close()));
    });

    const db = instances[0]!.dialect.db;
    const applied = await sql<{
      name: string;
      n: number;
    }>`select name, count(*)::int as n from cairn_migrations group by name order by name`.execute(db);
    expect(applied.rows).toEqual(
      Object.keys(migrations)
        .sort()
        .map((name) => ({ name, n: 1 })),
    );
    const duplicates = await sql<{ name: string }>`select name from tools group by name having count(*) > 1`.execute(
      db,
    );
    expect(duplicates.rows).toEqual([]);

    const [a, b] = await Promise.all([listening(instances[0]!), listening(instances[1]!)]);
    const agent = await a.agents.create({
      name: 'shared',
      memory_blocks: [{ label: 'human', value: 'v0' }],
      tags: ['mp'],
    });
    expect((await b.agents.retrieve(agent.id)).name).toBe('shared');
    await b.agents.update(agent.id, { name: 'renamed' });
    expect((await a.agents.retrieve(agent.id)).name).toBe('renamed');
    await b.agents.blocks.update('human', { agent_id: agent.id, value: 'v1' });
    expect((await a.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('v1');
    expect((await b.agents.list({ tags: ['mp'] })).getPaginatedItems().map((x) => x.id)).toEqual([agent.id]);
    expect(await a.tags.list({ name: 'mp' })).toEqual(['mp']);
  });
});

describe.each(testDialects().filter((d) => d === 'postgres'))('PostgreSQL connection loss [%s]', () => {
  it('survives the server killing its idle pooled connections, and reconnects', async () => {
    const database = await createTestDatabase('postgres');
    cleanups.push(database.drop);
    const cairn = await createCairn(
      loadConfig({ port: 0, dataDir: database.dataDir }, { LETTA_PG_URI: database.pgUri }),
      silent,
    );
    cleanups.push(() => cairn.close());
    const client = await listening(cairn);
    await client.agents.create({ name: 'before-kill', include_base_tools: false });

    expect(await terminateConnections(database.pgUri!)).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect((await client.agents.list({ name: 'before-kill' })).getPaginatedItems()).toHaveLength(1);
  });
});

describe('restarting Cairn on SQLite', () => {
  it('a SQLite server restarted on the same data directory keeps its data, and closes its database cleanly', async () => {
    const database = await createTestDatabase('sqlite');
    cleanups.push(database.drop);
    const config = loadConfig({ port: 0, dataDir: database.dataDir }, {});
    const first = await createCairn(config, silent);
    const client = await listening(first);
    const agent = await client.agents.create({ memory_blocks: [{ label: 'persona', value: 'persisted' }] });
    const block = await client.blocks.create({ label: 'standalone', value: 'kept', tags: ['t'] });
    await first.close();
    // A clean close checkpoints the WAL into the main file and removes it.
    const wal = join(database.dataDir, 'cairn.db-wal');
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);

    const second = await createCairn(config, silent);
    cleanups.push(() => second.close());
    const again = await listening(second);
    expect((await again.agents.blocks.retrieve('persona', { agent_id: agent.id })).value).toBe('persisted');
    expect((await again.blocks.retrieve(block.id)).tags).toEqual(['t']);
    const tools = (await again.agents.retrieve(agent.id, { include: ['agent.tools'] })).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);
  });
});
