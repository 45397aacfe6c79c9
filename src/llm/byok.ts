import { nodeHttpFetch } from '../lib/node-http-fetch.js';
import { classifyHttpFailure } from './errors.js';
import { KNOWN_MODELS } from './models.js';
import { trimSlash, withV1, type ProviderSettings } from './settings.js';
import { LlmError } from './types.js';

/** What a client registers through `/v1/providers`: Letta's `ProviderCreate` less the name-independent parts. */
export interface ByokProviderInput {
  name: string;
  providerType: string;
  apiKey: string | undefined;
  baseUrl: string | null | undefined;
}

interface ByokKind {
  kind: ProviderSettings['kind'];
  /** Where the provider's public API lives; a type without one needs `base_url`. */
  defaultBaseUrl?: string;
  endpointType: string;
}

/**
 * The `ProviderType`s Cairn can call: Anthropic's Messages API, OpenAI's, and the many that serve OpenAI's Chat
 * Completions API at a known root. The rest (Bedrock, Vertex, Azure, ChatGPT OAuth …) need signing or OAuth flows
 * Cairn does not implement, and are refused when registered rather than failing at the first turn.
 */
const BYOK_KINDS: Record<string, ByokKind> = {
  anthropic: { kind: 'anthropic', defaultBaseUrl: 'https://api.anthropic.com/v1', endpointType: 'anthropic' },
  openai: { kind: 'openai', defaultBaseUrl: 'https://api.openai.com/v1', endpointType: 'openai' },
  openrouter: { kind: 'openai-compatible', defaultBaseUrl: 'https://openrouter.ai/api/v1', endpointType: 'openai' },
  groq: { kind: 'openai-compatible', defaultBaseUrl: 'https://api.groq.com/openai/v1', endpointType: 'groq' },
  together: { kind: 'openai-compatible', defaultBaseUrl: 'https://api.together.xyz/v1', endpointType: 'together' },
  deepseek: { kind: 'openai-compatible', defaultBaseUrl: 'https://api.deepseek.com/v1', endpointType: 'deepseek' },
  xai: { kind: 'openai-compatible', defaultBaseUrl: 'https://api.x.ai/v1', endpointType: 'xai' },
  mistral: { kind: 'openai-compatible', defaultBaseUrl: 'https://api.mistral.ai/v1', endpointType: 'mistral' },
  fireworks: {
    kind: 'openai-compatible',
    defaultBaseUrl: 'https://api.fireworks.ai/inference/v1',
    endpointType: 'openai',
  },
  cerebras: { kind: 'openai-compatible', defaultBaseUrl: 'https://api.cerebras.ai/v1', endpointType: 'openai' },
  google_ai: {
    kind: 'openai-compatible',
    defaultBaseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai',
    endpointType: 'google_ai',
  },
  zai: { kind: 'openai-compatible', defaultBaseUrl: 'https://api.z.ai/api/paas/v4', endpointType: 'zai' },
  zai_coding: {
    kind: 'openai-compatible',
    defaultBaseUrl: 'https://api.z.ai/api/coding/paas/v4',
    endpointType: 'zai',
  },
  ollama: { kind: 'openai-compatible', endpointType: 'ollama' },
  vllm: { kind: 'openai-compatible', endpointType: 'vllm' },
  sglang: { kind: 'openai-compatible', endpointType: 'openai' },
  lmstudio_openai: { kind: 'openai-compatible', endpointType: 'lmstudio' },
  baseten: { kind: 'openai-compatible', endpointType: 'openai' },
  minimax: { kind: 'openai-compatible', defaultBaseUrl: 'https://api.minimax.io/v1', endpointType: 'openai' },
};

/** Every `provider_type` a BYOK provider may have. */
export const BYOK_PROVIDER_TYPES = Object.keys(BYOK_KINDS);

export class ByokConfigError extends Error {
  override readonly name = 'ByokConfigError';
}

/**
 * `CAIRN_BYOK_BASE_URLS` (`openai=https://gateway/v1,anthropic=…`): where a BYOK provider registered without a
 * `base_url` is called instead of its type's public API. Letta Code's `connect` never sends one, so this is how an
 * operator routes those keys through an egress gateway (or, in tests, to a fake).
 */
