import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LiveRun } from '../../src/runtime/run-stream.js';
import type { Stores } from '../../src/store/index.js';
import { type RunChunk } from '../../src/domain/turns.js';

/** Stores whose only used method records (or refuses) chunk appends. */
function chunkSink(fail: () => boolean) {
  const written: { seqId: number; data: string }[][] = [];
  const stores = {
    runs: {
      appendChunks: async (_runId: string, chunks: { seqId: number; data: string }[]) => {
        if (fail()) throw new Error('commit failed');
        written.push(chunks);
      },
    },
  } as unknown as Stores;
  return { stores, written };
}

describe('a live run’s final chunks', () => {
  it('reach subscribers only after their transaction commits; a failed one shows and loses nothing', async () => {
    let failing = true;
    const { stores, written } = chunkSink(() => failing);
    const run = new LiveRun('run-1', stores, true, pino({ level: 'silent' }));
    const seen: (RunChunk | null)[] = [];
    run.subscribe(0, (c) => seen.push(c));
    run.push({ message_type: 'assistant_message', content: 'hi' });

    // The step's batch fails: nothing final is shown, and the unstored delta is still pending.
    await expect(run.finishInto(stores, [{ message_type: 'stop_reason', stop_reason: 'end_turn' }])).rejects.toThrow(
      'commit failed',
    );
    expect(seen.map((c) => c?.seqId)).toEqual([1]);

    // The turn records its failure instead, and that commits.
    failing = false;
    await run.finishInto(stores, [
      { message_type: 'stop_reason', stop_reason: 'error' },
      { message_type: 'error_message', message: 'boom' },
    ]);
    expect(seen.map((c) => c?.seqId)).toEqual([1]);
    run.publishFinal();
    await run.close();

    expect(seen.map((c) => (c ? [c.seqId, JSON.parse(c.data).message_type, c.error] : null))).toEqual([
      [1, 'assistant_message', false],
      [2, 'stop_reason', false],
      [3, 'error_message', true],
      null,
    ]);
    expect(JSON.parse(seen[1]!.data).stop_reason).toBe('error');
    // Stored once each, in order, with no gap.
    expect(written.flat().map((c) => c.seqId)).toEqual([1, 2, 3]);
  });
});
