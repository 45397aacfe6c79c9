/**
 * The seam between Cairn's agent loop (src/runtime) and the LLM providers (src/llm). The loop speaks only these
 * types; providers translate them to the AI SDK. Tests swap in the scripted fake LLM server behind a real provider.
 */

import type { ProviderSettings } from './settings.js';

export type LlmContentPart =
  | { type: 'text'; text: string }
  | { type: 'image'; mediaType: string; data: string /* base64 */ }
  | { type: 'image'; url: string };

export interface LlmToolCall {
  id: string;
  name: string;
  /** Raw JSON text exactly as the model produced it; it may be malformed, and the loop decides what to do. */
  arguments: string;
}

export interface LlmReasoning {
  text: string;
  signature?: string | undefined;
  /** Provider-encrypted reasoning the model returned instead of text (Anthropic `redacted_thinking`). */
  redacted?: string | undefined;
}

export type LlmMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | LlmContentPart[] }
  | {
      role: 'assistant';
      content: string | null;
      toolCalls?: LlmToolCall[] | undefined;
      reasoning?: LlmReasoning[] | undefined;
    }
  | { role: 'tool'; toolCallId: string; toolName: string; content: string };

export interface LlmToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export type LlmToolChoice = 'auto' | 'required' | 'none' | { name: string };

export interface LlmRequest {
  /** `provider/model`. */
  handle: string;
  messages: LlmMessage[];
  tools: LlmToolDefinition[];
  toolChoice: LlmToolChoice;
  maxOutputTokens?: number | undefined;
  temperature?: number | undefined;
  parallelToolCalls?: boolean | undefined;
  /** Extended thinking (Anthropic) / reasoning effort budget, when the agent enables it. */
  thinkingBudgetTokens?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Incremental output, delivered while the provider streams; used for `stream_tokens`. */
export type LlmStreamEvent =
  | { type: 'text-delta'; delta: string }
  | { type: 'reasoning-delta'; delta: string }
  | { type: 'tool-call-start'; id: string; name: string }
  | { type: 'tool-call-delta'; id: string; argumentsDelta: string };

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cachedInputTokens?: number | undefined;
  cacheWriteTokens?: number | undefined;
  reasoningTokens?: number | undefined;
}

export type LlmFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error' | 'other';

export interface LlmResponse {
  text: string;
  reasoning: LlmReasoning[];
  toolCalls: LlmToolCall[];
  finishReason: LlmFinishReason;
  usage: LlmUsage;
  /** The model id the provider reports. */
  model: string;
}

export interface LlmClient {
  /** One model call. Streams deltas to `onEvent` when given; always resolves with the complete response. */
  complete(request: LlmRequest, onEvent?: (event: LlmStreamEvent) => void): Promise<LlmResponse>;
}

/** Why a provider call failed; maps onto Letta's stream `error_type`s and stop reasons. */
export type LlmErrorKind =
  | 'rate_limit'
  | 'timeout'
  | 'authentication'
  | 'context_window_exceeded'
  | 'bad_request'
  | 'server'
  | 'empty_response'
  | 'invalid_response'
  | 'cancelled';

export class LlmError extends Error {
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly status?: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LlmError';
  }
}

/** What `GET /v1/models/` lists: a handle that can be used now (its provider is configured). */
export interface LlmModelInfo {
  handle: string;
  provider: string;
  model: string;
  contextWindow: number;
  /** Upstream's `ProviderType` (`openai`, `anthropic`, `ollama`, `vllm`, `lmstudio_openai`, `openrouter`). */
  providerType?: string | undefined;
  /** Upstream's `model_endpoint_type`. */
  endpointType?: string | undefined;
  /** The API root the model is called at. */
  endpoint?: string | undefined;
}

export interface LlmProviders {
  /** The client for a handle; throws a 4xx CairnError naming the missing setting when its provider is not configured. */
  resolve(handle: string): LlmClient;
  listModels(): Promise<LlmModelInfo[]>;
  /** The providers the operator configured, key included: for the caller to redact, never to show. */
  configured(): ProviderSettings[];
  /** Replaces the BYOK providers handles may resolve to (those of `/v1/providers`, keys opened). */
  useByok(providers: ProviderSettings[]): void;
}
