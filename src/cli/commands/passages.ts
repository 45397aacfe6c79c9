import type { Command } from 'commander';
import { archivalDelete, archivalInsert, archivalSearch, passageView } from '../../mcp/ops.js';
import { action, clientFrom, withConnection, type ClientFlags } from '../common.js';
import { print, record, table, type Column } from '../output.js';
import { positive } from './agents.js';

type Passage = ReturnType<typeof passageView>;

const columns: Column<Passage>[] = [
  { header: 'id', value: (p) => p.id, max: 44 },
  { header: 'created', value: (p) => p.created_at?.slice(0, 19), max: 19 },
  { header: 'tags', value: (p) => p.tags, max: 24 },
  { header: 'text', value: (p) => p.text, max: 70 },
];

const collect = (value: string, previous: string[] = []) => [...previous, value];

function agentOf(o: { agent?: string }): string {
  const id = o.agent ?? process.env.LETTA_AGENT_ID;
  if (!id) throw new Error('--agent is required (or set LETTA_AGENT_ID)');
  return id;
}

export function registerPassages(program: Command): void {
  const passages = program
    .command('passages')
    .description("List, show, create, edit and search an agent's archival memory");
  const sub = (name: string, description: string) =>
    withConnection(
      passages
        .command(name)
        .description(description)
        .option('--json', 'print JSON instead of a table')
        .option('--agent <agent-id>', 'the agent (env LETTA_AGENT_ID)'),
    );

  sub('list', 'List passages, newest last')
    .option('--search <text>', 'only passages containing this text')
    .option('--limit <n>', 'most to list', '50')
    .action(
      action(async (o: ClientFlags & { agent?: string; search?: string; limit: string }) => {
        const rows = await clientFrom(o).agents.passages.list(agentOf(o), {
          limit: positive(o.limit),
          ...(o.search ? { search: o.search } : {}),
        });
        const views = rows.map((p) => passageView(p));
        print(o.json === true, views, () => table(views, columns));
      }),
    );

  sub('search', 'Search passages by meaning and keywords')
    .argument('<query>')
    .option('--tag <tag>', 'tag filter (repeatable)', collect)
    .option('--all-tags', 'require every tag (default: any)')
    .option('--top-k <n>', 'most results', '10')
    .option('--start <date>', 'earliest, ISO date or datetime')
    .option('--end <date>', 'latest, ISO date or datetime')
    .action(
      action(
        async (
          query: string,
          o: ClientFlags & {
            agent?: string;
            tag?: string[];
            allTags?: boolean;
            topK: string;
            start?: string;
            end?: string;
          },
        ) => {
          const out = await archivalSearch(clientFrom(o), agentOf(o), {
            query,
            tags: o.tag,
            tag_match_mode: o.allTags ? 'all' : 'any',
            top_k: positive(o.topK, 'top-k'),
            start_datetime: o.start,
            end_datetime: o.end,
          });
          const rows = (out.data as { id: string | null; content: string; tags: string[]; timestamp: string }[]).map(
            (r) => ({ id: r.id, text: r.content, tags: r.tags, created_at: r.timestamp }),
          );
          print(o.json === true, rows, () => table(rows, columns));
        },
      ),
    );

  sub('show', 'Show one passage in full')
    .argument('<passage-id>')
    .action(
      action(async (id: string, o: ClientFlags & { agent?: string }) => {
        const found = await findPassage(o, id);
        print(o.json === true, found, () =>
          record([
            ['id', found.id],
            ['created_at', found.created_at],
            ['tags', found.tags],
            ['text', `${found.text}\n`],
          ]),
        );
      }),
    );

  sub('create', 'Insert a passage')
    .argument('<text>')
    .option('--tag <tag>', 'tag (repeatable)', collect)
    .action(
      action(async (text: string, o: ClientFlags & { agent?: string; tag?: string[] }) => {
        const out = await archivalInsert(clientFrom(o), agentOf(o), text, o.tag);
        const created = (out.data as Passage[])[0]!;
        print(o.json === true, created, () => `${created.id}\n`);
      }),
    );

  sub(
    'edit',
    'Replace the text of a passage (passages are immutable: this deletes it and inserts the new text, keeping tags and date)',
  )
    .argument('<passage-id>')
    .argument('<text>')
    .action(
      action(async (id: string, text: string, o: ClientFlags & { agent?: string }) => {
        const old = await findPassage(o, id);
        const client = clientFrom(o);
        const out = await archivalInsert(client, agentOf(o), text, old.tags, old.created_at ?? undefined);
        await archivalDelete(client, agentOf(o), id);
        const created = (out.data as Passage[])[0]!;
        print(o.json === true, created, () => `${created.id} (replaces ${id})\n`);
      }),
    );

  sub('delete', 'Delete a passage')
    .argument('<passage-id>')
    .action(
      action(async (id: string, o: ClientFlags & { agent?: string }) => {
        await archivalDelete(clientFrom(o), agentOf(o), id);
        print(o.json === true, { deleted: id }, () => `${id} deleted\n`);
      }),
    );
}

/** Letta has no GET for one passage: page through the agent's list until it turns up. */
async function findPassage(o: ClientFlags & { agent?: string }, id: string): Promise<Passage> {
  const client = clientFrom(o);
  const agentId = agentOf(o);
  let after: string | undefined;
  for (;;) {
    const page = await client.agents.passages.list(agentId, {
      limit: 500,
      ascending: true,
      ...(after ? { after } : {}),
    });
    const hit = page.find((p) => p.id === id);
    if (hit) return passageView(hit);
    if (page.length < 500) throw new Error(`passage ${id} not found for agent ${agentId}`);
    after = page[page.length - 1]!.id ?? undefined;
  }
}
