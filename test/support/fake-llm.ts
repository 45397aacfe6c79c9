/**
 * A scripted fake LLM: a real HTTP server on 127.0.0.1 (random port) that speaks the OpenAI chat-completions API and
 * the Anthropic messages API, streaming (SSE) and not, so Cairn's real providers talk to it over the wire.
 *
 *   const llm = await startFakeLlm();
 *   const t = await startCairn('sqlite', {}, llm.env());   // every provider points here (openai/…, anthropic/…, ollama/…)
 *   llm.script(
 *     { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_str: 'x' } }] },
 *     { text: 'Done.', chunkDelayMs: 5 },
 *   );
 *   … drive Cairn …
 *   expect(llm.requests[0].body.messages).toEqual(…);   // what the provider sent (raw JSON body)
 *   await llm.close();
 *
 * Replies are taken in order, whichever protocol asks; each renders in the protocol of the request it answers.
 *   text / toolCalls (arguments: object or raw string, possibly malformed) / thinking (Anthropic thinking blocks
 *   with signatures; `reasoning_content` deltas on the OpenAI protocol) / redactedThinking / usage / finishReason.
 *   Failures: `error: 'rate_limit' | 'server' | 'overloaded' | 'context_overflow' | 'authentication' | 'bad_request'`
 *   (the bodies each provider really sends; `retryAfterSeconds` adds `retry-after`), or `error: {status, body}` raw;
 *   `hang: 'before-headers' | 'mid-stream'` never finishes (for timeouts); `streamError` fails a stream after its content;
 *   `drop: 'mid-stream'` destroys the socket after two chunks; `raw` sends a body verbatim (garbage a provider may send).
 *   Pacing: `delayMs` before the response, `chunkDelayMs` between SSE chunks. `llmFailure(promise)` returns the LlmError.
 * A reply may be a function of the request. With the script empty, `setDefault(reply)` answers; without a default
 * the fake returns 400 "fake-llm: no scripted reply left", which fails fast instead of retrying.
 * Default usage is realistic: prompt tokens ≈ bytes(request)/4, so context-window logic sees history growing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BYOK_PROVIDER_TYPES } from '../../src/llm/byok.js';
import { LlmError } from '../../src/llm/types.js';

export type FakeLlmProtocol = 'openai' | 'anthropic';
export type FakeErrorKind =
  'rate_limit' | 'server' | 'overloaded' | 'context_overflow' | 'authentication' | 'bad_request';

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object is JSON-encoded; a string is sent verbatim (malformed JSON included). */
  arguments: string | Record<string, unknown>;
}

export interface FakeReply {
  text?: string;
  toolCalls?: FakeToolCall[];
  /** Anthropic `thinking` blocks (default signature `sig-<i>`, i from 1); on the OpenAI protocol, `reasoning_content`. */
  thinking?: string | { text: string; signature?: string }[];
  /** Anthropic `redacted_thinking` blocks (their encrypted `data`). */
  redactedThinking?: string[];
  usage?: { prompt?: number; completion?: number; cachedPrompt?: number };
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  model?: string;
  delayMs?: number;
  chunkDelayMs?: number;
  hang?: 'before-headers' | 'mid-stream';
  error?: FakeErrorKind | { status: number; body: unknown; headers?: Record<string, string> };
  errorMessage?: string;
  retryAfterSeconds?: number;
  /** Streaming only: after the content, an error event instead of a normal finish. */
  streamError?: FakeErrorKind;
  /** Streaming only: the connection is destroyed after two chunks, with no finish. */
  drop?: 'mid-stream';
  /** Sent verbatim instead of a rendered reply (status 200 and application/json unless given). */
  raw?: { body: string; status?: number; contentType?: string };
}

export interface FakeLlmRequest {
  protocol: FakeLlmProtocol;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;

  body: any;
  stream: boolean;
  /** From the request's arrival to the last byte of the reply handed to the socket; set when the reply ends. */
  ms?: number;
}

export type FakeReplySource = FakeReply | ((request: FakeLlmRequest) => FakeReply);

