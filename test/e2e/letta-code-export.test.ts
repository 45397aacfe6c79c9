/**
 * Letta Code's `/export` against Cairn, with the real CLI. The command exists only in the interactive TUI of the
 * versions before Letta Code dropped `.af` files (0.32.x has no `/export`), so the TUI runs under a pseudo-terminal
 * (letta-code-tui.ts). It calls `GET /v1/agents/{id}/export` (with `conversation_id` only when the session is in a
 * conversation other than the agent's default) and writes `<conversation or agent id>.af` into its working directory.
 * The written file must satisfy Letta's AgentFileSchema, hold what the SDK shows of the agent (blocks, tools, the
 * messages of a turn run in the TUI), and import back through the SDK into an agent equal to the original but for ids.
 *
 * The install rule is the one in letta-code.test.ts: skipped without an install, a failure under CI=true.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFile } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparableAgent } from '../support/agent-files.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { expectLettaSchema } from '../support/openapi.js';
import {
  describeInstall,
  enabled,
  ENV_FILE,
  failures,
  install,
  installs,
  versionAtLeast,
} from './letta-code-install.js';
import { startTui } from './letta-code-tui.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';

const CLI_TEST_TIMEOUT = 180_000;
const AGENT_NAME = 'af-export-agent';

// The SDK types the export as a string; the server sends JSON, which the SDK parses.
type AgentFileJson = { agents: Record<string, any>[]; blocks: Record<string, any>[]; tools: Record<string, any>[] };

/** The text of typed content parts, as a file message and a multi-part SDK message both carry it. */
const partsText = (content: unknown) => ((content ?? []) as { text?: string }[]).map((p) => p.text ?? '').join('');

/** The SDK's listing joins a message's parts with line breaks where the file keeps them apart: compare the text. */
const unspaced = (text: string) => text.replace(/\s+/g, '');

/** The user and assistant messages as the SDK lists them, as [message_type, text] pairs. */
const dialogue = (messages: { message_type?: string; content?: unknown }[]) =>
  messages.flatMap((m) =>
    m.message_type === 'user_message' || m.message_type === 'assistant_message'
      ? [[m.message_type, unspaced(typeof m.content === 'string' ? m.content : partsText(m.content))]]
      : [],
  );

