import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLlmProviders } from '../../src/llm/providers.js';
import {
  ALL_PROMPT,
  formatTranscript,
  SLIDING_PROMPT,
  summarize,
  SUMMARY_TRUNCATION_SUFFIX,
} from '../../src/llm/summarizer.js';
import {
  APPROX_TOKEN_SAFETY_MARGIN,
  estimateRequestTokens,
  estimateTokens,
  middleTruncate,
} from '../../src/llm/tokens.js';
import type { LlmMessage } from '../../src/llm/types.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';

let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(() => llm.close());
beforeEach(() => llm.reset());

const HANDLE = 'openai/gpt-4o-mini';
const client = () => createLlmProviders(llm.env({ CAIRN_LLM_MAX_RETRIES: '0' })).resolve(HANDLE);

const history: LlmMessage[] = [
  { role: 'system', content: 'SYSTEM PROMPT' },
  { role: 'user', content: 'My name is Ada.' },
  {
    role: 'assistant',
    content: 'Noted.',
    toolCalls: [{ id: 'c1', name: 'memory_insert', arguments: '{"label":"human","new_str":"Ada"}' }],
  },
  { role: 'tool', toolCallId: 'c1', toolName: 'memory_insert', content: '{"status":"OK"}' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Look:' },
      { type: 'image', mediaType: 'image/png', data: 'AAAA' },
    ],
  },
  { role: 'assistant', content: 'Nice picture.' },
];

describe('token estimates', () => {
  it("uses Letta's ceil(bytes(json)/4), counting multibyte characters as bytes", () => {
    expect(estimateTokens([{ role: 'user', content: 'hi' }])).toBe(
      Math.ceil('[{"role":"user","content":"hi"}]'.length / 4),
    );
    expect(estimateTokens('é')).toBe(1); // `"é"` is 4 bytes
    expect(estimateRequestTokens(history, [{ name: 't', description: 'd', parameters: {} }])).toBeGreaterThan(
      estimateTokens(history),
    );
  });

  it('middle-truncates to a byte budget, keeping head and tail', () => {
    const text = `HEAD${'x'.repeat(10_000)}TAIL`;
    const cut = middleTruncate(text, 1000);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1000);
    expect(cut.startsWith('HEAD')).toBe(true);
    expect(cut.endsWith('TAIL')).toBe(true);
    expect(cut).toMatch(/\[TRUNCATED: dropped \d+ middle chars due to context budget\]/);
    expect(middleTruncate('short', 1000)).toBe('short');
  });
});