export function byokBaseUrlsFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const pairs = (env.CAIRN_BYOK_BASE_URLS ?? '').split(',').flatMap((pair): [string, string][] => {
    const at = pair.indexOf('=');
    return at > 0 ? [[pair.slice(0, at).trim(), pair.slice(at + 1).trim()]] : [];
  });
  return Object.fromEntries(pairs.filter(([, url]) => url));
}

const MAX_API_KEY_LENGTH = 4096;

/** The settings a BYOK provider is called with; throws `ByokConfigError` for a type Cairn cannot call. */
export function byokProviderSettings(
  input: ByokProviderInput,
  defaultBaseUrls: Record<string, string> = {},
): ProviderSettings {
  const kind = BYOK_KINDS[input.providerType];
  if (!kind)
    throw new ByokConfigError(
      `provider_type '${input.providerType}' is not supported by Cairn: use one of ${Object.keys(BYOK_KINDS).join(', ')}`,
    );
  // A key travels in an HTTP header, which holds visible ASCII only; any other character is a mistyped key.
  if (input.apiKey && !/^[\x21-\x7e]+$/.test(input.apiKey))
    throw new ByokConfigError('api_key may hold only visible ASCII characters, with no spaces');
  // Providers' keys are a few hundred characters; one near the 8-16 KiB header limits of HTTP servers is a pasted
  // file, and the provider would only answer 431, which is no reason to blame the provider with a 502.
  if (input.apiKey && input.apiKey.length > MAX_API_KEY_LENGTH)
    throw new ByokConfigError(`api_key is longer than ${MAX_API_KEY_LENGTH} characters: no provider issues such keys`);
  const given = input.baseUrl?.trim() || defaultBaseUrls[input.providerType];
  const root = given || kind.defaultBaseUrl;
  if (!root) throw new ByokConfigError(`provider_type '${input.providerType}' needs a base_url`);
  if (!/^https?:\/\//i.test(root)) throw new ByokConfigError(`base_url must be an http(s) URL, got '${root}'`);
  // Ollama, vLLM and LM Studio are documented with a bare host; Anthropic's own SDKs take the host without `/v1`.
  const bareHost = ['anthropic', 'ollama', 'vllm', 'lmstudio_openai', 'sglang'].includes(input.providerType);
  return {
    name: input.name,
    kind: kind.kind,
    providerType: input.providerType,
    endpointType: kind.endpointType,
    baseUrl: given && bareHost ? withV1(given) : trimSlash(root),
    apiKey: input.apiKey || undefined,
    listing: 'openai-models',
  };
}

const LISTING_TIMEOUT_MS = 10_000;
/** OpenAI's catalogue lists embedding, image, audio and moderation models that a chat agent cannot use. */
const OPENAI_NON_CHAT = /embedding|whisper|tts|dall-e|davinci|babbage|moderation|image|audio|realtime|transcribe/;

/**
 * The provider's models, from its own `GET /models` with the key it was given: Letta's key check for OpenAI-style
 * providers, and the list Letta syncs on create and refresh. A rejected key is an `authentication` LlmError.
 */
export async function listProviderModels(settings: ProviderSettings): Promise<string[]> {
  const headers: Record<string, string> =
    settings.kind === 'anthropic'
      ? { 'x-api-key': settings.apiKey ?? '', 'anthropic-version': '2023-06-01' }
      : settings.apiKey
        ? { authorization: `Bearer ${settings.apiKey}` }
        : {};
  const url = `${settings.baseUrl}/models`;
  let response: Response;
  try {
    response = await nodeHttpFetch(url, { headers, signal: AbortSignal.timeout(LISTING_TIMEOUT_MS) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LlmError('server', `${settings.name}: could not reach ${url}: ${reason}`);
  }
  const text = await response.text();
  if (!response.ok) {
    const headerMap = Object.fromEntries(response.headers.entries());
    throw classifyHttpFailure(settings.name, response.status, text, headerMap).error;
  }
  let ids: string[];
  try {
    const body = JSON.parse(text) as { data?: { id?: unknown }[] };
    ids = (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
  } catch {
    throw new LlmError('invalid_response', `${settings.name}: ${url} did not answer with a JSON model list`);
  }
  return settings.providerType === 'openai' ? ids.filter((id) => !OPENAI_NON_CHAT.test(id)) : ids;
}

/** What to list when the provider cannot be asked: the well-known models of its type, if any. */
export const fallbackModels = (providerType: string): string[] => KNOWN_MODELS[providerType] ?? [];
