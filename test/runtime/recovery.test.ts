import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createCairn } from '../../src/server.js';
import { createTestDatabase } from '../support/cairn.js';
import { runRecord } from '../support/rows.js';

describe('runs left active by a dead process [sqlite]', () => {
  it('are marked failed, and their thread unlocked, when Cairn starts on the same database', async () => {
    const database = await createTestDatabase('sqlite');
    const config = loadConfig({ port: 0, host: '127.0.0.1', dataDir: database.dataDir }, {});
    const logger = createLogger('silent');
    try {
      const first = await createCairn(config, logger);
      const agent = await first.services.agents.create({ model: 'openai/gpt-4o-mini' });
      // What a process killed mid-turn leaves behind: a running run holding the thread's lock, and a run cancelled
      // while its turn was still going (its lock is released only when the turn ends).
      const run = (id: string, status: string, thread: string) =>
        runRecord({ id, agent_id: agent.id, status, background: 1, streamed: 1, thread_lock: `${agent.id}:${thread}` });
      await first.stores.runs.insert(run('run-00000000-0000-4000-8000-000000000001', 'running', 'default'));
      await first.stores.runs.insert(
        run('run-00000000-0000-4000-8000-000000000002', 'cancelled', 'conv-00000000-0000-4000-8000-000000000009'),
      );
      await first.close();

      const second = await createCairn(config, logger);
      try {
        let run;
        for (let i = 0; i < 100; i++) {
          run = await second.services.runs.get('run-00000000-0000-4000-8000-000000000001');
          if (run.status !== 'running') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(run).toMatchObject({ status: 'failed', stop_reason: 'error' });
        expect(await second.stores.runs.lockHolder(`${agent.id}:default`)).toBeUndefined();
        expect(
          await second.stores.runs.lockHolder(`${agent.id}:conv-00000000-0000-4000-8000-000000000009`),
        ).toBeUndefined();
        expect((await second.services.runs.get('run-00000000-0000-4000-8000-000000000002')).status).toBe('cancelled');
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
    }
  });
});
