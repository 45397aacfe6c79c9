import { newRunRow, type RunRecord } from '../../src/store/run.store.js';

/** A run row as a turn creates it (running, holding its thread's lock), for tests that write runs directly. */
export function runRecord(fields: Pick<RunRecord, 'id' | 'agent_id'> & Partial<RunRecord>): Omit<RunRecord, 'seq'> {
  return newRunRow({
    status: 'running',
    created_at: new Date().toISOString(),
    thread_lock: `${fields.agent_id}:default`,
    ...fields,
  });
}
