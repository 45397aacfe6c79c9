import type { Logger } from 'pino';
import { splitHandle } from '../lib/handles.js';
import { providerContextWindow } from '../domain/models.js';
import type { LlmModelInfo } from './types.js';
import type { LlmSettings, ProviderSettings } from './settings.js';

/**
 * Models listed without asking the provider: OpenAI's and Anthropic's catalogues are long and mostly not chat
 * models, and `GET /v1/models/` is on Letta Code's startup path. Any other handle works too when sent; these are
 * the ones offered. `CAIRN_LLM_MODELS` adds more.
 */
export const KNOWN_MODELS: Record<string, string[]> = {
  openai: ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-5', 'gpt-5-mini', 'o4-mini'],
  anthropic: [
    'claude-sonnet-4-5-20250929',
    'claude-haiku-4-5-20251001',
    'claude-opus-4-1-20250805',
    'claude-sonnet-4-20250514',
  ],
};

const DISCOVERY_TIMEOUT_MS = 3000;
const DISCOVERY_TTL_MS = 60_000;

export function modelInfo(provider: ProviderSettings, model: string): LlmModelInfo {
  const handle = `${provider.name}/${model}`;
  return {
    handle,
    provider: provider.name,
    model,
    contextWindow: providerContextWindow({ provider: provider.name, model, handle }),
    providerType: provider.providerType,
    endpointType: provider.endpointType,
    endpoint: provider.baseUrl,
  };
}

/** Lists the models of local servers (Ollama's `/api/tags`, `GET /v1/models` elsewhere), cached briefly. */
export class ModelCatalog {
  private readonly cache = new Map<string, { at: number; models: string[] }>();

  constructor(
    private readonly settings: LlmSettings,
    private readonly logger: Logger,
  ) {}

  async list(defaultHandle: string | undefined): Promise<LlmModelInfo[]> {
    const providers = [...this.settings.providers.values()];
    const discovered = await Promise.all(providers.map((p) => this.discover(p)));
    const out = new Map<string, LlmModelInfo>();
    const addHandle = (handle: string) => {
      const parsed = splitHandle(handle);
      const provider = parsed && this.settings.providers.get(parsed.provider);
      if (parsed && provider && !out.has(handle)) out.set(handle, modelInfo(provider, parsed.model));
    };
    // Letta Code takes the first handle as its default model, so the server's default comes first.
    if (defaultHandle) addHandle(defaultHandle);
    this.settings.extraHandles.forEach(addHandle);
    providers.forEach((p, i) =>
      [...(KNOWN_MODELS[p.name] ?? []), ...discovered[i]!].forEach((m) => addHandle(`${p.name}/${m}`)),
    );
    return [...out.values()];
  }

  private async discover(provider: ProviderSettings): Promise<string[]> {
    if (provider.listing === 'none') return [];
    const cached = this.cache.get(provider.name);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.models;
    const url = provider.listingUrl ?? `${provider.baseUrl}/models`;
    try {
      const response = await fetch(url, {
        headers: provider.apiKey ? { authorization: `Bearer ${provider.apiKey}` } : {},
        signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as {
        data?: { id?: unknown }[];
        models?: { name?: unknown; model?: unknown }[];
      };
      const models =
        provider.listing === 'ollama-tags'
          ? (body.models ?? []).map((m) => m.name ?? m.model).filter((m): m is string => typeof m === 'string')
          : (body.data ?? []).map((m) => m.id).filter((m): m is string => typeof m === 'string');
      this.cache.set(provider.name, { at: Date.now(), models });
      return models;
    } catch (error) {
      // An unreachable local server must not break the listing of everything else.
      this.logger.warn(
        { provider: provider.name, url, err: error instanceof Error ? error.message : String(error) },
        'could not list models',
      );
      return [];
    }
  }
}
