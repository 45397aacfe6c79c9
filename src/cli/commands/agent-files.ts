import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { toFile } from '@letta-ai/letta-client';
import type { Command } from 'commander';
import { action, clientFrom, progress, progressDone, withConnection, type ClientFlags } from '../common.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `KEY=VALUE` pairs for the secrets an agent file names but never carries. */
function secretsFrom(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--secret expects KEY=VALUE, got '${pair}'`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/**
 * `cairn export <agent> > a.af` and `cairn import a.af`: Letta Agent Files over the official SDK, the file on stdout
 * and the progress on stderr, so the output can be redirected as it is.
 */
export function registerAgentFiles(program: Command): void {
  withConnection(
    program
      .command('export')
      .description('Write an agent as a Letta Agent File (.af) to stdout')
      .argument('<agent-id>')
      .option('--conversation <id>', "export this conversation's messages instead of the agent's own thread")
      .option('--scrub-messages', 'leave every message out (configuration and memory only)')
      .option('--include-passages', "carry the agent's archival memory too (a Cairn extension)"),
  ).action(
    action(
      async (
        agentId: string,
        o: ClientFlags & { conversation?: string; scrubMessages?: boolean; includePassages?: boolean },
      ) => {
        progress(`exporting ${agentId}…`);
        const file = (await clientFrom(o).agents.exportFile(agentId, {
          ...(o.conversation ? { conversation_id: o.conversation } : {}),
          ...(o.scrubMessages ? { scrub_messages: true } : {}),
          // Not in the SDK's types: the SDK sends query fields as they are.
          ...(o.includePassages ? ({ include_passages: true } as object) : {}),
        })) as unknown as { agents: { name: string; messages: unknown[] }[]; blocks: unknown[]; tools: unknown[] };
        progressDone();
        process.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
        const [agent] = file.agents;
        process.stderr.write(
          `exported ${agent?.name ?? agentId}: ${agent?.messages.length ?? 0} messages, ${file.blocks.length} blocks, ${file.tools.length} tools\n`,
        );
      },
    ),
  );

  withConnection(
    program
      .command('import')
      .description('Create the agents of a Letta Agent File (.af); prints their new ids')
      .argument('<file>')
      .option('--name <name>', 'name the imported agent this')
      .option('--no-copy-suffix', 'keep the name as it is (Letta appends "_copy" by default)')
      .option('--strip-messages', 'import without the message history')
      .option('--keep-existing-tools', 'reuse tools of the same name as they are instead of overwriting their source')
      .option('--secret <KEY=VALUE>', 'a value for a secret the file names (repeatable)', collect)
      .option('--model <handle>', 'use this model instead of the one in the file')
      .option('--json', 'print JSON'),
  ).action(
    action(
      async (
        path: string,
        o: ClientFlags & {
          name?: string;
          copySuffix: boolean;
          stripMessages?: boolean;
          keepExistingTools?: boolean;
          secret?: string[];
          model?: string;
        },
      ) => {
        const bytes = await readFile(path);
        progress(`importing ${basename(path)} (${bytes.length} bytes)…`);
        const { agent_ids } = await clientFrom(o).agents.importFile({
          file: await toFile(bytes, basename(path)),
          append_copy_suffix: o.copySuffix,
          override_existing_tools: !o.keepExistingTools,
          strip_messages: o.stripMessages === true,
          ...(o.name ? { name: o.name } : {}),
          ...(o.model ? { model: o.model } : {}),
          ...(o.secret ? { secrets: JSON.stringify(secretsFrom(o.secret)) } : {}),
        });
        progressDone();
        process.stdout.write(o.json === true ? `${JSON.stringify({ agent_ids })}\n` : `${agent_ids.join('\n')}\n`);
        process.stderr.write(`imported ${agent_ids.length} agent${agent_ids.length === 1 ? '' : 's'}\n`);
      },
    ),
  );
}
