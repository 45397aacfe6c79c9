import { z } from 'zod';
import { idOf, opt, pageQuery, queryArray, queryBool, queryOptionalBool, queryString } from './common.js';

export const runIdParams = z.object({ run_id: idOf('run') });

export const runSchema = z
  .looseObject({ id: z.string(), agent_id: z.string(), status: z.string() })
  .meta({ id: 'Run' });
export const stepSchema = z.looseObject({ id: z.string() }).meta({ id: 'Step' });

export const listRunsQuery = pageQuery(100).extend({
  agent_id: queryString(),
  agent_ids: queryArray(z.string()),
  statuses: queryArray(z.enum(['created', 'running', 'completed', 'failed', 'cancelled'])),
  background: queryOptionalBool(),
  stop_reason: queryString(),
  conversation_id: queryString(),
  active: queryBool(false),
  ascending: queryOptionalBool(),
  order_by: queryString(),
});
export type ListRunsQuery = z.infer<typeof listRunsQuery>;

export const activeRunsQuery = z.object({ agent_id: queryString(), background: queryOptionalBool() });

/** `RetrieveStreamRequest` (§3.2/§6.7). */
export const streamResumeSchema = z.looseObject({
  agent_id: opt(idOf('agent')),
  run_id: opt(idOf('run')),
  starting_after: opt(z.number().int().min(0)),
  include_pings: opt(z.boolean()),
  poll_interval: opt(z.number().positive()),
  batch_size: opt(z.number().int().positive()),
});
export type StreamResume = z.infer<typeof streamResumeSchema>;
