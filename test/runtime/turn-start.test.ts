import { describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { messageRow } from '../../src/domain/messages.js';
import { createSearchIndexes } from '../../src/search/index.js';
import { createStores } from '../../src/store/index.js';
import { terminateConnections, testDialects } from '../support/cairn.js';
import { runRecord } from '../support/rows.js';
import { useRuntime } from './harness.js';

// A turn inserts its run (the turn lock) and reads its thread in one round trip on PostgreSQL. When the insert waits
// for the previous holder to release the lock, the reads must still see what the holder committed with the release.
describe.each(testDialects())('a send that waits for the thread’s lock [%s]', (dialect) => {
  const h = useRuntime(dialect);

  it('starts from what the previous holder committed when it released the lock', async () => {
    const { client, cairn } = h.server;
    const stores = cairn.stores;
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const holder = newId('run');
    await stores.runs.insert(runRecord({ id: holder, agent_id: agent.id }));
    h.llm.setDefault({ text: 'Noted.' });

    // The holder's last step, as its write batch commits it: a new message in context, and the lock released.
    let commit!: () => void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const writesDone = new Promise<void>((resolve) => (written = resolve));
    const holderTurn = cairn.dialect.db.transaction().execute(async (trx) => {
      const tx = createStores(cairn.dialect, createSearchIndexes({ engineIndexesVectors: true }), trx);
      const ids = JSON.parse((await tx.agents.findById(agent.id))!.message_ids) as string[];
      const remembered = messageRow(
        { agentId: agent.id, conversationId: null, runId: holder, stepId: null, model: null },
        'assistant',
        [{ type: 'text', text: 'The answer is forty-two.' }],
      );
      await tx.messages.insertMany([remembered]);
      await tx.agents.update(agent.id, { message_ids: JSON.stringify([...ids, remembered.id]) });
      await tx.runs.update(holder, { status: 'completed', stop_reason: 'end_turn', thread_lock: null });
      written();
      await committing;
    });
    await writesDone;

    // SQLite has one connection: the send queues behind the open transaction instead of waiting on the lock.
    const send = client.agents.messages.create(agent.id, { input: 'What is the answer?' });
    if (dialect === 'postgres') {
      // The send's insert is blocked on the holder's row: no model call until the holder commits.
      await new Promise((r) => setTimeout(r, 300));
      expect(h.llm.calls).toHaveLength(0);
    }
    commit();
    await holderTurn;
    const response = await send;
    expect(response.stop_reason?.stop_reason).toBe('end_turn');
    expect(JSON.stringify(h.llm.calls[0]!.body.messages)).toContain('The answer is forty-two.');
  });
});

describe.each(testDialects().filter((d) => d === 'postgres'))(
  'turns after PostgreSQL lost its connections [%s]',
  (dialect) => {
    const h = useRuntime(dialect);

    it('start and commit after the database killed every pooled connection', async () => {
      const { client, config } = h.server;
      h.llm.setDefault({ text: 'Still here.' });
      const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
      // Warm the pool: its connections now hold the turn's prepared statements.
      for (let i = 0; i < 3; i++)
        expect((await client.agents.messages.create(agent.id, { input: `Turn ${i}` })).stop_reason?.stop_reason).toBe(
          'end_turn',
        );

      expect(await terminateConnections(config.pgUri!)).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));

      // New connections prepare the statements again; the turns start, commit and read back whole.
      for (let i = 3; i < 6; i++)
        expect((await client.agents.messages.create(agent.id, { input: `Turn ${i}` })).stop_reason?.stop_reason).toBe(
          'end_turn',
        );
      const history = (await client.agents.messages.list(agent.id, { limit: 50 })).getPaginatedItems();
      expect(history.filter((m) => m.message_type === 'user_message')).toHaveLength(6);
    });
  },
);
