import Letta from '@letta-ai/letta-client';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createCairn, type Cairn } from '../../src/server.js';
import { createTestDatabase, testDialects } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { waitFor } from './harness.js';

async function listening(cairn: Cairn): Promise<Letta> {
  await cairn.app.listen({ host: '127.0.0.1', port: 0 });
  const address = cairn.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return new Letta({ baseURL: `http://127.0.0.1:${address.port}`, maxRetries: 0 });
}

// Only PostgreSQL is shared between processes; without CAIRN_TEST_PG_URI this suite has no cases.
describe.each(testDialects().filter((d) => d === 'postgres'))('sleeptime across instances [%s]', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('two instances taking turns of one primary start one sleeptime run per fifth turn', async () => {
    const llm: FakeLlm = await startFakeLlm();
    cleanups.push(() => llm.close());
    const database = await createTestDatabase('postgres');
    cleanups.push(database.drop);
    const config = loadConfig({ port: 0, dataDir: database.dataDir }, llm.env({ LETTA_PG_URI: database.pgUri! }));
    const instances = [
      await createCairn(config, createLogger('silent')),
      await createCairn(config, createLogger('silent')),
    ];
    cleanups.push(async () => {
      await Promise.all(instances.map((i) => i.close()));
    });
    const [a, b] = await Promise.all(instances.map(listening));
    llm.setDefault({ text: 'ok' });

    const primary = await a!.agents.create({ model: 'openai/gpt-4o-mini', enable_sleeptime: true });
    const sleeper = (primary.managed_group as { agent_ids: string[] }).agent_ids[0]!;
    for (let turn = 1; turn <= 10; turn++)
      await (turn % 2 ? a! : b!).agents.messages.create(primary.id, { input: `turn ${turn}` });

    const runs = await waitFor(async () => {
      const items = (await b!.runs.list({ agent_id: sleeper })).items;
      return items.length >= 2 && items.every((r) => r.status === 'completed') ? items : undefined;
    });
    // A little longer, so a duplicate start would have shown up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await a!.runs.list({ agent_id: sleeper })).items).toHaveLength(2);
    expect(runs).toHaveLength(2);
    expect((await b!.agents.retrieve(primary.id)).managed_group).toMatchObject({ turns_counter: 10 });
  });
});
