/**
 * Which LLM providers this server can use, read once from the environment. Names follow Letta's where Letta has
 * one (`OPENAI_API_KEY`, `OPENAI_API_BASE`, `ANTHROPIC_API_KEY`, `OLLAMA_BASE_URL`, `VLLM_API_BASE`,
 * `LMSTUDIO_BASE_URL`, `OPENROUTER_API_KEY`, `LETTA_LLM_*_TIMEOUT_SECONDS`); Cairn's own are prefixed `CAIRN_`.
 */

export type ProviderKind = 'openai' | 'anthropic' | 'openai-compatible';
export type ModelListing = 'none' | 'openai-models' | 'ollama-tags';

export interface ProviderSettings {
  /** The handle prefix: `openai` in `openai/gpt-4o-mini`. */
  name: string;
  kind: ProviderKind;
  /** Upstream's `ProviderType` and `model_endpoint_type` values, for the Model objects. */
  providerType: string;
  endpointType: string;
  baseUrl: string;
  apiKey: string | undefined;
  /** How `GET /v1/models/` discovers this provider's models beyond the known ones. */
  listing: ModelListing;
  /** Where the listing is fetched from when it is not under `baseUrl` (Ollama's native `/api/tags`). */
  listingUrl?: string | undefined;
}

/** How a provider that is not configured can be: the setting the operator has to add. */
export interface ProviderRequirement {
  name: string;
  setting: string;
}

export interface LlmCallSettings {
  requestTimeoutMs: number;
  streamTimeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  /** A `retry-after` longer than this is not waited for: the call fails with `rate_limit` at once. */
  maxRetryWaitMs: number;
}

export interface LlmSettings {
  providers: Map<string, ProviderSettings>;
  requirements: Map<string, ProviderRequirement>;
  call: LlmCallSettings;
  /** `CAIRN_LLM_MODELS`: extra handles to list (for providers whose catalogue Cairn does not fetch). */
  extraHandles: string[];
}

export const GENERIC_PROVIDER_NAME = 'openai-compatible';

export const trimSlash = (url: string) => url.replace(/\/+$/, '');
/** Servers documented with a bare host (`http://localhost:11434`) serve the OpenAI API under `/v1`. */
export const withV1 = (url: string) => (/\/v1$/.test(trimSlash(url)) ? trimSlash(url) : `${trimSlash(url)}/v1`);
const withoutV1 = (url: string) => trimSlash(url).replace(/\/v1$/, '');

function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n * 1000 : fallback * 1000;
}

function count(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

export function readLlmSettings(env: NodeJS.ProcessEnv): LlmSettings {
  const get = (name: string) => env[name]?.trim() || undefined;
  const providers = new Map<string, ProviderSettings>();
  const requirements = new Map<string, ProviderRequirement>();
  const add = (settings: ProviderSettings) => providers.set(settings.name, settings);
  const need = (name: string, setting: string) => requirements.set(name, { name, setting });

  const openaiKey = get('OPENAI_API_KEY');
  if (openaiKey) {
    const baseUrl = trimSlash(get('OPENAI_BASE_URL') ?? get('OPENAI_API_BASE') ?? 'https://api.openai.com/v1');
    add({
      name: 'openai',
      kind: 'openai',
      providerType: 'openai',
      endpointType: 'openai',
      baseUrl,
      apiKey: openaiKey,
      listing: 'none',
    });
  } else need('openai', 'OPENAI_API_KEY');

  const anthropicKey = get('ANTHROPIC_API_KEY');
  if (anthropicKey) {
    // Anthropic's own SDKs take the host without `/v1`; the AI SDK wants it with.
    const baseUrl = withV1(get('ANTHROPIC_BASE_URL') ?? 'https://api.anthropic.com');
    add({
      name: 'anthropic',
      kind: 'anthropic',
      providerType: 'anthropic',
      endpointType: 'anthropic',
      baseUrl,
      apiKey: anthropicKey,
      listing: 'none',
    });
  } else need('anthropic', 'ANTHROPIC_API_KEY');

  const ollama = get('OLLAMA_BASE_URL');
  if (ollama) {
    add({
      name: 'ollama',
      kind: 'openai-compatible',
      providerType: 'ollama',
      endpointType: 'ollama',
      baseUrl: withV1(ollama),
      apiKey: undefined,
      listing: 'ollama-tags',
      listingUrl: `${withoutV1(ollama)}/api/tags`,
    });
  } else need('ollama', 'OLLAMA_BASE_URL (e.g. http://localhost:11434)');

  const openrouterKey = get('OPENROUTER_API_KEY');
  if (openrouterKey) {
    const baseUrl = trimSlash(get('OPENROUTER_BASE_URL') ?? 'https://openrouter.ai/api/v1');
    add({
      name: 'openrouter',
      kind: 'openai-compatible',
      providerType: 'openrouter',
      endpointType: 'openrouter',
      baseUrl,
      apiKey: openrouterKey,
      listing: 'none',
    });
  } else need('openrouter', 'OPENROUTER_API_KEY');

  const vllm = get('VLLM_API_BASE') ?? get('VLLM_BASE_URL');
  if (vllm)
    add({
      name: 'vllm',
      kind: 'openai-compatible',
      providerType: 'vllm',
      endpointType: 'vllm',
      baseUrl: withV1(vllm),
      apiKey: get('VLLM_API_KEY'),
      listing: 'openai-models',
    });
  else need('vllm', 'VLLM_API_BASE (e.g. http://localhost:8000)');

  const lmstudio = get('LMSTUDIO_BASE_URL');
  if (lmstudio)
    add({
      name: 'lmstudio',
      kind: 'openai-compatible',
      providerType: 'lmstudio_openai',
      endpointType: 'lmstudio',
      baseUrl: withV1(lmstudio),
      apiKey: undefined,
      listing: 'openai-models',
    });
  else need('lmstudio', 'LMSTUDIO_BASE_URL (e.g. http://localhost:1234)');

  // Any other OpenAI-compatible server (llama.cpp's llama-server, TGI, a proxy …), under a prefix the operator picks.
  const genericName = get('CAIRN_OPENAI_COMPATIBLE_NAME') ?? GENERIC_PROVIDER_NAME;
  const generic = get('CAIRN_OPENAI_COMPATIBLE_BASE_URL');
  if (generic) {
    add({
      name: genericName,
      kind: 'openai-compatible',
      providerType: 'openai',
      endpointType: genericName === 'llama.cpp' ? 'llamacpp' : 'openai',
      baseUrl: trimSlash(generic),
      apiKey: get('CAIRN_OPENAI_COMPATIBLE_API_KEY'),
      listing: 'openai-models',
    });
  } else need(genericName, 'CAIRN_OPENAI_COMPATIBLE_BASE_URL (its OpenAI API root, e.g. http://localhost:8080/v1)');

  return {
    providers,
    requirements,
    call: {
      requestTimeoutMs: seconds(get('LETTA_LLM_REQUEST_TIMEOUT_SECONDS'), 60),
      streamTimeoutMs: seconds(get('LETTA_LLM_STREAM_TIMEOUT_SECONDS'), 600),
      maxRetries: count(get('CAIRN_LLM_MAX_RETRIES'), 3),
      retryBaseMs: count(get('CAIRN_LLM_RETRY_BASE_MS'), 1000),
      maxRetryWaitMs: seconds(get('CAIRN_LLM_MAX_RETRY_WAIT_SECONDS'), 60),
    },
    extraHandles: (get('CAIRN_LLM_MODELS') ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
  };
}
