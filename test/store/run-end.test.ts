import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/store/run.store.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { runRecord } from '../support/rows.js';

describe.each(testDialects())('a run’s recorded end [%s]', (dialect) => {
  let server: TestCairn;
  let agentId: string;
  beforeAll(async () => {
    server = await startCairn(dialect);
    agentId = (await server.cairn.services.agents.create({ model: 'openai/gpt-4o-mini' })).id;
  });
  afterAll(async () => server?.close());

  const runs = () => server.cairn.stores.runs;
  const start = (id: string, thread: string) =>
    runs().insert(
      runRecord({
        id,
        agent_id: agentId,
        metadata: '{"run_type":"send_message"}',
        thread_lock: `${agentId}:${thread}`,
      }),
    );
  const end = {
    status: 'completed',
    stop_reason: 'end_turn',
    completed_at: '2026-11-24T12:00:00.000Z',
    metadata: '{"run_type":"send_message","result":{}}',
    usage: '{"step_count":1}',
    total_duration_ns: 5_000_000,
    ttft_ns: 1_000_000,
  };

  it('moves an active run to its final status and releases the turn lock, in a write batch', async () => {
    await start('run-00000000-0000-4000-8000-0000000000a1', 'one');
    await server.cairn.stores.writeBatch((batch) =>
      batch.runs.recordEnd('run-00000000-0000-4000-8000-0000000000a1', end),
    );
    expect(await runs().findById('run-00000000-0000-4000-8000-0000000000a1')).toMatchObject<Partial<RunRecord>>({
      ...end,
      thread_lock: null,
    });
    expect(await runs().lockHolder(`${agentId}:one`)).toBeUndefined();
  });

  it('keeps the status, stop reason and time of a cancel that came first, and records the rest', async () => {
    await start('run-00000000-0000-4000-8000-0000000000a2', 'two');
    expect(
      await runs().finishIfActive('run-00000000-0000-4000-8000-0000000000a2', {
        status: 'cancelled',
        stop_reason: 'cancelled',
        completed_at: '2026-11-24T11:00:00.000Z',
      }),
    ).toBe(true);
    // Cancelled, but the turn is still going: the lock holds until its end is recorded.
    expect(await runs().lockHolder(`${agentId}:two`)).toBe('run-00000000-0000-4000-8000-0000000000a2');
    await runs().recordEnd('run-00000000-0000-4000-8000-0000000000a2', end);
    expect(await runs().findById('run-00000000-0000-4000-8000-0000000000a2')).toMatchObject<Partial<RunRecord>>({
      status: 'cancelled',
      stop_reason: 'cancelled',
      completed_at: '2026-11-24T11:00:00.000Z',
      metadata: end.metadata,
      usage: end.usage,
      total_duration_ns: end.total_duration_ns,
      thread_lock: null,
    });
  });
});