describe.skipIf(!enabled)('Letta Code /export', () => {
  it('is installed (scripts/install-letta-code.sh)', () => {
    expect(install, `${ENV_FILE} is missing: run scripts/install-letta-code.sh (CI=true requires it)`).toBeDefined();
  });

  const exporting = installs.filter((i) => !versionAtLeast(i.LETTA_CODE_VERSION!, '0.32.0'));
  describe.each(exporting.map((i) => [describeInstall(i), i] as const))('%s', (_label, cli) => {
    describe.each(testDialects())('%s', (dialect) => {
      let llm: FakeLlm;
      let t: TestCairn;
      let proxy: RecordingProxy;
      let home: string;
      let cwd: string;

      beforeAll(async () => {
        llm = await startFakeLlm();
        t = await startCairn(dialect, {}, llm.env());
        proxy = await startRecordingProxy(t.baseURL);
        home = mkdtempSync(join(tmpdir(), 'cairn-lc-export-home-'));
        cwd = mkdtempSync(join(tmpdir(), 'cairn-lc-export-cwd-'));
      }, 60_000);
      afterAll(async () => {
        await proxy?.close();
        await t?.close();
        await llm?.close();
        for (const dir of [home, cwd]) if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it(
        'writes an .af file of the agent that the SDK imports back into an equal agent',
        async () => {
          const agent = await t.client.agents.create({
            name: AGENT_NAME,
            model: 'openai/gpt-4o-mini',
            description: 'exported by Letta Code',
            tags: ['af-export'],
            memory_blocks: [
              { label: 'human', value: 'Name: Ada', limit: 800 },
              { label: 'persona', value: 'Terse and exact.', description: 'who I am' },
            ],
          });
          llm.setDefault({ text: 'Exports are ready.', chunkDelayMs: 2 });

          const from = proxy.exchanges.length;
          const tui = startTui(cli, proxy.url, home, cwd, agent.id);
          let written: string;
          try {
            await tui.waitFor(new RegExp(AGENT_NAME));
            // A turn first, so that the session's conversation has history for the file to carry.
            tui.type('Are exports ready?');
            await tui.waitFor(/Are exports ready\?/);
            tui.type('\r');
            await tui.waitFor(/Exports are ready\./);
            tui.type('/export');
            await tui.waitFor(/\/export/);
            tui.type('\r');
            written = (await tui.waitFor(/AgentFile exported to (\S+\.af)/)).match(
              /AgentFile exported to (\S+\.af)/,
            )![1]!;
          } catch (error) {
            (error as Error).message += `\n--- HTTP transcript:\n${proxy.transcript()}`;
            throw error;
          } finally {
            await tui.stop();
          }
          const ex = proxy.exchanges.slice(from);
          expect(failures(ex)).toEqual([]);

          // The file is where Letta Code says (beside its .letta project settings), named after what it exported.
          const exportCall = ex.find((e) => e.method === 'GET' && e.url.startsWith(`/v1/agents/${agent.id}/export`))!;
          expect(exportCall?.status).toBe(200);
          // 0.25.9 opens `--agent` in the agent's default conversation, so it exports the agent, not a conversation.
          expect(new URL(exportCall.url, proxy.url).searchParams.has('conversation_id')).toBe(false);
          expect(written).toBe(`${agent.id}.af`);
          expect(readdirSync(cwd).filter((name) => name.endsWith('.af'))).toEqual([written]);
          const file = JSON.parse(readFileSync(join(cwd, written), 'utf8')) as AgentFileJson;
          expectLettaSchema('AgentFileSchema', file);
          // Letta Code writes the server's document as it came, pretty-printed (plus skills, of which there are none).
          expect(file).toEqual(JSON.parse(exportCall.responseBody));

          // It holds the agent as the SDK sees it: its blocks, its tools with their source, its conversation.
          const [fileAgent] = file.agents;
          expect(file.agents).toHaveLength(1);
          expect(fileAgent).toMatchObject({
            name: AGENT_NAME,
            description: 'exported by Letta Code',
            tags: ['af-export'],
          });
          const blocks = (await t.client.agents.blocks.list(agent.id)).getPaginatedItems();
          const blockById = new Map(file.blocks.map((b) => [b.id, b]));
          expect(
            (fileAgent!.block_ids as string[]).map((id) => {
              const b = blockById.get(id)!;
              return [b.label, b.value, b.limit, b.description ?? null];
            }),
          ).toEqual(blocks.map((b) => [b.label, b.value, b.limit, b.description ?? null]));
          const tools = (await t.client.agents.tools.list(agent.id)).getPaginatedItems();
          const toolById = new Map(file.tools.map((tool) => [tool.id, tool]));
          expect((fileAgent!.tool_ids as string[]).map((id) => toolById.get(id)!.name).sort()).toEqual(
            tools.map((tool) => tool.name).sort(),
          );
          // Letta Code swaps in its own toolset on start; every tool the agent keeps travels with its schema.
          for (const tool of tools)
            expect(
              toolById.get((fileAgent!.tool_ids as string[]).find((id) => toolById.get(id)!.name === tool.name)!),
            ).toMatchObject({ name: tool.name, tool_type: tool.tool_type, json_schema: { name: tool.name } });

          const listed = await t.client.agents.messages.list(agent.id, { order: 'asc' });
          const sdkTexts = dialogue(listed.getPaginatedItems());
          const fileTexts = (fileAgent!.messages as Record<string, any>[]).flatMap((m) =>
            m.role === 'user' || m.role === 'assistant' ? [[`${m.role}_message`, unspaced(partsText(m.content))]] : [],
          );
          expect(sdkTexts.map(([, text]) => text)).toEqual(
            expect.arrayContaining([expect.stringContaining('Areexportsready?'), 'Exportsareready.']),
          );
          expect(fileTexts).toEqual(sdkTexts);
          expect(fileAgent!.in_context_message_ids).toEqual(
            expect.arrayContaining((fileAgent!.messages as { id: string }[]).map((m) => m.id)),
          );

          // And it imports back through the SDK into an agent equal to the original in everything but ids.
          const { agent_ids } = await t.client.agents.importFile({
            file: await toFile(readFileSync(join(cwd, written)), written),
          });
          expect(agent_ids).toHaveLength(1);
          expect(agent_ids[0]).not.toBe(agent.id);
          const include = ['agent.blocks', 'agent.tools', 'agent.tags'] as const;
          const [original, copy] = await Promise.all(
            [agent.id, agent_ids[0]!].map((id) => t.client.agents.retrieve(id, { include: [...include] })),
          );
          expect(comparableAgent(copy!)).toEqual({ ...comparableAgent(original!), name: `${AGENT_NAME}_copy` });
          const copied = await t.client.agents.messages.list(copy!.id, { order: 'asc' });
          expect(dialogue(copied.getPaginatedItems())).toEqual(sdkTexts);
          expect(copy!.blocks!.map((b) => b.id)).not.toEqual(original!.blocks!.map((b) => b.id));
        },
        CLI_TEST_TIMEOUT,
      );
    });
  });
});
