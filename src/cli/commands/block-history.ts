import type { Command } from 'commander';
import type Letta from '@letta-ai/letta-client';
import type { BlockHistoryEntry } from '../../schemas/block-history.js';
import { action, clientFrom, withConnection, type ClientFlags } from '../common.js';
import { print, table, type Column } from '../output.js';
import { positive } from './agents.js';

const columns: Column<BlockHistoryEntry>[] = [
  { header: 'version', value: (e) => (e.restored_from ? `${e.version} (restores ${e.restored_from})` : e.version) },
  { header: 'when', value: (e) => e.created_at },
  { header: 'by', value: (e) => (e.actor.name ? `${e.actor.kind} (${e.actor.name})` : e.actor.kind), max: 40 },
  { header: 'chars', value: (e) => `${e.value.length}/${e.limit}` },
  { header: 'value', value: (e) => e.value, max: 50 },
];

/** A block id, or an agent's block by label. */
async function blockIdOf(client: Letta, block: string, agentId: string | undefined): Promise<string> {
  if (!agentId || block.startsWith('block-')) return block;
  return (await client.agents.blocks.retrieve(block, { agent_id: agentId })).id;
}

/**
 * `cairn blocks history`: Cairn's block history routes are an extension the SDK has no method for, so they are
 * called through the SDK's generic request methods (same auth, errors and base URL as every other command).
 */
export function registerBlockHistory(blocks: Command): void {
  withConnection(
    blocks
      .command('history')
      .description('Show who changed a block and when (newest first); --restore puts a version back')
      .argument('<block>')
      .option('--agent <agent-id>', 'agent whose block to use (env LETTA_AGENT_ID); <block> is then a label')
      .option('--limit <n>', 'most versions to list', '20')
      .option('--restore <version>', 'write this version back (value, limit and description)')
      .option('--json', 'print JSON instead of a table'),
  ).action(
    action(async (block: string, o: ClientFlags & { agent?: string; limit: string; restore?: string }) => {
      const client = clientFrom(o);
      const blockId = await blockIdOf(client, block, o.agent ?? process.env.LETTA_AGENT_ID);
      if (o.restore !== undefined) {
        const version = positive(o.restore, 'restore');
        const restored = await client.post<{ id: string }>(`/v1/blocks/${blockId}/history/${version}/restore`);
        return print(o.json === true, restored, () => `${restored.id} restored to version ${version}\n`);
      }
      const entries = await client.get<BlockHistoryEntry[]>(`/v1/blocks/${blockId}/history`, {
        query: { limit: positive(o.limit) },
      });
      print(o.json === true, entries, () => table(entries, columns));
    }),
  );
}
