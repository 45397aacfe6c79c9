import { z } from 'zod';
import { queryArray, queryString } from '../../../schemas/common.js';
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

/** `GET /models/`: the LLM handles usable now (their provider is configured). Embedding models: embedding-models.ts. */
export const modelRoutes: RouteModule = async (app) => {
  app.get(
    '/models/',
    { schema: { tags: ['models'], querystring: listModelsQuery, response: { 200: z.array(modelSchema) } } },
    async (request) =>
      app.services.models.llmModels({
        providerCategory: request.query.provider_category,
        providerName: request.query.provider_name,
        providerType: request.query.provider_type,
      }),
  );
};
