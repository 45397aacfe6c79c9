import { currentPassword } from './password';

/** The shapes the inspector reads, as Cairn's public API serves them (only the fields it shows). */
export interface Agent {
  id: string;
  name: string;
  description?: string | null;
  tags?: string[];
  model?: string | null;
  created_at?: string;
  updated_at?: string;
  last_run_completion?: string | null;
}
export interface Block {
  id: string;
  label: string;
  value: string;
  limit: number;
  description?: string | null;
  read_only?: boolean;
}
export interface HistoryEntry {
  block_id: string;
  version: number;
  label: string;
  value: string;
  limit: number;
  description: string | null;
  read_only: boolean;
  actor: { kind: 'agent_tool' | 'api' | 'hook' | 'import' | 'system'; name: string | null };
  restored_from: number | null;
  created_at: string;
}
export interface AgentSummary {
  agent_id: string;
  blocks: number;
  passages: number;
  messages: number;
  conversations: number;
  last_message_at: string | null;
}
export interface Passage {
  id: string;
  text?: string;
  content?: string;
  tags?: string[] | null;
  created_at?: string;
  timestamp?: string;
}
export interface Conversation {
  id: string;
  agent_id: string;
  summary?: string | null;
  created_at?: string;
  updated_at?: string;
  last_message_at?: string | null;
}
export interface ToolCall {
  name?: string | null;
  arguments?: string | null;
  tool_call_id?: string | null;
}
export interface LettaMessage {
  id: string;
  message_type: string;
  date?: string;
  otid?: string | null;
  content?: string | { type: string; text?: string }[];
  reasoning?: string;
  tool_call?: ToolCall | null;
  tool_calls?: ToolCall[] | null;
  tool_return?: string;
  status?: string;
  name?: string | null;
  // SSE-only chunks.
  stop_reason?: string;
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  message?: string;
  detail?: string;
}
export interface Run {
  id: string;
  agent_id: string;
  status: string;
  stop_reason?: string | null;
  created_at?: string;
  completed_at?: string | null;
  total_duration_ns?: number | null;
  conversation_id?: string | null;
}
export interface Step {
  id: string;
  status?: string | null;
  stop_reason?: string | null;
  model?: string | null;
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  total_tokens?: number | null;
  duration_ms?: number | null;
  created_at?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Called on a 401: the page asks for the password, then the caller may retry. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

type Query = Record<string, string | number | boolean | string[] | undefined>;

function url(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

function headers(json: boolean): Record<string, string> {
  const password = currentPassword();
  return {
    // Block history names this page as the author of its writes.
    'X-Cairn-Actor': 'api:inspector',
    ...(json ? { 'Content-Type': 'application/json' } : {}),
    ...(password ? { Authorization: `Bearer ${password}` } : {}),
  };
}

/** Cairn's `{"detail": …}`: a message, or for 422 a list naming each field. */
async function failure(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === 'string') message = body.detail;
    else if (Array.isArray(body.detail))
      message = body.detail
        .map(
          (d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).filter((p) => p !== 'body').join('.')}: ${d.msg}`,
        )
        .join('; ');
  } catch {
    // Not JSON: keep the status line.
  }
  if (response.status === 401) onUnauthorized();
  return new ApiError(response.status, message);
}

export async function api<T>(
  method: string,
  path: string,
  options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const response = await fetch(url(path, options.query), {
    method,
    headers: headers(options.body !== undefined),
    body: options.body === undefined ? null : JSON.stringify(options.body),
    signal: options.signal ?? null,
  });
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) =>
  api<T>('GET', path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) });

/**
 * A streamed turn, read as the SDK reads it: `text/event-stream` frames whose `data:` is one JSON chunk, ending with
 * `[DONE]`.
 */
export async function* stream(path: string, body: unknown, signal: AbortSignal): AsyncGenerator<LettaMessage> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { ...headers(true), Accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok || !response.body) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (!data) continue;
      if (data === '[DONE]') return;
      yield JSON.parse(data) as LettaMessage;
    }
  }
}
