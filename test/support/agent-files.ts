import type { AgentState } from '@letta-ai/letta-client/resources/agents/agents';

/**
 * An agent as the SDK retrieves it, with what an import must renew (ids, timestamps, the last run's outcome, the
 * compiled memory that quotes them) blanked, so that `import(export(a))` can be compared with `a` as a whole.
 */
export const comparableAgent = (a: AgentState) => ({
  ...a,
  id: null,
  created_at: null,
  updated_at: null,
  message_ids: a.message_ids?.length,
  last_run_completion: null,
  last_run_duration_ms: null,
  last_stop_reason: null,
  memory: null,
  blocks: a.blocks?.map((b) => ({ ...b, id: null, created_at: null, updated_at: null })),
});
