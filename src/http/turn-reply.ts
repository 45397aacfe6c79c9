import type { FastifyReply } from 'fastify';
import { CairnError } from '../lib/errors.js';
import { writeSse } from './sse.js';
import { lettaResponse, type StartedTurn } from '../domain/turns.js';

/** Sends a started turn as SSE (the live chunks from seq 1) or, for a sync send, as a `LettaResponse` (§4.7). */
export async function replyWithTurn(
  reply: FastifyReply,
  turn: StartedTurn,
  streaming: boolean,
  includePings: boolean,
): Promise<unknown> {
  if (streaming) {
    await writeSse(reply, turn.runId, includePings, turn.stream);
    return reply;
  }
  const outcome = await turn.outcome;
  if (outcome.error) {
    // The run already consumed the input; an automatic SDK retry would send it twice.
    throw new CairnError(outcome.error.status, outcome.error.message, { 'x-should-retry': 'false' });
  }
  return lettaResponse(outcome);
}
