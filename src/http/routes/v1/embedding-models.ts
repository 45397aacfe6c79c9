import { z } from 'zod';
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

/** `GET /models/embedding`: embedding handles usable now (the LLM list, `GET /models/`, lives elsewhere). */
export const embeddingModelRoutes: RouteModule = async (app) => {
  const handler = () => app.services.models.embeddingModels();
  const schema = { tags: ['models'], response: { 200: z.array(embeddingModelSchema) } };
  app.get('/models/embedding', { schema }, handler);
  // Letta serves the same list under both spellings.
  app.get('/models/embeddings', { schema }, handler);
};
