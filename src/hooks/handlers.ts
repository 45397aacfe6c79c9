import Letta from '@letta-ai/letta-client';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import {
  archivalSearch,
  captureMessages,
  conversationSearch,
  type CapturedMessage,
  type RecallItem,
} from '../mcp/ops.js';
import { clip, shortHash } from '../mcp/output.js';
import { sanitize } from './redact.js';
import { type HookState, type SessionState } from './state.js';
import { readTranscriptDelta } from './transcript.js';

export const HOOK_EVENTS = [
  'session-start',
  'user-prompt-submit',
  'stop',
  'pre-compact',
  'session-end',
  'post-tool-use',
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** Claude Code's cap is 10,000 characters (longer output becomes a file breadcrumb); stay clearly under it. */
export const MAX_SESSION_CONTEXT = 8_000;
export const MAX_PROMPT_CONTEXT = 3_000;

/**
 * Wall-clock budget of the whole hook process per event, from process start to exit (see budget.ts): Node's
 * start-up, stdin and every request share it. Short on the prompt path (Claude Code waits; a hook must be done
 * within 2 s whatever the server does), longer where Claude Code runs the hook in the background, under a second
 * at session end (Claude Code's 1.5 s shared by all SessionEnd hooks). Each stays under the timeout that
 * `cairn hooks install` declares for it.
 */
export const BUDGET_MS: Record<HookEvent, number> = {
  'session-start': 1_500,
  'user-prompt-submit': 1_500,
  stop: 10_000,
  'pre-compact': 5_000,
  'session-end': 800,
  'post-tool-use': 2_000,
};

export interface HookRun {
  event: HookEvent;
  // Claude Code's hook input, foreign JSON validated field by field where used.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  input: any;
  state: HookState;
  client: Letta;
  env: NodeJS.ProcessEnv;
}

/** What the hook prints on stdout (nothing when undefined). */
export type HookOutput = string | undefined;

const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

export async function runEvent(run: HookRun): Promise<HookOutput> {
  switch (run.event) {
    case 'session-start':
      return sessionStart(run);
    case 'user-prompt-submit':
      return userPromptSubmit(run);
    case 'stop':
      // Claude Code sets stop_hook_active when a Stop hook already made it continue: never take part in a loop.
      if (run.input.stop_hook_active === true) return undefined;
      return record(run);
    case 'pre-compact':
    case 'session-end':
      return record(run);
    case 'post-tool-use':
      return postToolUse(run);
  }
}

function sessionId(run: HookRun): string {
  const id = run.input.session_id;
  if (typeof id !== 'string' || !id) throw new Error('hook input has no session_id');
  return id;
}

/** `project:<name>` from the project directory; an explicit LETTA_AGENT_ID wins over the per-project agent. */
export function projectTag(run: Pick<HookRun, 'input' | 'env'>): string {
  const dir = run.env.CLAUDE_PROJECT_DIR || (typeof run.input.cwd === 'string' ? run.input.cwd : '') || process.cwd();
  return `project:${basename(dir) || 'default'}`;
}

/**
 * The agent that holds this project's memory: LETTA_AGENT_ID, else the session's, else the cached one for the
 * project tag, else the first agent with that tag, else a new one (memory blocks only; it never needs a model
 * because the hooks never run it).
 */
async function resolveAgent(run: HookRun, session: SessionState): Promise<string> {
  if (run.env.LETTA_AGENT_ID) return run.env.LETTA_AGENT_ID;
  if (session.agentId) return session.agentId;
  const tag = projectTag(run);
  const cache = run.state.read<Record<string, string>>('agents.json') ?? {};
  if (cache[tag]) return cache[tag];
  const found = (await run.client.agents.list({ tags: [tag], limit: 1 })).getPaginatedItems()[0];
  const agentId =
    found?.id ??
    (
      await run.client.agents.create({
        name: `claude-code ${tag.slice('project:'.length)}`,
        description: 'Memory of Claude Code sessions in this project (created by the Cairn hooks)',
        tags: [tag, 'source:claude-code'],
        include_base_tools: false,
        memory_blocks: [
          {
            label: 'project',
            value: '',
            description: 'What this project is: purpose, architecture, conventions and decisions worth remembering.',
          },
          { label: 'human', value: '', description: "The user's preferences and working style." },
        ],
      })
    ).id;
  run.state.write('agents.json', { ...cache, [tag]: agentId });
  return agentId;
}

type Block = { label?: string | null; value: string; limit?: number; description?: string | null };

function digest(block: Block): string {
  return shortHash(`${block.value}\0${block.limit ?? ''}\0${block.description ?? ''}`);
}

/** `<cairn_memory>` with each block, clipped so the whole stays within `max` characters. */
export function renderBlocks(blocks: Block[], header: string, max: number): string {
  const open = `<cairn_memory>\n${header}\n`;
  const close = '</cairn_memory>';
  const frame = (b: Block) =>
    [`<block label="${b.label ?? ''}" chars="${b.value.length}/${b.limit ?? '-'}">\n`, '\n</block>\n'] as const;
  let room = max - open.length - close.length - blocks.reduce((n, b) => n + frame(b).join('').length, 0);
  const sorted = [...blocks].sort((a, b) => a.value.length - b.value.length);
  const allowed = new Map<Block, number>();
  // Smallest first, each up to a fair share of what is left, so one huge block cannot crowd out the rest.
  sorted.forEach((b, i) => {
    const share = Math.max(0, Math.floor(room / (sorted.length - i)));
    const take = Math.min(b.value.length, share);
    allowed.set(b, take);
    room -= take;
  });
  const body = blocks
    .map((b) => {
      const [head, tail] = frame(b);
      const n = allowed.get(b) ?? 0;
      const value = n >= b.value.length ? b.value : `${b.value.slice(0, Math.max(0, n - 20))}… [clipped]`;
      return `${head}${value}${tail}`;
    })
    .join('');
  return (open + body + close).slice(0, max);
}

async function sessionStart(run: HookRun): Promise<HookOutput> {
  const sid = sessionId(run);
  const session = run.state.session(sid);
  const agentId = await resolveAgent(run, session);
  if (session.conversationId === undefined) {
    // One conversation per Claude Code session; a server without conversations records to the default thread.
    session.conversationId = await run.client.conversations
      .create({ agent_id: agentId, summary: `Claude Code session ${sid}` } as Parameters<
        Letta['conversations']['create']
      >[0])
      .then((c) => c.id)
      .catch((error: unknown) => {
        run.state.log(run.event, 'no conversation; recording to the default thread', { error: String(error) });
        return null;
      });
  }
  const blocks = (await run.client.agents.blocks.list(agentId, { limit: 100 })).getPaginatedItems();
  const source = run.input.source;
  const changedOnly = source === 'resume' && session.injected !== undefined;
  const shown = changedOnly ? blocks.filter((b) => session.injected![b.label ?? ''] !== digest(b)) : blocks;
  run.state.saveSession(sid, {
    ...session,
    agentId,
    ...(typeof run.input.transcript_path === 'string' ? { transcriptPath: run.input.transcript_path } : {}),
    injected: Object.fromEntries(blocks.map((b) => [b.label ?? '', digest(b)])),
  });
  if (shown.length === 0) return undefined;
  const header = changedOnly
    ? 'Core memory blocks changed since this session last saw them (Cairn):'
    : 'Persistent core memory from Cairn for this project. Update it with the cairn MCP memory tools when you learn something durable.';
  const additionalContext = renderBlocks(shown, header, MAX_SESSION_CONTEXT);
  return JSON.stringify({ hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext } });
}

