import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import type { FakeLlmRequest } from '../support/fake-llm.js';
import { useRuntime } from './harness.js';

const isSummarizer = (req: FakeLlmRequest) =>
  String(req.body.messages?.[0]?.content ?? '').includes('evicted from the BEGINNING of your context window');

describe.each(testDialects())('archival, recall and compaction through the loop [%s]', (dialect) => {
  const h = useRuntime(dialect);

  it('inserts into and searches archival memory through the tools; the prompt metadata counts it', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      tools: ['archival_memory_insert', 'archival_memory_search'],
    });
    h.llm.script(
      {
        toolCalls: [
          {
            name: 'archival_memory_insert',
            arguments: { content: 'The launch code word is PELICAN.', tags: ['secrets'] },
          },
        ],
      },
      { text: 'Stored.' },
      { toolCalls: [{ name: 'archival_memory_search', arguments: { query: 'launch code word' } }] },
      { text: 'It is PELICAN.' },
    );
    const insert = await h.server.client.agents.messages.create(agent.id, { input: 'remember: launch code PELICAN' });
    expect(insert.messages[1]).toMatchObject({
      message_type: 'tool_return_message',
      status: 'success',
      tool_return: 'None',
    });
    const passages = await h.server.client.agents.passages.list(agent.id);
    expect(passages.map((p) => p.text)).toEqual(['The launch code word is PELICAN.']);
    const system = (
      await h.server.client.agents.messages.list(agent.id, { order: 'asc', limit: 1 })
    ).getPaginatedItems()[0] as { content: string };
    expect(system.content).toContain(
      '- 1 total memories you created are stored in archival memory (use tools to access them)',
    );

    const search = await h.server.client.agents.messages.create(agent.id, { input: 'what was the code word?' });
    const ret = search.messages.find((m) => m.message_type === 'tool_return_message') as {
      status: string;
      tool_return: string;
    };
    expect(ret.status).toBe('success');
    const results = JSON.parse(ret.tool_return) as { content: string; tags: string[] }[];
    expect(results[0]).toMatchObject({ content: 'The launch code word is PELICAN.', tags: ['secrets'] });
  });

  it('compacts under a tiny context window: summary inserted at index 1, evicted messages stay listable and searchable', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini', context_window_limit: 4000 });
    h.llm.setDefault((req) =>
      isSummarizer(req)
        ? { text: 'The user talked about zebras and numbers.' }
        : { text: `Reply number ${h.llm.calls.length}.` },
    );
    const filler = (i: number) => `Message ${i} about zebras: ${'lorem ipsum dolor sit amet '.repeat(80)}`;
    for (let i = 0; i < 6; i++) {
      const r = await h.server.client.agents.messages.create(agent.id, { input: filler(i) });
      expect(r.stop_reason.stop_reason).toBe('end_turn');
    }
    expect(h.llm.calls.some(isSummarizer)).toBe(true);
    const state = await h.server.client.agents.retrieve(agent.id);
    const inContext = state.message_ids!;
    const all = (
      await h.server.client.agents.messages.list(agent.id, { limit: 1000, order: 'asc' })
    ).getPaginatedItems();
    expect(all.length).toBeGreaterThan(inContext.length);
    const summary = all.find((m) => m.id === inContext[1]) as { message_type: string; content: string };
    const packed = JSON.parse(summary.content);
    expect(packed.type).toBe('system_alert');
    expect(packed.message).toMatch(
      /^Note: \d+ messages from the beginning of the conversation have been hidden from view due to memory constraints\.\nThe following is a summary of the previous messages:\n The user talked about zebras and numbers\.$/,
    );
    expect(
      all.filter(
        (m) => m.message_type === 'user_message' && String((m as { content: string }).content).startsWith('Message 0'),
      ),
    ).toHaveLength(1);
    const system = all[0] as { content: string };
    expect(system.content).toMatch(/- [1-9]\d* previous messages between you and the user are stored in recall memory/);
    // The last model request fit the window.
    const last = h.llm.calls.filter((c) => !isSummarizer(c)).at(-1)!;
    expect(Buffer.byteLength(JSON.stringify(last.body.messages)) / 4).toBeLessThan(4000);

    // Evicted content is still found by conversation_search.
    let turnCalls = 0;
    h.llm.setDefault((req) => {
      if (isSummarizer(req)) return { text: 'The user talked about zebras and numbers.' };
      return turnCalls++ === 0
        ? { toolCalls: [{ name: 'conversation_search', arguments: { query: 'Message 0 zebras' } }] }
        : { text: 'found it' };
    });
    const found = await h.server.client.agents.messages.create(agent.id, { input: 'search' });
    const ret = found.messages.find((m) => m.message_type === 'tool_return_message') as { tool_return: string };
    expect(ret.tool_return).toContain('Message 0 about zebras');
  });

  it('compacts and retries on a provider context-overflow error, never failing the turn', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.setDefault({ text: 'filler reply' });
    for (let i = 0; i < 3; i++) await h.server.client.agents.messages.create(agent.id, { input: `turn ${i}` });
    h.llm.setDefault(undefined);
    h.llm.script(
      { error: 'context_overflow' },
      (req) => (isSummarizer(req) ? { text: 'short summary' } : { error: 'bad_request' }),
      { text: 'answered after compaction' },
    );
    const r = await h.server.client.agents.messages.create(agent.id, { input: 'overflowing turn' });
    expect(r.stop_reason.stop_reason).toBe('end_turn');
    expect(r.messages.at(-1)).toMatchObject({
      message_type: 'assistant_message',
      content: 'answered after compaction',
    });
  });

  it('summarizes on demand (POST /agents/{id}/summarize) and falls back to plain eviction when the summarizer fails', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.setDefault({ text: 'ok' });
    for (let i = 0; i < 3; i++) await h.server.client.agents.messages.create(agent.id, { input: `hello ${i}` });
    h.llm.setDefault(undefined);
    h.llm.script({ error: 'bad_request' });
    const result = await h.server.client.agents.messages.compact(agent.id, {});
    expect(result.num_messages_before).toBe(7);
    expect(result.summary).toMatch(/^Note: \d+ messages from the beginning of the conversation have been hidden/);
    expect((await h.server.client.agents.retrieve(agent.id)).message_ids).toHaveLength(result.num_messages_after);
  });
});
