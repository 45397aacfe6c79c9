import type { Command } from 'commander';
import { action, clientFrom, withConnection, type ClientFlags } from '../common.js';
import { print, record, table, type Column } from '../output.js';

type Agent = {
  id: string;
  name: string;
  description?: string | null;
  tags?: string[] | null;
  model?: string | null;
  created_at?: string | null;
  blocks?: { label?: string | null; value: string }[];
};

const columns: Column<Agent>[] = [
  { header: 'id', value: (a) => a.id, max: 42 },
  { header: 'name', value: (a) => a.name, max: 32 },
  { header: 'tags', value: (a) => a.tags ?? [], max: 40 },
  { header: 'model', value: (a) => a.model, max: 30 },
  { header: 'description', value: (a) => a.description, max: 50 },
];

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerAgents(program: Command): void {
  const agents = program.command('agents').description('List, show, create, edit and search agents');
  const sub = (name: string, description: string) =>
    withConnection(agents.command(name).description(description).option('--json', 'print JSON instead of a table'));

  sub('list', 'List agents')
    .option('--name <name>', 'exact name')
    .option('--tag <tag>', 'tag filter (repeatable; any matches)', collect)
    .option('--limit <n>', 'most to list', '50')
    .action(
      action(async (o: ClientFlags & { name?: string; tag?: string[]; limit: string }) => {
        const list = (
          await clientFrom(o).agents.list({
            limit: positive(o.limit),
            include: ['agent.tags'],
            ...(o.name ? { name: o.name } : {}),
            ...(o.tag ? { tags: o.tag } : {}),
          })
        ).getPaginatedItems();
        print(o.json === true, list, () => table(list, columns));
      }),
    );

  sub('search', 'Search agents by text in their name or description')
    .argument('<query>')
    .option('--limit <n>', 'most to list', '50')
    .action(
      action(async (query: string, o: ClientFlags & { limit: string }) => {
        const list = (
          await clientFrom(o).agents.list({ query_text: query, limit: positive(o.limit), include: ['agent.tags'] })
        ).getPaginatedItems();
        print(o.json === true, list, () => table(list, columns));
      }),
    );

  sub('show', 'Show one agent with its memory blocks')
    .argument('<agent-id>')
    .action(
      action(async (id: string, o: ClientFlags) => {
        const agent = await clientFrom(o).agents.retrieve(id, { include: ['agent.blocks', 'agent.tags'] });
        print(o.json === true, agent, () => showAgent(agent));
      }),
    );

  sub('create', 'Create an agent')
    .requiredOption('--name <name>', 'agent name')
    .option('--description <text>')
    .option('--model <handle>', 'LLM handle, e.g. openai/gpt-4o-mini (server default otherwise)')
    .option('--embedding <handle>', 'embedding handle (server default otherwise)')
    .option('--tag <tag>', 'tag (repeatable)', collect)
    .option('--block <label=value>', 'memory block (repeatable)', collect)
    .action(
      action(
        async (
          o: ClientFlags & {
            name: string;
            description?: string;
            model?: string;
            embedding?: string;
            tag?: string[];
            block?: string[];
          },
        ) => {
          const memory_blocks = (o.block ?? []).map((spec) => {
            const at = spec.indexOf('=');
            if (at <= 0) throw new Error(`--block expects label=value, got '${spec}'`);
            return { label: spec.slice(0, at), value: spec.slice(at + 1) };
          });
          const agent = await clientFrom(o).agents.create({
            name: o.name,
            ...(o.description ? { description: o.description } : {}),
            ...(o.model ? { model: o.model } : {}),
            ...(o.embedding ? { embedding: o.embedding } : {}),
            ...(o.tag ? { tags: o.tag } : {}),
            ...(memory_blocks.length ? { memory_blocks } : {}),
          });
          print(o.json === true, agent, () => `${agent.id}\n`);
        },
      ),
    );

  sub('edit', "Change an agent's name, description, system prompt, model or tags")
    .argument('<agent-id>')
    .option('--name <name>')
    .option('--description <text>')
    .option('--system <prompt>')
    .option('--model <handle>')
    .option('--tag <tag>', 'replace the tags (repeatable)', collect)
    .action(
      action(
        async (
          id: string,
          o: ClientFlags & { name?: string; description?: string; system?: string; model?: string; tag?: string[] },
        ) => {
          const body = Object.fromEntries(
            Object.entries({
              name: o.name,
              description: o.description,
              system: o.system,
              model: o.model,
              tags: o.tag,
            }).filter(([, v]) => v !== undefined),
          );
          if (Object.keys(body).length === 0)
            throw new Error('nothing to change: pass --name, --description, --system, --model or --tag');
          const agent = await clientFrom(o).agents.update(id, body);
          print(o.json === true, agent, () => `${agent.id} updated\n`);
        },
      ),
    );
}

function showAgent(agent: Agent & { system?: string | null }): string {
  const head = record([
    ['id', agent.id],
    ['name', agent.name],
    ['description', agent.description],
    ['tags', agent.tags ?? []],
    ['model', agent.model],
    ['created_at', agent.created_at],
  ]);
  const blocks = (agent.blocks ?? [])
    .map((b) => `\n[${b.label ?? ''}] (${b.value.length} chars)\n${b.value}\n`)
    .join('');
  return head + blocks;
}

export function positive(value: string, name = 'limit'): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not '${value}'`);
  return n;
}