/**
 * Archival and recall search mode on the prompt path (CAIRN_HOOKS_SEARCH_MODE; recall's `fts` for lexical). Lexical by default: embedding the prompt
 * is most of the hook's server time (≈50 ms of CPU for the local model) and the prompt path has a 150 ms budget;
 * full-text search with stemming finds the names, files and terms coding prompts are made of. The MCP
 * archival_search tool stays hybrid for deliberate lookups.
 */
function searchMode(env: NodeJS.ProcessEnv): 'hybrid' | 'lexical' | 'vector' {
  const mode = env.CAIRN_HOOKS_SEARCH_MODE;
  return mode === 'hybrid' || mode === 'vector' ? mode : 'lexical';
}

const TRIVIAL =
  /^(y|yes|n|no|ok|okay|k|sure|thanks|thank you|thx|continue|go on|go ahead|proceed|lgtm|done|next|retry|again|stop)[.!]*$/i;
const OPT_OUT = /(^|\s)#(nomem|no-memory|private)\b|<private>/i;

/** Prompts not worth a search: short acknowledgements, slash commands, and explicit opt-outs. */
export function skipPrompt(prompt: string): boolean {
  const p = prompt.trim();
  return p.length < 12 || p.split(/\s+/).length < 3 || TRIVIAL.test(p) || p.startsWith('/') || OPT_OUT.test(p);
}

