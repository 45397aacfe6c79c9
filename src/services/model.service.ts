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

/** Every provider here is configured by the operator's environment, which Letta calls the `base` category. */
function toModel(info: LlmModelInfo) {
  const config = llmConfigFor(info.handle);
  return {
    ...config,
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
  ) {}

  async llmModels(filter: ModelFilter) {
    if (filter.providerCategory && !filter.providerCategory.includes('base')) return [];
    const models = await this.llm.listModels();
    return models
      .filter(
        (m) =>
          (!filter.providerName || m.provider === filter.providerName) &&
          (!filter.providerType || (m.providerType ?? m.provider) === filter.providerType),
      )
      .map(toModel);
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