export interface FakeLlm {
  url: string;
  /** All requests received, in order (model calls and model listings). */
  requests: FakeLlmRequest[];
  /** Only the model calls (chat completions / messages). */
  readonly calls: FakeLlmRequest[];
  script(...replies: FakeReplySource[]): void;
  setDefault(reply: FakeReplySource | undefined): void;
  /** Scripted replies not yet consumed. */
  readonly pending: number;
  /** What `GET /v1/models` (OpenAI-compatible) and `GET /api/tags` (Ollama) list. */
  models: string[];
  /**
   * When set, a request whose key (`Authorization: Bearer …` or Anthropic's `x-api-key`) is not one of these gets the
   * protocol's 401, as the real APIs answer a bad key; unset, every key is accepted.
   */
  acceptedKeys: string[] | undefined;
  /** Environment that configures every Cairn provider against this server. */
  env(extra?: Record<string, string>): Record<string, string>;
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Error bodies as the real APIs send them (shapes the providers' error detection is written against). */
function errorFor(kind: FakeErrorKind, protocol: FakeLlmProtocol, message?: string): { status: number; body: unknown } {
  const openai = (status: number, type: string, code: string | null, msg: string) => ({
    status,
    body: { error: { message: msg, type, param: null, code } },
  });
  const anthropic = (status: number, type: string, msg: string) => ({
    status,
    body: { type: 'error', error: { type, message: msg } },
  });
  switch (kind) {
    case 'rate_limit':
      return protocol === 'openai'
        ? openai(
            429,
            'requests',
            'rate_limit_exceeded',
            message ?? 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.',
          )
        : anthropic(
            429,
            'rate_limit_error',
            message ?? 'Number of request tokens has exceeded your per-minute rate limit',
          );
    case 'server':
      return protocol === 'openai'
        ? openai(
            500,
            'server_error',
            null,
            message ?? 'The server had an error while processing your request. Sorry about that!',
          )
        : anthropic(500, 'api_error', message ?? 'Internal server error');
    case 'overloaded':
      return protocol === 'openai'
        ? openai(503, 'server_error', null, message ?? 'The engine is currently overloaded, please try again later')
        : anthropic(529, 'overloaded_error', message ?? 'Overloaded');
    case 'context_overflow':
      return protocol === 'openai'
        ? openai(
            400,
            'invalid_request_error',
            'context_length_exceeded',
            message ??
              "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
          )
        : anthropic(400, 'invalid_request_error', message ?? 'prompt is too long: 208310 tokens > 200000 maximum');
    case 'authentication':
      return protocol === 'openai'
        ? openai(401, 'invalid_request_error', 'invalid_api_key', message ?? 'Incorrect API key provided: sk-fake.')
        : anthropic(401, 'authentication_error', message ?? 'invalid x-api-key');
    case 'bad_request':
      return protocol === 'openai'
        ? openai(400, 'invalid_request_error', null, message ?? 'Invalid request')
        : anthropic(400, 'invalid_request_error', message ?? 'Invalid request');
  }
}

const words = (text: string) => text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
/** Splits tool arguments into a few fragments, as providers stream them. */
const fragments = (text: string) => {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
};

export async function startFakeLlm(): Promise<FakeLlm> {
  let queue: FakeReplySource[] = [];
  let fallback: FakeReplySource | undefined;
  const requests: FakeLlmRequest[] = [];
  const sockets = new Set<Socket>();
  let ids = 0;
  const state: { models: string[]; acceptedKeys: string[] | undefined } = {
    models: ['fake-model'],
    acceptedKeys: undefined,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const arrived = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    const body = raw ? JSON.parse(raw) : undefined;
    const anthropicKey = req.headers['x-api-key'];
    const protocol: FakeLlmProtocol = path.endsWith('/messages') || anthropicKey !== undefined ? 'anthropic' : 'openai';
    const record: FakeLlmRequest = {
      protocol,
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      stream: Boolean(body?.stream),
    };
    requests.push(record);
    res.once('finish', () => (record.ms = performance.now() - arrived));

    if (state.acceptedKeys) {
      const key = typeof anthropicKey === 'string' ? anthropicKey : req.headers.authorization?.replace(/^Bearer /, '');
      if (!key || !state.acceptedKeys.includes(key)) {
        const refusal = errorFor('authentication', protocol);
        return json(res, refusal.status, refusal.body);
      }
    }
    if (req.method === 'GET' && path.endsWith('/models'))
      return json(res, 200, {
        object: 'list',
        data: state.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
      });
    if (req.method === 'GET' && path === '/api/tags')
      return json(res, 200, { models: state.models.map((name) => ({ name, model: name, size: 1 })) });
    if (req.method !== 'POST' || !(path.endsWith('/chat/completions') || path.endsWith('/messages')))
      return json(res, 404, { error: { message: `fake-llm: no route ${req.method} ${path}` } });

    const source = queue.shift() ?? fallback;
    if (!source)
      return json(
        res,
        400,
        errorFor('bad_request', protocol, `fake-llm: no scripted reply left (request #${requests.length})`).body,
      );
    const reply = typeof source === 'function' ? source(record) : source;
    if (reply.delayMs) await sleep(reply.delayMs);
    if (reply.hang === 'before-headers') return; // the socket stays open until the client gives up or close()
    if (reply.error) {
      const { status, body: errorBody } =
        typeof reply.error === 'string' ? errorFor(reply.error, protocol, reply.errorMessage) : reply.error;
      const headers = {
        ...(typeof reply.error === 'object' ? reply.error.headers : {}),
        ...(reply.retryAfterSeconds !== undefined ? { 'retry-after': String(reply.retryAfterSeconds) } : {}),
      };
      return json(res, status, errorBody, headers);
    }
    if (reply.raw) {
      res.writeHead(reply.raw.status ?? 200, { 'content-type': reply.raw.contentType ?? 'application/json' });
      return void res.end(reply.raw.body);
    }
    const rendered = protocol === 'openai' ? openaiReply(reply, body, ++ids) : anthropicReply(reply, body, ++ids);
    if (!record.stream) return json(res, 200, rendered.body);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const events = rendered.events;
    for (let i = 0; i < events.length; i++) {
      if (reply.hang === 'mid-stream' && i === Math.min(2, events.length - 1)) return;
      if (reply.drop === 'mid-stream' && i === Math.min(2, events.length - 1)) return void res.socket?.destroy();
      if (i > 0 && reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      if (res.destroyed) return;
      res.write(events[i]);
    }
    if (reply.streamError) res.write(rendered.streamError(reply.streamError, reply.errorMessage));
    else res.write(rendered.end);
    res.end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { message: `fake-llm: ${String(error)}` } });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    get calls() {
      return requests.filter((r) => r.method === 'POST');
    },
    script: (...replies) => void queue.push(...replies),
    setDefault: (reply) => void (fallback = reply),
    get pending() {
      return queue.length;
    },
    get models() {
      return state.models;
    },
    set models(value: string[]) {
      state.models = value;
    },
    get acceptedKeys() {
      return state.acceptedKeys;
    },
    set acceptedKeys(value: string[] | undefined) {
      state.acceptedKeys = value;
    },
    env: (extra = {}) => ({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: `${url}/v1`,
      ANTHROPIC_API_KEY: 'sk-ant-fake',
      ANTHROPIC_BASE_URL: url,
      OLLAMA_BASE_URL: url,
      // BYOK providers registered without a base_url (every type) call this server, never a public API.
      CAIRN_BYOK_BASE_URLS: BYOK_PROVIDER_TYPES.map(
        (type) => `${type}=${type === 'anthropic' ? url : `${url}/v1`}`,
      ).join(','),
      // Tests should not wait for production backoff; a scripted 429 still exercises the retry path.
      CAIRN_LLM_RETRY_BASE_MS: '10',
      ...extra,
    }),
    reset: () => {
      queue = [];
      fallback = undefined;
      requests.length = 0;
      ids = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

interface Rendered {
  body: unknown;
  events: string[];
  end: string;
  streamError(kind: FakeErrorKind, message?: string): string;
}

function usageOf(reply: FakeReply, requestBody: unknown) {
  const prompt = reply.usage?.prompt ?? Math.ceil(Buffer.byteLength(JSON.stringify(requestBody ?? {})) / 4);
  const args = (reply.toolCalls ?? [])
    .map((c) => (typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments)))
    .join('');
  const completion = reply.usage?.completion ?? Math.max(1, Math.ceil(((reply.text ?? '').length + args.length) / 4));
  return { prompt, completion, cached: reply.usage?.cachedPrompt ?? 0 };
}

const argsText = (c: FakeToolCall) => (typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments));
const thinkingBlocks = (reply: FakeReply) =>
  typeof reply.thinking === 'string' ? [{ text: reply.thinking }] : (reply.thinking ?? []);

function openaiReply(
  reply: FakeReply,
  request: { model?: string; stream_options?: { include_usage?: boolean } },
  n: number,
): Rendered {
  const id = `chatcmpl-fake${n}`;
  const model = reply.model ?? request.model ?? 'fake-model';
  const created = Math.floor(Date.now() / 1000);
  const calls = (reply.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_${n}_${i + 1}`,
    name: c.name,
    args: argsText(c),
  }));
  const finish = reply.finishReason ?? (calls.length ? 'tool_calls' : 'stop');
  const u = usageOf(reply, request);
  const usage = {
    prompt_tokens: u.prompt,
    completion_tokens: u.completion,
    total_tokens: u.prompt + u.completion,
    prompt_tokens_details: { cached_tokens: u.cached },
  };
  const reasoning = thinkingBlocks(reply)
    .map((t) => t.text)
    .join('');
  const chunk = (delta: unknown, finishReason: string | null = null) =>
    sse({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
  const events = [chunk({ role: 'assistant', content: '' })];
  for (const piece of words(reasoning)) events.push(chunk({ reasoning_content: piece }));
  for (const piece of words(reply.text ?? '')) events.push(chunk({ content: piece }));
  calls.forEach((c, index) => {
    const [first = '', ...rest] = fragments(c.args);
    events.push(
      chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: first } }] }),
    );
    for (const piece of rest) events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  events.push(chunk({}, finish));
  if (request.stream_options?.include_usage)
    events.push(sse({ id, object: 'chat.completion.chunk', created, model, choices: [], usage }));
  const message = {
    role: 'assistant',
    content: reply.text ?? (calls.length ? null : ''),
    ...(reasoning ? { reasoning_content: reasoning } : {}),
    ...(calls.length
      ? {
          tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } })),
        }
      : {}),
  };
  return {
    body: {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
      usage,
    },
    events,
    end: 'data: [DONE]\n\n',
    // OpenAI reports a failure inside a stream as an `error` object in a data frame.
    streamError: (kind, message) => sse(errorFor(kind, 'openai', message).body),
  };
}

function anthropicReply(reply: FakeReply, request: { model?: string }, n: number): Rendered {
  const id = `msg_fake${n}`;
  const model = reply.model ?? request.model ?? 'fake-model';
  const u = usageOf(reply, request);
  const blocks: Record<string, unknown>[] = [];
  const events: string[] = [];
  const calls = (reply.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `toolu_${n}_${i + 1}`,
    name: c.name,
    args: argsText(c),
  }));
  const stopReason = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' }[
    reply.finishReason ?? (calls.length ? 'tool_calls' : 'stop')
  ];
  const usage = {
    input_tokens: u.prompt,
    output_tokens: u.completion,
    cache_read_input_tokens: u.cached,
    cache_creation_input_tokens: 0,
  };
  events.push(
    sse(
      {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      },
      'message_start',
    ),
  );
  const block = (start: Record<string, unknown>, deltas: Record<string, unknown>[], full: Record<string, unknown>) => {
    const index = blocks.length;
    blocks.push(full);
    events.push(sse({ type: 'content_block_start', index, content_block: start }, 'content_block_start'));
    for (const delta of deltas) events.push(sse({ type: 'content_block_delta', index, delta }, 'content_block_delta'));
    events.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
  };
  thinkingBlocks(reply).forEach((t, i) => {
    const signature = t.signature ?? `sig-${i + 1}`;
    block(
      { type: 'thinking', thinking: '', signature: '' },
      [...words(t.text).map((w) => ({ type: 'thinking_delta', thinking: w })), { type: 'signature_delta', signature }],
      { type: 'thinking', thinking: t.text, signature },
    );
  });
  for (const data of reply.redactedThinking ?? [])
    block({ type: 'redacted_thinking', data }, [], { type: 'redacted_thinking', data });
  if (reply.text)
    block(
      { type: 'text', text: '' },
      words(reply.text).map((w) => ({ type: 'text_delta', text: w })),
      { type: 'text', text: reply.text },
    );
  for (const c of calls) {
    // The non-streaming API returns parsed input; malformed JSON can only be shown by the streaming API.
    let input: unknown;
    try {
      input = JSON.parse(c.args);
    } catch {
      input = c.args;
    }
    block(
      { type: 'tool_use', id: c.id, name: c.name, input: {} },
      fragments(c.args).map((p) => ({ type: 'input_json_delta', partial_json: p })),
      { type: 'tool_use', id: c.id, name: c.name, input },
    );
  }
  events.push(
    sse(
      {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: u.completion },
      },
      'message_delta',
    ),
  );
  return {
    body: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: blocks,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    },
    events,
    end: sse({ type: 'message_stop' }, 'message_stop'),
    streamError: (kind, message) => sse(errorFor(kind, 'anthropic', message).body, 'error'),
  };
}

/**
 * The `LlmError` a provider call rejected with; anything else (success, another error) fails the test. Written
 * without vitest so benchmarks can import this file.
 */
export async function llmFailure(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LlmError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with an LlmError, but it succeeded');
}
