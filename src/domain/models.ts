import { invalidField } from '../lib/errors.js';
import { splitHandle, type ModelHandle } from '../lib/handles.js';
import { parseJson } from '../store/json.js';

/** Letta caps a provider's context window at this unless the agent sets `context_window_limit`. */
export const GLOBAL_MAX_CONTEXT_WINDOW = 128_000;

export type { ModelHandle };

/**
 * The handle a create or update request names: its own field (`model`, `embedding`), else the `handle` inside the
 * legacy config object sent beside it (`llm_config`, `embedding_config`).
 */
export function requestedHandle(
  handle: string | null | undefined,
  config: { handle?: unknown } | null | undefined,
): string | undefined {
  return handle ?? (typeof config?.handle === 'string' ? config.handle : undefined);
}

/** A handle from a request body: a malformed one is a 422 naming the field. */
export function parseHandle(handle: string, field: string): ModelHandle {
  const parsed = splitHandle(handle);
  if (!parsed) throw invalidField(['body', field], `Invalid handle '${handle}': expected 'provider/model'`, handle);
  return parsed;
}

/** Context windows of well-known model families; others get a conservative default until the provider says. */
export function providerContextWindow({ provider, model }: ModelHandle): number {
  if (provider === 'anthropic' || model.startsWith('claude')) return 200_000;
  if (/^(gpt-4\.1|gpt-5)/.test(model)) return 1_047_576;
  if (/^(gpt-4o|gpt-4-turbo|o[1-9])/.test(model)) return 128_000;
  if (provider === 'openai') return 128_000;
  return 32_768;
}

const ENDPOINT_TYPE: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  ollama: 'ollama',
  openrouter: 'openai',
  vllm: 'vllm',
  lmstudio: 'lmstudio_openai',
  'llama.cpp': 'openai',
};

export function llmConfigFor(
  handle: string,
  options: {
    contextWindowLimit?: number | null;
    maxTokens?: number | null;
    parallelToolCalls?: boolean | null;
    base?: Record<string, unknown> | null;
  } = {},
) {
  const parsed = parseHandle(handle, 'model');
  const window = providerContextWindow(parsed);
  return {
    model: parsed.model,
    display_name: parsed.model,
    model_endpoint_type: ENDPOINT_TYPE[parsed.provider] ?? 'openai',
    model_endpoint: null,
    provider_name: parsed.provider,
    provider_category: 'base',
    model_wrapper: null,
    context_window: options.contextWindowLimit ?? Math.min(window, GLOBAL_MAX_CONTEXT_WINDOW),
    put_inner_thoughts_in_kwargs: false,
    handle,
    temperature: 1,
    max_tokens: options.maxTokens ?? null,
    enable_reasoner: true,
    reasoning_effort: null,
    max_reasoning_tokens: 0,
    frequency_penalty: null,
    parallel_tool_calls: options.parallelToolCalls ?? false,
    response_format: null,
    strict: false,
    return_logprobs: false,
    top_logprobs: null,
    return_token_ids: false,
    ...(options.base ?? {}),
  };
}

/**
 * Letta's provider defaults for a new agent's `max_output_tokens` (`get_default_max_output_tokens`): Anthropic's
 * by model family, and for the OpenAI-style providers the 16384 its model specs give the common chat models.
 */
function defaultMaxOutputTokens(provider: string, model: string): number {
  if (provider !== 'anthropic') return 16384;
  if (model.includes('claude-opus-4-6') || model.includes('claude-sonnet-4-6')) return 21000;
  if (model.includes('opus') || model.includes('sonnet')) return 16384;
  return 8192;
}

export function defaultModelSettings(handle: string, parallelToolCalls: boolean | null | undefined) {
  const { provider, model } = parseHandle(handle, 'model');
  const providerType = provider === 'anthropic' ? 'anthropic' : 'openai';
  return {
    max_output_tokens: defaultMaxOutputTokens(provider, model),
    // Letta's ModelSettings default; the legacy `llm_config.parallel_tool_calls` keeps its own default of false.
    parallel_tool_calls: parallelToolCalls ?? true,
    provider_type: providerType,
    temperature: 1,
    ...(providerType === 'openai'
      ? { reasoning: { reasoning_effort: 'minimal' }, strict: false }
      : { thinking: { type: 'disabled', budget_tokens: 0 } }),
    response_format: null,
  };
}

export interface EmbeddingModelInfo {
  endpointType: string;
  dimension: number | null;
}

/** Known embedding models; an unknown model's dimension is learned from its first vector. */
export const KNOWN_EMBEDDING_MODELS: Record<string, EmbeddingModelInfo> = {
  // Upstream's enum has no value for an in-process model; `hugging-face` is the nearest (an open model run locally).
  'local/use-lite': { endpointType: 'hugging-face', dimension: 512 },
  'ollama/nomic-embed-text': { endpointType: 'ollama', dimension: 768 },
  'ollama/mxbai-embed-large': { endpointType: 'ollama', dimension: 1024 },
  'ollama/all-minilm': { endpointType: 'ollama', dimension: 384 },
  'openai/text-embedding-3-small': { endpointType: 'openai', dimension: 1536 },
  'openai/text-embedding-3-large': { endpointType: 'openai', dimension: 3072 },
  'openai/text-embedding-ada-002': { endpointType: 'openai', dimension: 1536 },
};

export const LOCAL_EMBEDDING_HANDLE = 'local/use-lite';
export const LOCAL_EMBEDDING_DIM = 512;

/** Upstream's endpoint-type enum for providers it does not name (any `/v1/embeddings` server speaks OpenAI's). */
const EMBEDDING_ENDPOINT_TYPE: Record<string, string> = { 'openai-compatible': 'openai', local: 'hugging-face' };

/** An agent's embedding handle: its own, its embedding config's, or the server default. */
export function embeddingHandleOf(
  agent: { embedding: string | null; embedding_config: string | null },
  fallback: string,
): string {
  return agent.embedding ?? parseJson<{ handle?: string } | null>(agent.embedding_config, null)?.handle ?? fallback;
}

export function embeddingConfigFor(handle: string) {
  const parsed = parseHandle(handle, 'embedding');
  const known = KNOWN_EMBEDDING_MODELS[handle];
  return {
    embedding_endpoint_type: known?.endpointType ?? EMBEDDING_ENDPOINT_TYPE[parsed.provider] ?? parsed.provider,
    embedding_endpoint: null,
    embedding_model: parsed.model,
    embedding_dim: known?.dimension ?? 0,
    embedding_chunk_size: 300,
    handle,
    batch_size: 32,
    azure_endpoint: null,
    azure_version: null,
    azure_deployment: null,
  };
}
