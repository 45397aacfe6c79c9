import { z } from 'zod';

/** Per-agent counts the memory inspector lists (`GET /v1/cairn/agent-summaries`, a Cairn extension). */
export const agentSummarySchema = z
  .object({
    agent_id: z.string(),
    blocks: z.number().int(),
    passages: z.number().int(),
    messages: z.number().int(),
    conversations: z.number().int(),
    last_message_at: z.string().nullable(),
  })
  .meta({ id: 'AgentSummary' });
export type AgentSummary = z.infer<typeof agentSummarySchema>;