async function userPromptSubmit(run: HookRun): Promise<HookOutput> {
  const prompt = typeof run.input.prompt === 'string' ? run.input.prompt : '';
  if (skipPrompt(prompt)) return undefined;
  const sid = sessionId(run);
  const session = run.state.session(sid);
  const agentId = await resolveAgent(run, session);
  const query = clip(sanitize(prompt), 1_000);
  const mode = searchMode(run.env);
  const [archival, recall, blocks] = await Promise.allSettled([
    archivalSearch(run.client, agentId, { query, top_k: 3, mode }),
    conversationSearch(run.client, agentId, {
      query,
      limit: 4,
      search_mode: mode === 'lexical' ? 'fts' : mode,
    }),
    session.injected
      ? run.client.agents.blocks.list(agentId, { limit: 100 }).then((p) => p.getPaginatedItems())
      : Promise.resolve([]),
  ]);
  const failed = [archival, recall, blocks].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  // All failed: the server is unreachable or broken (the caller trips the breaker). Some failed: a server without
  // one of these endpoints; use the rest.
  if (failed.length === 3) throw failed[0];
  if (failed.length) run.state.log(run.event, 'partial search failure', { error: String(failed[0]) });
  const passages =
    archival.status === 'fulfilled' ? (archival.value.data as { content: string; timestamp: string }[]) : [];
  const normalized = prompt.trim();
  const messages =
    recall.status === 'fulfilled'
      ? (recall.value.data as RecallItem[]).filter((m) => m.content.trim() !== normalized)
      : [];
  const changed =
    blocks.status === 'fulfilled' ? blocks.value.filter((b) => session.injected?.[b.label ?? ''] !== digest(b)) : [];

  const lines: string[] = [];
  if (passages.length)
    lines.push('Archival memories:', ...passages.map((p) => `- [${p.timestamp.slice(0, 10)}] ${clip(p.content, 400)}`));
  if (messages.length)
    lines.push(
      'From past sessions:',
      ...messages.map((m) => `- [${m.created_at.slice(0, 10)} ${m.role}] ${clip(m.content, 300)}`),
    );
  if (changed.length)
    lines.push('Core memory changed since last shown:', ...changed.map((b) => `- ${b.label}: ${clip(b.value, 500)}`));
  if (changed.length) {
    run.state.saveSession(sid, {
      ...session,
      agentId,
      injected: { ...session.injected, ...Object.fromEntries(changed.map((b) => [b.label ?? '', digest(b)])) },
    });
  }
  if (lines.length === 0) return undefined;
  const open = '<cairn_memory hint="possibly relevant; from persistent memory">\n';
  const close = '\n</cairn_memory>';
  return open + lines.join('\n').slice(0, MAX_PROMPT_CONTEXT - open.length - close.length) + close;
}

/** Captures per request: the capture route accepts up to 500; smaller batches keep one request short. */
const BATCH = 100;

/**
 * Records the transcript delta since the last record (Stop, PreCompact, SessionEnd) as conversation messages,
 * without any LLM call. Falls back to `last_assistant_message` when the transcript cannot be read (it is written
 * asynchronously and may lag).
 */
async function record(run: HookRun): Promise<HookOutput> {
  const sid = sessionId(run);
  const session = run.state.session(sid);
  const path = typeof run.input.transcript_path === 'string' ? run.input.transcript_path : session.transcriptPath;
  let messages: CapturedMessage[] = [];
  let nextOffset = session.offset ?? 0;
  if (path && existsSync(path)) {
    const delta = readTranscriptDelta(path, session.offset ?? 0);
    messages = delta.messages;
    nextOffset = delta.nextOffset;
  } else if (typeof run.input.last_assistant_message === 'string' && run.input.last_assistant_message.trim()) {
    const content = sanitize(run.input.last_assistant_message);
    if (content) messages = [{ role: 'assistant', content, otid: `${sid}:${shortHash(content)}` }];
  }
  if (messages.length === 0) {
    if (nextOffset !== session.offset) run.state.saveSession(sid, { ...session, offset: nextOffset });
    return undefined;
  }
  const agentId = await resolveAgent(run, session);
  let conversationId = session.conversationId ?? undefined;
  for (let i = 0; i < messages.length; i += BATCH) {
    const batch = messages.slice(i, i + BATCH);
    try {
      await captureMessages(run.client, agentId, batch, conversationId);
    } catch (error) {
      // The session's conversation was deleted: keep recording, to the agent's default thread.
      if (!(error instanceof Letta.NotFoundError) || !conversationId) throw error;
      conversationId = undefined;
      await captureMessages(run.client, agentId, batch, undefined);
    }
  }
  run.state.saveSession(sid, {
    ...session,
    agentId,
    conversationId: conversationId ?? null,
    ...(path ? { transcriptPath: path } : {}),
    offset: nextOffset,
  });
  run.state.log(run.event, 'recorded', { messages: messages.length });
  return undefined;
}

const EDIT_TOOLS = new Set(['Edit', 'MultiEdit', 'Write', 'NotebookEdit']);

/** Optional (CAIRN_HOOKS_POST_TOOL_USE=on): one short history entry per file edit. */
async function postToolUse(run: HookRun): Promise<HookOutput> {
  if (!truthy(run.env.CAIRN_HOOKS_POST_TOOL_USE)) return undefined;
  const tool = run.input.tool_name;
  if (typeof tool !== 'string' || !EDIT_TOOLS.has(tool)) return undefined;
  const input = run.input.tool_input ?? {};
  const file = input.file_path ?? input.notebook_path ?? 'unknown file';
  const change =
    typeof input.new_string === 'string' ? input.new_string : typeof input.content === 'string' ? input.content : '';
  const content = sanitize(`[edit] ${tool} ${file}${change ? `: ${clip(change, 300)}` : ''}`);
  const sid = sessionId(run);
  const session = run.state.session(sid);
  const agentId = await resolveAgent(run, session);
  const otid = typeof run.input.tool_use_id === 'string' ? run.input.tool_use_id : `${sid}:${shortHash(content)}`;
  await captureMessages(
    run.client,
    agentId,
    [{ role: 'assistant', content, otid }],
    session.conversationId ?? undefined,
  );
  return undefined;
}
