import type { Command } from 'commander';
import { blockView, createBlock, updateBlock, type UpdateMode } from '../../mcp/ops.js';
import { action, clientFrom, withConnection, type ClientFlags } from '../common.js';
import { print, record, table, type Column } from '../output.js';
import { positive } from './agents.js';
import { registerBlockHistory } from './block-history.js';

type Block = ReturnType<typeof blockView>;

const columns: Column<Block>[] = [
  { header: 'id', value: (b) => b.id, max: 42 },
  { header: 'label', value: (b) => b.label, max: 24 },
  { header: 'chars', value: (b) => `${b.chars}/${b.limit ?? '-'}` },
  { header: 'ro', value: (b) => (b.read_only ? 'yes' : '') },
  { header: 'value', value: (b) => b.value, max: 60 },
];

const agentOption = '--agent <agent-id>';
const agentHelp = 'agent whose blocks to use (env LETTA_AGENT_ID); block arguments are then labels';
const agentOf = (o: { agent?: string }) => o.agent ?? process.env.LETTA_AGENT_ID;

export function registerBlocks(program: Command): void {
  const blocks = program.command('blocks').description('List, show, create, edit and search memory blocks');
  const sub = (name: string, description: string) =>
    withConnection(blocks.command(name).description(description).option('--json', 'print JSON instead of a table'));

  sub('list', "List blocks: an agent's core memory, or all blocks")
    .option(agentOption, 'list this agent’s blocks (default: all blocks)')
    .option('--label <label>')
    .option('--limit <n>', 'most to list', '50')
    .action(
      action(async (o: ClientFlags & { agent?: string; label?: string; limit: string }) => {
        const client = clientFrom(o);
        const agentId = agentOf(o);
        const rows = agentId
          ? (await client.agents.blocks.list(agentId, { limit: positive(o.limit) })).getPaginatedItems()
          : (
              await client.blocks.list({ limit: positive(o.limit), ...(o.label ? { label: o.label } : {}) })
            ).getPaginatedItems();
        const views = rows.filter((b) => !o.label || b.label === o.label).map((b) => blockView(b));
        print(o.json === true, views, () => table(views, columns));
      }),
    );

  sub('search', 'Find blocks whose value (or, with --label-only, label) contains the text')
    .argument('<text>')
    .option('--label-only', 'search labels instead of values')
    .option('--limit <n>', 'most to list', '50')
    .action(
      action(async (text: string, o: ClientFlags & { labelOnly?: boolean; limit: string }) => {
        const rows = (
          await clientFrom(o).blocks.list({
            limit: positive(o.limit),
            ...(o.labelOnly ? { label_search: text } : { value_search: text }),
          })
        ).getPaginatedItems();
        const views = rows.map((b) => blockView(b));
        print(o.json === true, views, () => table(views, columns));
      }),
    );

  sub('show', 'Show one block by id (or by label with --agent)')
    .argument('<block>')
    .option(agentOption, agentHelp)
    .action(
      action(async (block: string, o: ClientFlags & { agent?: string }) => {
        const client = clientFrom(o);
        const agentId = agentOf(o);
        const found =
          agentId && !block.startsWith('block-')
            ? await client.agents.blocks.retrieve(block, { agent_id: agentId })
            : await client.blocks.retrieve(block);
        const view = blockView(found);
        print(o.json === true, view, () => showBlock(view, found.description));
      }),
    );

  sub('create', 'Create a block (attached to --agent when given)')
    .requiredOption('--label <label>')
    .option('--value <text>', 'initial value', '')
    .option('--description <text>')
    .option('--limit <chars>', 'character limit')
    .option('--read-only', 'agents cannot edit it')
    .option(agentOption, 'attach to this agent')
    .action(
      action(
        async (
          o: ClientFlags & {
            label: string;
            value: string;
            description?: string;
            limit?: string;
            readOnly?: boolean;
            agent?: string;
          },
        ) => {
          const agentId = agentOf(o);
          const { data } = await createBlock(clientFrom(o), agentId, {
            label: o.label,
            value: o.value,
            description: o.description || undefined,
            limit: o.limit ? positive(o.limit) : undefined,
            read_only: o.readOnly || undefined,
          });
          const created = data as Block;
          print(o.json === true, created, () => `${created.id}${agentId ? ` (attached to ${agentId})` : ''}\n`);
        },
      ),
    );

  sub(
    'edit',
    'Edit a block: by id, or by label with --agent (then --append and --replace work like the agent memory tools)',
  )
    .argument('<block>')
    .option(agentOption, agentHelp)
    .option('--value <text>', 'replace the whole value')
    .option('--append <text>', 'append a line (with --agent)')
    .option('--replace <old>', 'text to replace, exactly once (with --agent and --with)')
    .option('--with <new>', 'replacement for --replace', '')
    .option('--description <text>')
    .option('--limit <chars>', 'character limit')
    .action(
      action(
        async (
          block: string,
          o: ClientFlags & {
            agent?: string;
            value?: string;
            append?: string;
            replace?: string;
            with: string;
            description?: string;
            limit?: string;
          },
        ) => {
          const client = clientFrom(o);
          const agentId = agentOf(o);
          if (o.append !== undefined || o.replace !== undefined) {
            if (!agentId) throw new Error('--append and --replace need --agent (the block is then named by label)');
            const mode: UpdateMode = o.append !== undefined ? 'append' : 'str_replace';
            const out = await updateBlock(client, agentId, {
              label: block,
              mode,
              value: o.append,
              old_text: o.replace,
              new_text: o.with,
            });
            return print(o.json === true, out.data, () => `${block} updated\n`);
          }
          const body = Object.fromEntries(
            Object.entries({
              value: o.value,
              description: o.description,
              limit: o.limit ? positive(o.limit) : undefined,
            }).filter(([, v]) => v !== undefined),
          );
          if (Object.keys(body).length === 0)
            throw new Error('nothing to change: pass --value, --append, --replace, --description or --limit');
          const updated =
            agentId && !block.startsWith('block-')
              ? await client.agents.blocks.update(block, { agent_id: agentId, ...body })
              : await client.blocks.update(block, body);
          print(o.json === true, blockView(updated), () => `${updated.id} updated\n`);
        },
      ),
    );

  registerBlockHistory(blocks);
}

function showBlock(b: Block, description: string | null | undefined): string {
  return record([
    ['id', b.id],
    ['label', b.label],
    ['description', description],
    ['chars', `${b.chars}/${b.limit ?? '-'}`],
    ['read_only', b.read_only],
    ['value', `${b.value}\n`],
  ]);
}
