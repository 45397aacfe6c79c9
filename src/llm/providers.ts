import type { LanguageModelV3 } from '@ai-sdk/provider';
import pino, { type Logger } from 'pino';
import { CairnError } from '../lib/errors.js';
import { splitHandle } from '../lib/handles.js';
import { AiSdkLlmClient } from './client.js';
import { nodeHttpFetch } from '../lib/node-http-fetch.js';
import { KNOWN_MODELS, ModelCatalog } from './models.js';
import { readLlmSettings, type LlmSettings, type ProviderSettings } from './settings.js';
import type { LlmClient, LlmModelInfo, LlmProviders } from './types.js';

export interface LlmProvidersOptions {
  /** `LETTA_DEFAULT_LLM_HANDLE`: listed first, and what `letta/auto` stands for. */
  defaultHandle?: string | undefined;
  logger?: Logger | undefined;
}

/** Letta Code asks for `letta/auto` (model and compaction model) when the server lists no models. */
const AUTO_HANDLE = 'letta/auto';

type ModelFactory = (modelId: string) => LanguageModelV3;

/** Each provider's AI SDK module, imported on first use: together they cost ~250 ms of every cold start. */
async function loadModel(provider: ProviderSettings, id: string): Promise<LanguageModelV3> {
  switch (provider.kind) {
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      // Chat Completions rather than the Responses API: every OpenAI-compatible proxy and gateway speaks it.
      return createOpenAI({ apiKey: provider.apiKey, baseURL: provider.baseUrl, fetch: nodeHttpFetch }).chat(id);
    }
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      return createAnthropic({ apiKey: provider.apiKey, baseURL: provider.baseUrl, fetch: nodeHttpFetch }).messages(id);
    }
    case 'openai-compatible': {
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      return createOpenAICompatible({
        name: provider.name,
        baseURL: provider.baseUrl,
        apiKey: provider.apiKey,
        includeUsage: true,
        fetch: nodeHttpFetch,
      }).chatModel(id);
    }
  }
}

/** A model whose provider module loads at its first call, so `resolve()` stays synchronous and cheap. */
function factoryFor(provider: ProviderSettings): ModelFactory {
  return (modelId) => {
    let real: Promise<LanguageModelV3> | undefined;
    const model = () => (real ??= loadModel(provider, modelId));
    return {
      specificationVersion: 'v3',
      provider: provider.name,
      modelId,
      supportedUrls: {},
      doGenerate: async (options) => (await model()).doGenerate(options),
      doStream: async (options) => (await model()).doStream(options),
    };
  };
}

/** The configured providers, resolving `provider/model` handles to clients. */
export class CairnLlmProviders implements LlmProviders {
  private readonly factories = new Map<string, ModelFactory>();
  private readonly clients = new Map<string, LlmClient>();
  /** BYOK providers, registered through the API and stored in the database; the environment's win on a name. */
  private byok = new Map<string, ProviderSettings>();
  private readonly catalog: ModelCatalog;
  private readonly logger: Logger;

  constructor(
    readonly settings: LlmSettings,
    private readonly options: LlmProvidersOptions = {},
  ) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.catalog = new ModelCatalog(settings, this.logger);
  }

  /** Synchronous and network-free, so a missing setting fails the request at once instead of hanging. */
  resolve(handle: string): LlmClient {
    const target = handle === AUTO_HANDLE ? this.autoHandle() : handle;
    const cached = this.clients.get(target);
    if (cached) return cached;
    const parsed = splitHandle(target);
    if (!parsed) throw new CairnError(400, `Invalid model handle '${handle}': expected 'provider/model'`);
    const name = parsed.provider;
    const provider = this.settings.providers.get(name) ?? this.byok.get(name);
    if (!provider) throw this.notConfigured(name, handle, target);
    let factory = this.factories.get(name);
    if (!factory) this.factories.set(name, (factory = factoryFor(provider)));
    const client = new AiSdkLlmClient(
      factory(parsed.model),
      provider,
      this.settings.call,
      this.logger.child({ provider: name }),
    );
    this.clients.set(target, client);
    return client;
  }

  /** The default handle when its provider is configured, else the first known model of a configured provider. */
  private autoHandle(): string {
    const fallback = this.options.defaultHandle ?? AUTO_HANDLE;
    if (this.settings.providers.has(splitHandle(fallback)?.provider ?? '')) return fallback;
    for (const provider of this.settings.providers.keys()) {
      const known = KNOWN_MODELS[provider]?.[0];
      if (known) return `${provider}/${known}`;
    }
    return fallback;
  }

  listModels(): Promise<LlmModelInfo[]> {
    return this.catalog.list(this.options.defaultHandle);
  }

  configured(): ProviderSettings[] {
    return [...this.settings.providers.values()];
  }

  useByok(providers: ProviderSettings[]): void {
    const next = new Map(providers.map((p) => [p.name, p]));
    // A changed key or URL must not keep serving through the client built with the old one.
    for (const [name, old] of this.byok) {
      const now = next.get(name);
      if (now && now.apiKey === old.apiKey && now.baseUrl === old.baseUrl && now.kind === old.kind) continue;
      this.factories.delete(name);
      for (const handle of this.clients.keys()) if (splitHandle(handle)?.provider === name) this.clients.delete(handle);
    }
    this.byok = next;
  }

  private notConfigured(name: string, handle: string, target: string): CairnError {
    const via = target === handle ? '' : ` ('${handle}' stands for LETTA_DEFAULT_LLM_HANDLE '${target}')`;
    const requirement = this.settings.requirements.get(name);
    if (requirement)
      return new CairnError(400, `Provider '${name}' is not configured: set ${requirement.setting}${via}`);
    const known = [...this.settings.providers.keys(), ...this.settings.requirements.keys()].join(', ');
    return new CairnError(400, `Unknown model provider '${name}' in handle '${target}'${via}: Cairn serves ${known}`);
  }
}

export function createLlmProviders(env: NodeJS.ProcessEnv, options: LlmProvidersOptions = {}): CairnLlmProviders {
  return new CairnLlmProviders(readLlmSettings(env), options);
}
