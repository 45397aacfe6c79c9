import type { AgentCreateParams, AgentState } from '@letta-ai/letta-client/resources/agents/agents';
import { describe, expect, it } from 'vitest';
import { MAX_AGENT_CHAIN_DEPTH } from '../../src/runtime/agent-messenger.js';
import { testDialects } from '../support/cairn.js';
import type { FakeLlmRequest } from '../support/fake-llm.js';
import { useRuntime, waitFor } from './harness.js';

/** The text of the newest message the model was sent. */
const lastText = (request: FakeLlmRequest): string => {
  const content: unknown = request.body.messages.at(-1)?.content;
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map((p: { text?: string }) => p.text ?? '').join('') : '';
};
const incoming = (request: FakeLlmRequest) => lastText(request).startsWith('[Incoming message from');

describe.each(testDialects())('multi-agent tools [%s]', (dialect) => {
  const h = useRuntime(dialect);
  const model = 'openai/gpt-4o-mini';
  // In the upstream CreateAgentRequest, but not in the SDK's types.
  const createAgent = (name: string, tags: string[] = []) =>
    h.server.client.agents.create({ name, model, tags, include_multi_agent_tools: true } as AgentCreateParams);
  const toolReturns = (messages: object[]) =>
    (messages as { message_type: string }[]).filter((m) => m.message_type === 'tool_return_message') as unknown as {
      tool_return: string;
      status: string;
    }[];

  it('attaches the three tools with include_multi_agent_tools, and a waiting send returns the other reply', async () => {
    const client = h.server.client;
    const asker = await createAgent('asker');
    const answerer = await createAgent('answerer');
    expect(asker.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'send_message_to_agent_and_wait_for_reply',
        'send_message_to_agents_matching_tags',
        'send_message_to_agent_async',
      ]),
    );
    h.llm.script(
      {
        toolCalls: [
          {
            name: 'send_message_to_agent_and_wait_for_reply',
            arguments: { message: "What's 2+2?", other_agent_id: answerer.id },
          },
        ],
      },
      { text: 'Four, it says.' },
      { text: 'The answer is four.' },
    );
    const reply = await client.agents.messages.create(asker.id, { input: 'Ask the other agent' });
    // The answerer's turn ran between the asker's two steps: the second request is the answerer's.
    const calls = h.llm.calls;
    expect(lastText(calls[1]!)).toBe(
      `[Incoming message from agent with ID '${asker.id}' - to reply to this message, make sure to use the 'send_message' at the end, and the system will notify the sender of your response] What's 2+2?`,
    );
    expect(toolReturns(reply.messages)).toEqual([
      expect.objectContaining({
        status: 'success',
        tool_return: `{'agent_id': '${answerer.id}', 'response': ['Four, it says.']}`,
      }),
    ]);
    expect(reply.messages.at(-1)).toMatchObject({ message_type: 'assistant_message', content: 'The answer is four.' });

    // The answerer's turn is a run of its own, and its history keeps the message it was sent.
    const runs = (await client.runs.list({ agent_id: answerer.id })).items;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'completed' });
    const history = (await client.agents.messages.list(answerer.id, { order: 'asc' })).getPaginatedItems();
    expect(history.map((m) => m.message_type)).toEqual(['system_message', 'system_message', 'assistant_message']);
  });

  it('messages every agent with all of match_all and one of match_some, one turn each', async () => {
    const client = h.server.client;
    const sender = await createAgent('broadcaster');
    const tag = `t${Date.now()}`;
    const both = await createAgent('both', [tag, `${tag}-x`]);
    const other = await createAgent('other', [tag, `${tag}-y`]);
    await createAgent('outsider', [`${tag}-x`]);
    await createAgent('no-some', [tag]);
    h.llm.script(
      {
        toolCalls: [
          {
            name: 'send_message_to_agents_matching_tags',
            arguments: { message: 'Report in', match_all: [tag], match_some: [`${tag}-x`, `${tag}-y`] },
          },
        ],
      },
      { text: "Here's both." },
      { text: 'Other here.' },
      { text: 'Both answered.' },
    );
    const reply = await client.agents.messages.create(sender.id, { input: 'Call the team' });
    expect(toolReturns(reply.messages)[0]!.tool_return).toBe(
      `[{'agent_id': '${both.id}', 'response': ["Here's both."]}, {'agent_id': '${other.id}', 'response': ['Other here.']}]`,
    );
    expect(lastText(h.llm.calls[1]!)).toMatch(/^\[Incoming message from external Letta agent - .*\] Report in$/);

    h.llm.script(
      {
        toolCalls: [
          {
            name: 'send_message_to_agents_matching_tags',
            arguments: { message: 'Anyone?', match_all: [`${tag}-none`], match_some: [] },
          },
        ],
      },
      { text: 'Nobody.' },
    );
    const none = await client.agents.messages.create(sender.id, { input: 'Call nobody' });
    expect(toolReturns(none.messages)[0]!.tool_return).toBe('[]');
  });

  it('sends in the background with send_message_to_agent_async: the target runs a run of its own', async () => {
    const client = h.server.client;
    const sender = await createAgent('notifier');
    const target = await createAgent('notified');
    h.llm.setDefault((request) =>
      incoming(request)
        ? { text: 'Noted the notice.' }
        : request.body.messages.at(-1)?.role === 'tool'
          ? { text: 'Sent.' }
          : {
              toolCalls: [
                { name: 'send_message_to_agent_async', arguments: { message: 'FYI', other_agent_id: target.id } },
              ],
            },
    );
    const reply = await client.agents.messages.create(sender.id, { input: 'Tell them' });
    expect(toolReturns(reply.messages)[0]).toMatchObject({
      status: 'success',
      tool_return: 'Successfully sent message',
    });
    const run = await waitFor(async () => {
      const [r] = (await client.runs.list({ agent_id: target.id })).items;
      return r?.status === 'completed' ? r : undefined;
    }, 20_000);
    expect(run.background).toBe(true);
    const history = (await client.agents.messages.list(target.id, { order: 'asc' })).getPaginatedItems();
    expect(history.at(-1)).toMatchObject({ message_type: 'assistant_message', content: 'Noted the notice.' });
    expect((history[1] as { content: string }).content).toContain(
      "make sure to use the 'send_message_to_agent_async' tool, or the agent will not receive your message] FYI",
    );
  });

  it('gives an error result for a missing target or a busy one (itself), never a failed turn', async () => {
    const client = h.server.client;
    const agent = await createAgent('lonely');
    const ghost = 'agent-00000000-0000-4000-8000-000000000000';
    h.llm.script(
      {
        toolCalls: [
          { name: 'send_message_to_agent_and_wait_for_reply', arguments: { message: 'hi', other_agent_id: ghost } },
          { name: 'send_message_to_agent_async', arguments: { message: 'hi', other_agent_id: ghost } },
          { name: 'send_message_to_agent_and_wait_for_reply', arguments: { message: 'hi', other_agent_id: agent.id } },
        ],
      },
      { text: 'Nobody home.' },
    );
    const reply = await client.agents.messages.create(agent.id, { input: 'Call around' });
    const [missingWait, missingAsync, self] = toolReturns(reply.messages);
    for (const result of [missingWait!, missingAsync!]) {
      expect(result.status).toBe('error');
      expect(result.tool_return).toContain(`Agent with id '${ghost}' not found`);
    }
    // Its own thread is locked by the turn that is asking: the reply says so instead of waiting forever.
    expect(self!.status).toBe('success');
    expect(self!.tool_return).toMatch(
      new RegExp(
        `^\\{'agent_id': '${agent.id}', 'error': 'Cannot send a new message: Agent ${agent.id} is currently being processed`,
      ),
    );
    expect(reply.stop_reason.stop_reason).toBe('end_turn');
  });

  it(`refuses a message more than ${MAX_AGENT_CHAIN_DEPTH} agents down a chain of agents asking agents`, async () => {
    const client = h.server.client;
    const chain: AgentState[] = [];
    for (let i = 0; i <= MAX_AGENT_CHAIN_DEPTH + 1; i++) chain.push(await createAgent(`link-${i}`));
    const position = (request: FakeLlmRequest) =>
      chain.findIndex((a) => JSON.stringify(request.body.messages[0]).includes(a.id));
    // Each agent asks the next one and, once it has the answer, ends its turn.
    h.llm.setDefault((request) =>
      request.body.messages.at(-1)?.role === 'tool'
        ? { text: `link ${position(request)} done` }
        : {
            toolCalls: [
              {
                name: 'send_message_to_agent_and_wait_for_reply',
                arguments: { message: 'pass it on', other_agent_id: chain[position(request) + 1]!.id },
              },
            ],
          },
    );
    const reply = await client.agents.messages.create(chain[0]!.id, { input: 'Start the chain' });
    expect(toolReturns(reply.messages)[0]!.tool_return).toBe(
      `{'agent_id': '${chain[1]!.id}', 'response': ['link 1 done']}`,
    );
    // The first turn came from the API; the next MAX_AGENT_CHAIN_DEPTH agents ran, and the one after was never asked.
    const ran = await Promise.all(chain.map(async (a) => (await client.runs.list({ agent_id: a.id })).items.length));
    expect(ran).toEqual([...Array<number>(MAX_AGENT_CHAIN_DEPTH + 1).fill(1), 0]);
    const deepest = chain[MAX_AGENT_CHAIN_DEPTH]!;
    const [deepRun] = (await client.runs.list({ agent_id: deepest.id })).items;
    const refused = toolReturns((await client.runs.messages.list(deepRun!.id)).getPaginatedItems())[0]!;
    expect(refused.tool_return).toBe(
      `{'agent_id': '${chain.at(-1)!.id}', 'error': 'Not sent: this message would be ${MAX_AGENT_CHAIN_DEPTH + 1} agents deep in a chain of agents messaging agents (at most ${MAX_AGENT_CHAIN_DEPTH})', 'type': 'RangeError'}`,
    );
  });
});
