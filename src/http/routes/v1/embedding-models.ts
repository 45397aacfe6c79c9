import { z } from 'zod';
import { embeddingConfigFor, parseHandle } from '../../../services/model-config.js';
import type { RouteModule } from '../types.js';

const embeddingModelSchema = z
  .looseObject({
    handle: z.string(),
    name: z.string(),
    display_name: z.string(),
    provider_type: z.string(),
    provider_name: z.string(),
    model_type: z.literal('embedding'),
    embedding_endpoint_type: z.string(),
    embedding_model: z.string(),
    embedding_dim: z.number().int(),
  })
  .meta({ id: 'EmbeddingModel' });

/** Upstream's ProviderType enum has no `local` or `openai-compatible`; the nearest values keep clients happy. */
const PROVIDER_TYPE: Record<string, string> = { local: 'hugging-face', 'openai-compatible': 'openai' };

/** `GET /models/embedding`: embedding handles usable now (the LLM list, `GET /models/`, lives elsewhere). */
export const embeddingModelRoutes: RouteModule = async (app) => {
  const handler = async () => {
    const handles = await app.services.embedders.usable();
    return handles.map((handle) => {
      const { provider, model } = parseHandle(handle, 'embedding');
      const config = embeddingConfigFor(handle);
      return {
        ...config,
        handle,
        name: model,
        display_name: model,
        provider_type: PROVIDER_TYPE[provider] ?? provider,
        provider_name: provider,
        model_type: 'embedding' as const,
      };
    });
  };
  const schema = { tags: ['models'], response: { 200: z.array(embeddingModelSchema) } };
  app.get('/models/embedding', { schema }, handler);
  // Letta serves the same list under both spellings.
  app.get('/models/embeddings', { schema }, handler);
};
