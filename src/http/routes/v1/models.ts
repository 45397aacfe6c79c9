import { z } from 'zod';
import type { LlmModelInfo } from '../../../llm/types.js';
import { queryArray, queryString } from '../../../schemas/common.js';
import { llmConfigFor } from '../../../services/model-config.js';
import type { RouteModule } from '../types.js';

const modelSchema = z
  .looseObject({
    handle: z.string().nullable(),
    name: z.string(),
    display_name: z.string().nullable(),
    provider_type: z.string(),
    provider_name: z.string().nullable(),
    model_type: z.literal('llm'),
    model: z.string(),
    model_endpoint_type: z.string(),
    context_window: z.number().int(),
    max_context_window: z.number().int(),
  })
  .meta({ id: 'Model' });

const listModelsQuery = z.object({
  provider_category: queryArray(z.enum(['base', 'byok'])),
  provider_name: queryString(),
  provider_type: queryString(),
});

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

/** `GET /models/`: the LLM handles usable now (their provider is configured). Embedding models: embedding-models.ts. */
export const modelRoutes: RouteModule = async (app) => {
  app.get(
    '/models/',
    { schema: { tags: ['models'], querystring: listModelsQuery, response: { 200: z.array(modelSchema) } } },
    async (request) => {
      const { provider_category, provider_name, provider_type } = request.query;
      if (provider_category && !provider_category.includes('base')) return [];
      const models = await app.services.llm.get().listModels();
      return models
        .filter(
          (m) =>
            (!provider_name || m.provider === provider_name) &&
            (!provider_type || (m.providerType ?? m.provider) === provider_type),
        )
        .map(toModel);
    },
  );
};
