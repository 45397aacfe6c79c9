import { z } from 'zod';
import { idOf, queryInt, queryLimit } from './common.js';

/**
 * Who made a write. `agent_tool`: a memory tool, Cairn's own agent's or one an MCP client (Claude Code) called;
 * `api`: a REST client; `hook`: the Claude Code hooks; `import`: an agent file or other bulk load; `system`: Cairn
 * itself (the first entry of blocks older than the history).
 */
export const ACTOR_KINDS = ['agent_tool', 'api', 'hook', 'import', 'system'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

/** Who made a change: a kind, and which one of it. */
export interface Actor {
  kind: ActorKind;
  /** The agent id for Cairn's tools, or the client's own name (`cli`, `mcp`, `inspector`, a User-Agent). */
  name: string | null;
}

/** Cairn extension (Letta keeps a block history internally but serves no route for it). */
export const blockHistoryEntrySchema = z
  .object({
    block_id: z.string(),
    /** The block's `version` after this write; the first entry of a block created since history exists is 1. */
    version: z.number().int(),
    label: z.string(),
    value: z.string(),
    limit: z.number().int(),
    description: z.string().nullable(),
    read_only: z.boolean(),
    actor: z.object({ kind: z.enum(ACTOR_KINDS), name: z.string().nullable() }),
    /** Set when this write restored an earlier version: that version. */
    restored_from: z.number().int().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'BlockHistoryEntry' });
export type BlockHistoryEntry = z.infer<typeof blockHistoryEntrySchema>;

export const blockHistoryQuery = z.object({
  limit: queryLimit(50),
  /** Only entries older than this version (the next page, newest first). */
  before: queryInt({ min: 1 }),
});

export const blockVersionParams = z.object({
  block_id: idOf('block'),
  version: z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), z.number().int().min(1)),
});
