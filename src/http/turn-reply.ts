import type { FastifyReply } from 'fastify';
import { CairnError } from '../lib/errors.js';
import { lettaResponse } from '../runtime/turn-types.js';
import type { StartedTurn } from '../runtime/turns.js';
import { writeSse } from './sse.js';

/** Sends a started turn as SSE (the live chunks from seq 1) or, for a sync send, as a `LettaResponse` (§4.7). */
export async function replyWithTurn(
  reply: FastifyReply,
  turn: StartedTurn,
  streaming: boolean,
  includePings: boolean,
): Promise<unknown> {
  if (streaming) {
    await writeSse(reply, turn.runId, includePings, {
      start: (emit, end) => turn.live.subscribe(0, (c) => (c ? emit(c) : end())),
    });
    return reply;
  }
  const outcome = await turn.outcome;
  if (outcome.error) {
    // The run already consumed the input; an automatic SDK retry would send it twice.
    throw new CairnError(outcome.error.status, outcome.error.message, { 'x-should-retry': 'false' });
  }
  return lettaResponse(outcome);
}
