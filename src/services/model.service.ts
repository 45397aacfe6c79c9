import { embeddingConfigFor, llmConfigFor, parseHandle } from '../domain/models.js';
import type { Embedders } from '../embedders/index.js';
import type { LlmModelInfo, LlmProviders } from '../llm/types.js';

export interface ModelFilter {
  providerCategory?: ('base' | 'byok')[] | undefined;
  providerName?: string | undefined;
  providerType?: string | undefined;
}

/** Upstream's ProviderType enum has no `local` or `openai-compatible`; the nearest values keep clients happy. */
const EMBEDDING_PROVIDER_TYPE: Record<string, string> = { local: 'hugging-face', 'openai-compatible': 'openai' };

/** BYOK providers' models: those of the providers clients registered through `/v1/providers`. */
export interface ByokModelSource {
  byokModels(): Promise<LlmModelInfo[]>;
}

/** The operator's environment configures Letta's `base` category; `/v1/providers` registers the `byok` one. */
function toModel(info: LlmModelInfo, category: 'base' | 'byok') {
  const config = llmConfigFor(info.handle);
  return {
    ...config,
    provider_category: category,
    model_endpoint_type: info.endpointType ?? config.model_endpoint_type,
    model_endpoint: info.endpoint ?? null,
    handle: info.handle,
    name: info.model,
    display_name: info.model,
    provider_type: info.providerType ?? info.provider,
    provider_name: info.provider,
    model_type: 'llm' as const,
    max_context_window: info.contextWindow,
  };
}

/** `GET /models/` and `GET /models/embedding`: the handles usable now, because their provider is configured. */
export class ModelService {
  constructor(
    private readonly llm: LlmProviders,
    private readonly embedders: Embedders,
    private readonly byok: ByokModelSource,
  ) {}

  async llmModels(filter: ModelFilter) {
    const wants = (category: 'base' | 'byok') => !filter.providerCategory || filter.providerCategory.includes(category);
    const [base, byok] = await Promise.all([
      wants('base') ? this.llm.listModels() : [],
      wants('byok') ? this.byok.byokModels() : [],
    ]);
    const matches = (m: LlmModelInfo) =>
      (!filter.providerName || m.provider === filter.providerName) &&
      (!filter.providerType || (m.providerType ?? m.provider) === filter.providerType);
    return [
      ...base.filter(matches).map((m) => toModel(m, 'base')),
      ...byok.filter(matches).map((m) => toModel(m, 'byok')),
    ];
  }

  async embeddingModels() {
    return (await this.embedders.usable()).map((handle) => {
      const { provider, model } = parseHandle(handle, 'embedding');
      return {
        ...embeddingConfigFor(handle),
        handle,
        name: model,
        display_name: model,
        provider_type: EMBEDDING_PROVIDER_TYPE[provider] ?? provider,
        provider_name: provider,
        model_type: 'embedding' as const,
      };
    });
  }
}