describe('summarize', () => {
  it("sends Letta's sliding-window prompt and transcript, and returns the summary", async () => {
    llm.script({ text: '  The user is Ada.  ' });
    const summary = await summarize({ client: client(), handle: HANDLE, messages: history, contextWindow: 128_000 });
    expect(summary).toBe('The user is Ada.');
    const body = llm.calls[0]!.body;
    expect(body.messages[0]).toEqual({ role: 'system', content: SLIDING_PROMPT });
    // Letta's text, character for character (assembled from shared sections; these guard the assembly).
    expect(SLIDING_PROMPT).toHaveLength(2182);
    expect(
      SLIDING_PROMPT.startsWith('The following messages are being evicted from the BEGINNING of your context window.'),
    ).toBe(true);
    expect(SLIDING_PROMPT).toContain('\n\n5. **Lookup hints**: For any detailed content');
    expect(SLIDING_PROMPT.endsWith('Keep your summary under 300 words. Only output the summary.')).toBe(true);
    expect(body.messages[1].content).toBe(
      '<start_transcript>\n[user] My name is Ada.\n[assistant] Noted. -> memory_insert({"label":"human","new_str":"Ada"})\n[tool] {"status":"OK"}\n[user] Look: [Image omitted]\n[assistant] Nice picture.\n<end_transcript>\n. Generate the summary.',
    );
    expect(body.tools).toBeUndefined();
    expect(body.max_tokens).toBe(4096);
  });

  it('uses ALL_PROMPT for mode all, a custom prompt when given, and the acknowledgement turn', async () => {
    llm.script({ text: 'all' }, { text: 'custom' });
    await summarize({
      client: client(),
      handle: HANDLE,
      messages: history,
      contextWindow: 128_000,
      mode: 'all',
      acknowledge: true,
    });
    expect(llm.calls[0]!.body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'assistant', 'user']);
    expect(llm.calls[0]!.body.messages[0].content).toBe(ALL_PROMPT);
    expect(ALL_PROMPT).toHaveLength(3019);
    expect(ALL_PROMPT).toContain('\n\n6.**Optional Next Step**: List the next step');
    expect(ALL_PROMPT.endsWith('Keep your summary under 500 words. Only output the summary.')).toBe(true);
    await summarize({
      client: client(),
      handle: HANDLE,
      messages: history,
      contextWindow: 128_000,
      prompt: 'Summarise briefly.',
    });
    expect(llm.calls[1]!.body.messages[0].content).toBe('Summarise briefly.');
  });

  it('fits its own request into a small context window', async () => {
    const big: LlmMessage[] = [];
    for (let i = 0; i < 60; i++) {
      big.push({ role: 'user', content: `question ${i} ${'lorem ipsum '.repeat(40)}` });
      big.push({
        role: 'assistant',
        content: null,
        toolCalls: [{ id: `c${i}`, name: 'archival_memory_search', arguments: '{"query":"x"}' }],
      });
      big.push({
        role: 'tool',
        toolCallId: `c${i}`,
        toolName: 'archival_memory_search',
        content: 'result '.repeat(1500),
      });
    }
    const window = 4000;
    llm.script({ text: 'short summary' });
    await summarize({ client: client(), handle: HANDLE, messages: big, contextWindow: window });
    const body = llm.calls[0]!.body;
    expect(body.max_tokens).toBe(1000);
    const sentTokens = estimateTokens(body.messages) * APPROX_TOKEN_SAFETY_MARGIN;
    expect(sentTokens + body.max_tokens).toBeLessThanOrEqual(window * 1.05);
    const transcript: string = body.messages[1].content;
    expect(transcript.startsWith('<start_transcript>\n[user] question 0')).toBe(true);
    expect(transcript.endsWith('<end_transcript>\n. Generate the summary.')).toBe(true);
    expect(transcript).toContain('[TRUNCATED: dropped');
  });

  it('retries once with a smaller transcript when the provider still reports an overflow', async () => {
    llm.script({ error: 'context_overflow' }, { text: 'fits now' });
    const long = Array.from({ length: 200 }, (_, i): LlmMessage => ({
      role: 'user',
      content: `message ${i} ${'words '.repeat(30)}`,
    }));
    expect(await summarize({ client: client(), handle: HANDLE, messages: long, contextWindow: 16_000 })).toBe(
      'fits now',
    );
    const [first, second] = llm.calls.map((c) => c.body.messages[1].content as string);
    expect(second!.length).toBeLessThan(first!.length * 0.7);
  });

  it('clips a long summary to clip_chars with Letta’s suffix', async () => {
    llm.script({ text: 'a'.repeat(500) }, { text: 'b'.repeat(500) });
    expect(
      await summarize({ client: client(), handle: HANDLE, messages: history, contextWindow: 128_000, clipChars: 100 }),
    ).toBe('a'.repeat(100) + SUMMARY_TRUNCATION_SUFFIX);
    expect(
      await summarize({ client: client(), handle: HANDLE, messages: history, contextWindow: 128_000, clipChars: null }),
    ).toBe('b'.repeat(500));
  });

  it('throws the LlmError when the model call fails', async () => {
    llm.script({ error: 'server' }, { error: 'context_overflow' }, { error: 'context_overflow' });
    await expect(
      summarize({ client: client(), handle: HANDLE, messages: history, contextWindow: 128_000 }),
    ).rejects.toMatchObject({ name: 'LlmError', kind: 'server' });
    await expect(
      summarize({ client: client(), handle: HANDLE, messages: history, contextWindow: 128_000 }),
    ).rejects.toMatchObject({ name: 'LlmError', kind: 'context_window_exceeded' });
  });

  it('formats a transcript with clamped tool returns', () => {
    const text = formatTranscript([{ role: 'tool', toolCallId: 'c', toolName: 't', content: 'z'.repeat(20) }], 5);
    expect(text).toContain('[tool] zzzzz...\n');
  });
});
